"""An attachment slot of a record: its label, whether it is required, and the files in it.
Enter opens the slot to add or remove files."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Static

from zctui.data.forms import SlotSpec


class SlotField(Static, can_focus=True):
    DEFAULT_CSS = """
    SlotField { height: 1; padding: 0 1; }
    SlotField:focus { background: $accent 30%; }
    SlotField.-missing { color: $warning; }
    """
    BINDINGS = [Binding("enter", "open", "管理附件", id="slot-open")]

    class Open(Message):
        def __init__(self, slot: SlotField) -> None:
            super().__init__()
            self.slot = slot

    def __init__(self, spec: SlotSpec, files: list[str], *, required: bool) -> None:
        super().__init__(id=f"slot-{spec.code}")
        self.spec = spec
        self.required = required
        self.files = files
        self._paint()

    def _paint(self) -> None:
        star = "*" if self.required else " "
        if self.files:
            names = "、".join(self.files[:2]) + ("…" if len(self.files) > 2 else "")
            state = f"{len(self.files)} 个文件：{names}"
        else:
            state = "未上传" + ("（必传）" if self.required else "")
        self.update(f"📎{star}{self.spec.label}  {state}")
        self.set_class(self.required and not self.files, "-missing")

    def set_files(self, files: list[str], required: bool | None = None) -> None:
        if required is not None:
            self.required = required
        self.files = files
        self._paint()

    def help_topic(self) -> tuple[str, str, str, str]:
        return self.spec.topic()

    def action_open(self) -> None:
        self.post_message(self.Open(self))
