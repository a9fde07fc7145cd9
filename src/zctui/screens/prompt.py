"""A confirmation that asks for one line of text: the reason of 评审不通过 (required), the
certificate number of 发放证书 (optional: blank lets the server make one)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static


class PromptScreen(ModalScreen[str | None]):
    """Dismissed with the text (stripped; "" when blank is allowed), or None when cancelled."""

    DEFAULT_CSS = """
    PromptScreen { align: center middle; }
    PromptScreen > Vertical {
        width: 72; max-width: 95%; height: auto; border: round $warning;
        padding: 0 1; background: $surface;
    }
    PromptScreen Horizontal { height: auto; align-horizontal: right; }
    PromptScreen Button { margin-left: 1; min-width: 10; }
    PromptScreen #prompt-error { color: $error; }
    """
    BINDINGS = [Binding("escape", "cancel", "取消", id="prompt-cancel")]

    def __init__(
        self,
        title: str,
        text: str,
        *,
        placeholder: str = "",
        required: str | None = None,
        max_length: int = 1000,
        yes: str = "确认",
        value: str = "",
    ) -> None:
        """`required`: the message shown when the text is left blank (None: blank is fine)."""
        super().__init__()
        self.title_text, self.text, self.placeholder = title, text, placeholder
        self.required, self.max_length, self.yes = required, max_length, yes
        self.value = value  # what was typed last time, when the server refused it

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, markup=False)
            yield Static(self.text, markup=False)
            yield Input(
                self.value,
                placeholder=self.placeholder,
                max_length=self.max_length,
                compact=True,
                id="prompt-input",
            )
            yield Static("", id="prompt-error", markup=False)
            with Horizontal():
                yield Button("取消", id="no")
                yield Button(self.yes, id="yes", variant="warning")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def _confirm(self) -> None:
        value = self.query_one(Input).value.strip()
        if not value and self.required:
            self.query_one("#prompt-error", Static).update(self.required)
            self.query_one(Input).focus()
            return
        self.dismiss(value)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self._confirm()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "yes":
            self._confirm()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
