"""A multi-line text field that shows its count against the limit (lines or characters)."""

from __future__ import annotations

from textual.app import ComposeResult, RenderResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import TextArea

from zctui.domain.validators import count_lines


def counter_text(text: str, max_len: int | None, max_lines: int | None) -> str:
    if max_lines is not None:
        return f"{count_lines(text)}/{max_lines} 行"
    if max_len is not None:
        return f"{len(text)}/{max_len}"
    return ""


class Counter(Widget):
    """`12/100` or `3/17 行`. Repaints only itself: a Static would re-lay out the whole form
    on every keystroke, which costs kilobytes per key over SSH."""

    DEFAULT_CSS = """
    Counter { height: 1; width: 8; color: $text-muted; text-align: right; }
    Counter.-over { color: $error; }
    """
    text: reactive[str] = reactive("", layout=False)

    def __init__(self, text: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.set_reactive(Counter.text, text)

    def render(self) -> RenderResult:
        return self.text


class CountedTextArea(Vertical):
    """The 工作总结摘要 editor shows `12/17 行`; 经历内容 shows `120/500`."""

    DEFAULT_CSS = """
    CountedTextArea { height: auto; }
    CountedTextArea > TextArea { height: 6; border: none; padding: 0 1; }
    CountedTextArea > Counter { width: 1fr; }
    """

    def __init__(
        self, text: str, *, max_len: int | None, max_lines: int | None, **kwargs: object
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._text = text
        self.max_len = max_len
        self.max_lines = max_lines

    def compose(self) -> ComposeResult:
        yield TextArea(self._text, soft_wrap=True, show_line_numbers=False)
        yield Counter(counter_text(self._text, self.max_len, self.max_lines), classes="counter")

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        text = event.text_area.text
        counter = self.query_one(Counter)
        counter.text = counter_text(text, self.max_len, self.max_lines)
        over = (self.max_lines is not None and count_lines(text) > self.max_lines) or (
            self.max_len is not None and len(text) > self.max_len
        )
        counter.set_class(over, "-over")
