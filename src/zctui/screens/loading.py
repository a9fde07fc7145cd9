"""The first frame: who and which year (read with the standard library), while the catalog,
the store and the application load on a worker thread (most of a second)."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Header, Static


class LoadingScreen(Screen[None]):
    DEFAULT_CSS = """
    LoadingScreen #side { width: 30; height: 1fr; border-right: vkey $foreground 20%; }
    LoadingScreen #message { width: 1fr; height: 1fr; padding: 1 2; }
    LoadingScreen #message.-failed { color: $error; }
    """

    def __init__(self, title: str | None) -> None:
        super().__init__()
        self.title = title or "河北省职称申报"
        self.sub_title = "正在打开…"
        self.typed_ahead: list[events.Key] = []  # replayed into the form once it is up

    def compose(self) -> ComposeResult:
        yield Header(icon="职")
        with Horizontal():
            yield Static("", id="side")
            yield Static("正在打开工作区…", id="message")
        yield Footer()

    def on_key(self, event: events.Key) -> None:
        """Keys pressed while loading are kept, not dropped: a user who starts typing at
        once (the first field is focused when the form opens) loses nothing."""
        event.stop()
        event.prevent_default()
        self.typed_ahead.append(events.Key(event.key, event.character))

    def failed(self, message: str) -> None:
        """The workspace cannot be opened: say why; what is in the file stays untouched."""
        self.sub_title = "无法打开"
        widget = self.query_one("#message", Static)
        widget.update(message)
        widget.add_class("-failed")
