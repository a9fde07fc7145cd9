"""The reviewer's marks on one application: the items to send back, each with its reason,
listed beside the read-only form. Del removes the highlighted mark."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from zctui.data.forms import Forms
from zctui.sync.api import ReturnItem
from zctui.widgets.return_reasons import item_text

EMPTY = "（尚无标记）F3 标记当前部分的问题"
KEYS = "F3 标记问题 · Del 删除标记\nF4 退回申报 · F6 审核通过\nEsc 返回审核列表"


class ReviewMarks(Vertical):
    DEFAULT_CSS = """
    ReviewMarks { width: 40; height: 1fr; border-left: vkey $foreground 20%; padding: 0 1; }
    ReviewMarks > #marks-state { height: auto; color: $accent; text-style: bold; }
    ReviewMarks > OptionList { height: 1fr; border: none; }
    ReviewMarks > #marks-keys { height: auto; color: $text-muted; }
    """
    BINDINGS = [Binding("delete", "remove", "删除标记", id="marks-remove")]

    class Changed(Message):
        """The marks changed (added or removed): the screen keeps them on disk."""

    def __init__(self, forms: Forms, marks: list[ReturnItem], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.forms = forms
        self.marks = list(marks)

    def help_topic(self) -> tuple[str, str, str, str]:
        return (
            "审核意见",
            "R12",
            "逐项标记需要申报人修改的地方并写明原因，按 F4 连同意见退回；"
            "没有问题按 F6 审核通过，报送职改办。",
            "",
        )

    def compose(self) -> ComposeResult:
        yield Static("", id="marks-state", markup=False)
        yield Static("审核意见（退回时逐项发给申报人）", markup=False)
        yield OptionList(id="marks-list")
        yield Static(KEYS, id="marks-keys", markup=False)

    def on_mount(self) -> None:
        self._fill()

    def show_state(self, text: str) -> None:
        self.query_one("#marks-state", Static).update(text)

    def add(self, mark: ReturnItem) -> None:
        self.marks.append(mark)
        self._fill()
        self.query_one(OptionList).highlighted = len(self.marks) - 1
        self.post_message(self.Changed())

    def clear(self) -> None:
        self.marks = []
        self._fill()
        self.post_message(self.Changed())

    def action_remove(self) -> None:
        options = self.query_one(OptionList)
        i = options.highlighted
        if i is None or not self.marks or i >= len(self.marks):
            return
        del self.marks[i]
        self._fill()
        if self.marks:
            options.highlighted = min(i, len(self.marks) - 1)
        self.post_message(self.Changed())

    def _fill(self) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        if not self.marks:
            options.add_option(Option(EMPTY, disabled=True))
            return
        options.add_options(
            Option(f"{i}. {item_text(self.forms, m.section, m.field, m.reason)}")
            for i, m in enumerate(self.marks, 1)
        )
