"""Whether what the user typed is on disk: 已保存, 保存中…, or a failed save being retried.

A one-line widget of fixed size, so a change repaints one line, not the screen (the header
would reflow: kilobytes per keystroke over SSH)."""

from __future__ import annotations

from textual.widgets import Static

SAVED, SAVING, FAILED = "✓ 已保存", "… 保存中", "✗ 保存失败，正在重试"


class SaveState(Static):
    DEFAULT_CSS = """
    SaveState { height: 1; width: 1fr; color: $text-muted; }
    SaveState.-failed { color: $error; text-style: bold; }
    """

    def show(self, pending: int, failed: bool) -> None:
        text = FAILED if failed else SAVING if pending else SAVED
        if str(self.content) != text:
            self.update(text, layout=False)
            self.set_class(failed, "-failed")

    def saving(self) -> None:
        """A key is on its way to a field: not saved until the session has it."""
        if self.has_class("-failed"):
            return  # the failure stays visible until the retry succeeds
        if str(self.content) != SAVING:
            self.update(SAVING, layout=False)
