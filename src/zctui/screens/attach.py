"""A slot's files: the list, add one by path, remove one. (Checks on the files, a browsing
picker and progress for many files come with the attachments issue.)"""

from __future__ import annotations

import uuid
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from zctui.data.forms import SectionSpec, SlotSpec
from zctui.store.session import AttachRefused, EditSession, ReadOnlyError


def human_size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


class AttachScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    AttachScreen { align: center middle; }
    AttachScreen > Vertical {
        width: 72; max-width: 98%; height: auto; max-height: 90%;
        border: round $accent; padding: 0 1; background: $surface;
    }
    AttachScreen OptionList { height: auto; max-height: 8; border: none; }
    AttachScreen .hint { color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape", "dismiss", "关闭", id="attach-close"),
        Binding("delete", "remove", "删除所选文件", id="attach-remove"),
    ]

    def __init__(
        self, session: EditSession, section: SectionSpec, owner_id: uuid.UUID, slot: SlotSpec
    ) -> None:
        super().__init__()
        self.session, self.section, self.owner_id, self.slot = session, section, owner_id, slot

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"{self.slot.label}  [{self.slot.rule}]", markup=False)
            yield Static(self.slot.help, classes="hint", markup=False)
            yield OptionList()
            yield Input(placeholder="文件路径，回车添加（如 ~/扫描/封面.pdf）", compact=True)
            yield Static("回车添加 · Delete 删除所选 · Esc 关闭", classes="hint")

    def on_mount(self) -> None:
        self._list()
        self.query_one(Input).focus()

    def _list(self) -> None:
        ol = self.query_one(OptionList)
        ol.clear_options()
        for a in self.session.files(self.owner_id, self.slot.code):
            ol.add_option(Option(f"{a.original_name}  {human_size(a.size)}", id=str(a.id)))

    @on(Input.Submitted)
    def _add(self, event: Input.Submitted) -> None:
        path = Path(event.value.strip()).expanduser()
        if not path.is_file():
            self.notify(f"找不到文件：{path}。请输入文件的完整路径。", severity="error")
            return
        event.input.value = ""
        self._attach_file(path)

    @work(thread=True, exclusive=True)
    def _attach_file(self, path: Path) -> None:
        try:
            self.session.attach_file(self.section, self.owner_id, self.slot.code, path)
        except (AttachRefused, OSError, ReadOnlyError) as exc:
            self.app.call_from_thread(self.notify, f"未能添加：{exc}", severity="error")
            return
        self.app.call_from_thread(self._list)

    def action_remove(self) -> None:
        ol = self.query_one(OptionList)
        if ol.highlighted is None:
            return
        option = ol.get_option_at_index(ol.highlighted)
        if option.id:
            self.session.remove_file(uuid.UUID(option.id))
            self._list()
