"""Confirmations: yes/no for deletions and submission, a typed word for 清空 (R12.1)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static


class ConfirmScreen(ModalScreen[bool]):
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 64; max-width: 95%; height: auto; border: round $warning;
        padding: 0 1; background: $surface;
    }
    ConfirmScreen Horizontal { height: auto; align-horizontal: right; }
    ConfirmScreen Button { margin-left: 1; min-width: 10; }
    """
    BINDINGS = [Binding("escape", "cancel", "取消", id="confirm-cancel")]

    def __init__(self, title: str, text: str, *, yes: str = "确认", no: str = "取消") -> None:
        super().__init__()
        self.title_text, self.text, self.yes, self.no = title, text, yes, no

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, markup=False)
            yield Static(self.text, markup=False)
            with Horizontal():
                yield Button(self.no, id="no")
                yield Button(self.yes, id="yes", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_cancel(self) -> None:
        self.dismiss(False)


class TypedConfirmScreen(ModalScreen[bool]):
    """清空 must be typed out: a stray Enter cannot erase an application."""

    DEFAULT_CSS = """
    TypedConfirmScreen { align: center middle; }
    TypedConfirmScreen > Vertical {
        width: 64; max-width: 95%; height: auto; border: round $error;
        padding: 0 1; background: $surface;
    }
    """
    BINDINGS = [Binding("escape", "cancel", "取消", id="typed-cancel")]

    def __init__(self, text: str, word: str) -> None:
        super().__init__()
        self.text, self.word = text, word

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.text, markup=False)
            yield Static(f"请输入“{self.word}”后按回车确认，Esc 取消：", markup=False)
            yield Input(compact=True)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip() == self.word:
            self.dismiss(True)
        else:
            self.notify(f"输入的不是“{self.word}”，未执行", severity="warning")

    def action_cancel(self) -> None:
        self.dismiss(False)
