"""A select that filters as you type: by characters or by pinyin initials (`zywk` → 中医外科)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.events import DescendantBlur
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from zctui.data.base import Labelled

Options = Callable[[], Sequence[Labelled]]


class PinyinSelect(Vertical):
    """Shows the chosen label; typing opens a filtered list; ↑↓ move, Enter picks, Esc closes."""

    DEFAULT_CSS = """
    PinyinSelect { height: auto; }
    PinyinSelect > OptionList { display: none; max-height: 6; border: none; }
    PinyinSelect.-open > OptionList { display: block; }
    """
    BINDINGS = [
        Binding("down", "move(1)", "下一项", show=False, id="select-down"),
        Binding("up", "move(-1)", "上一项", show=False, id="select-up"),
        Binding("escape", "close", "收起", show=False, id="select-close"),
    ]

    class Changed(Message):
        def __init__(self, select: PinyinSelect, value: str | None) -> None:
            super().__init__()
            self.select = select
            self.value = value

        @property
        def control(self) -> PinyinSelect:
            return self.select

    def __init__(
        self, options: Options, value: str | None = None, *, placeholder: str = "", **kwargs: object
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._options = options
        self.value = value
        self._placeholder = placeholder or "输入汉字或拼音首字母筛选"
        self._shown: list[Labelled] = []
        self._list: OptionList | None = None  # made on first use: most selects are never opened

    def label_of(self, value: str | None) -> str:
        if value is None:
            return ""
        found = next((o for o in self._options() if o.code == value), None)
        return found.label if found else value

    def compose(self) -> ComposeResult:
        yield Input(self.label_of(self.value), placeholder=self._placeholder, compact=True)

    def option_list(self) -> OptionList:
        if self._list is None:
            self._list = OptionList()
            self.mount(self._list)
        return self._list

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    def _fill(self, query: str) -> None:
        matches = [o for o in self._options() if o.matches(query)]
        self._shown = matches
        ol = self.option_list()
        ol.clear_options()
        ol.add_options(Option(o.label, id=o.code) for o in matches[:200])
        if matches:
            ol.highlighted = 0
        self.set_class(bool(matches), "-open")

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        if event.value == self.label_of(self.value):
            return  # our own write-back of the chosen label
        self._fill(event.value)

    def action_move(self, step: int) -> None:
        if not self.has_class("-open"):
            self._fill("")
            return
        ol = self.option_list()
        if ol.option_count:
            ol.highlighted = ((ol.highlighted or 0) + step) % ol.option_count

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Esc with the list closed belongs to the dialog around us (closes a record form)
        return action != "close" or self.has_class("-open")

    def action_close(self) -> None:
        self.remove_class("-open")
        self.input.value = self.label_of(self.value)

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        event.stop()
        ol = self.option_list()
        if self.has_class("-open") and ol.highlighted is not None:
            option = ol.get_option_at_index(ol.highlighted)
            self.choose(option.id)
        else:
            self._fill("")

    @on(OptionList.OptionSelected)
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.choose(event.option.id)

    def choose(self, code: str | None) -> None:
        self.remove_class("-open")
        changed = code != self.value
        self.value = code
        self.input.value = self.label_of(code)
        if changed:
            self.post_message(self.Changed(self, code))

    def _on_descendant_blur(self, event: DescendantBlur) -> None:
        if not self.has_focus_within:
            self.action_close()

    def refresh_options(self) -> None:
        """The list depends on another field (series → specialty): show the current label."""
        self.input.value = self.label_of(self.value)
