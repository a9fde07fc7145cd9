"""F1: the guide's words and the rule for the focused field, slot, section or step."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


@runtime_checkable
class HasHelp(Protocol):
    """A widget that can say what it is: (label, rule id, our help, the guide's words)."""

    def help_topic(self) -> tuple[str, str, str, str]: ...


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 70; max-width: 95%; height: auto; max-height: 90%;
        border: round $accent; padding: 0 1; background: $surface;
    }
    HelpScreen .title { text-style: bold; }
    HelpScreen .guide { color: $text; margin-top: 1; }
    HelpScreen .hint { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [
        Binding("escape,f1,q", "dismiss", "关闭", id="help-close"),
    ]

    def __init__(self, label: str, rule: str, help_text: str, guide: str) -> None:
        super().__init__()
        self.topic = (label, rule, help_text, guide)

    def compose(self) -> ComposeResult:
        label, rule, help_text, guide = self.topic
        with VerticalScroll():
            yield Static(f"{label}  [{rule}]", classes="title", markup=False)
            if help_text:
                yield Static(help_text, markup=False)
            if guide:
                yield Static(f"指南原文：{guide}", classes="guide", markup=False)
            yield Static("Esc 关闭", classes="hint")
