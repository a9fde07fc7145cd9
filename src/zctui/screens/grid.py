"""Grid entry for a unit administrator (issue 7): one section for many people at once, e.g.
annual appraisals (R8.1) with a row a person and a column a year. Each valid cell is saved
as it is confirmed (store + outbox, so it syncs); a wrong one stays on screen, red, with its
message, and is not saved until fixed; locked applications (R12.2) are dimmed and refuse.

Open it with the applications to show, in the table's order:
`app.push_screen(GridScreen(store, application_ids, section="annual_appraisal"))`.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Static

from zctui.data.base import Labelled
from zctui.screens.confirm import ConfirmScreen
from zctui.store.grid import SectionGrid
from zctui.store.repository import Store
from zctui.widgets.bindings_footer import BindingsFooter
from zctui.widgets.grid_table import GridTable
from zctui.widgets.pinyin_select import PinyinSelect
from zctui.widgets.save_state import SaveState


class CodePickScreen(ModalScreen[str | None]):
    """A coded cell's table (考核档次 …): type to filter (pinyin initials too), Enter picks."""

    DEFAULT_CSS = """
    CodePickScreen { align: center middle; }
    CodePickScreen > Vertical {
        width: 40; height: auto; border: round $accent; padding: 0 1; background: $surface;
    }
    """
    BINDINGS = [Binding("escape", "cancel", "取消", id="pick-cancel")]

    def __init__(self, title: str, options: Sequence[Labelled], value: str | None) -> None:
        super().__init__()
        self.title_text, self.options, self.value = title, tuple(options), value

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, markup=False)
            yield PinyinSelect(lambda: self.options, self.value)

    def on_mount(self) -> None:
        select = self.query_one(PinyinSelect)
        select.input.focus()
        select.action_move(1)  # the list open at once: ↑↓ and Enter, or type to filter

    @on(PinyinSelect.Changed)
    def _chosen(self, event: PinyinSelect.Changed) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class GridScreen(Screen[None]):
    DEFAULT_CSS = """
    GridScreen > #grid-title { height: 1; padding: 0 1; text-style: bold; }
    GridScreen > #grid-status { height: 2; padding: 0 1; color: $text-muted; }
    GridScreen > #grid-status.-error { color: $error; }
    GridScreen > SaveState { padding: 0 1; }
    """
    BINDINGS = [Binding("escape", "close", "返回（已自动保存）", id="grid-close")]

    class Opened(Message):
        """The worker has read the applications: the grid can be drawn."""

        def __init__(self, grid: SectionGrid) -> None:
            super().__init__()
            self.grid = grid

    class Failed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Saved(Message):
        """The writer put what was queued on disk (or is retrying a failure)."""

    def __init__(
        self, store: Store, application_ids: Sequence[uuid.UUID], section: str = "annual_appraisal"
    ) -> None:
        super().__init__()
        self.store = store
        self.application_ids = list(application_ids)
        self.section_code = section
        self.grid: SectionGrid | None = None

    def compose(self) -> ComposeResult:
        yield Static(f"正在读取 {len(self.application_ids)} 份申报…", id="grid-title", markup=False)
        yield Static("", id="grid-status", markup=False)
        yield SaveState("")
        yield BindingsFooter()

    def on_mount(self) -> None:
        self._open()

    @work(thread=True, exclusive=True, group="grid-open")
    def _open(self) -> None:
        try:
            grid = SectionGrid(
                self.store, self.application_ids, self.section_code, on_saved=self._saved
            )
        except Exception as exc:  # a bad id or section: say so, keep the app running
            self.post_message(self.Failed(f"无法打开表格录入：{exc}。请返回后重新选择申报。"))
            return
        self.post_message(self.Opened(grid))

    async def on_grid_screen_opened(self, event: Opened) -> None:
        self.grid = event.grid
        people = len(event.grid.rows)
        self.query_one("#grid-title", Static).update(f"{event.grid.title} · {people}人")
        table = GridTable(event.grid)
        await self.mount(table, before="#grid-status")
        self.query_one(SaveState).show(0, False)
        table.focus()

    def on_grid_screen_failed(self, event: Failed) -> None:
        self._status(event.text, True)

    def _saved(self) -> None:
        """On the writer thread: posting does not make the writer wait for the UI."""
        with contextlib.suppress(RuntimeError):
            self.post_message(self.Saved())

    def on_grid_screen_saved(self, _: Saved) -> None:
        if self.grid is not None:
            self.query_one(SaveState).show(self.grid.pending, bool(self.grid.failed))

    def _status(self, text: str, error: bool) -> None:
        status = self.query_one("#grid-status", Static)
        if str(status.content) == text:
            return
        status.update(text, layout=False)  # a fixed height: no layout pass per move
        status.set_class(error, "-error")

    @on(GridTable.Status)
    def _show_status(self, event: GridTable.Status) -> None:
        self._status(event.text, event.error)

    @on(GridTable.Edited)
    def _edited(self) -> None:
        if self.grid is not None:
            self.query_one(SaveState).show(self.grid.pending, bool(self.grid.failed))

    @on(GridTable.PickRequested)
    def _pick(self, event: GridTable.PickRequested) -> None:
        grid = self.grid
        if grid is None:
            return
        r, c = event.row, event.column
        col = grid.columns[c]
        title = f"{grid.rows[r].name} · {col.label} · {col.spec.label}"

        def chosen(code: str | None) -> None:
            if code is not None:
                self.query_one(GridTable).choose(r, c, code)

        self.app.push_screen(CodePickScreen(title, grid.options(r, c), grid.stored(r, c)), chosen)

    # Tab and Shift+Tab are the app's (priority) focus keys; in the grid they move a cell.
    def focus_next(self, selector: str | type[Widget] = "*") -> Widget | None:
        if isinstance(self.focused, GridTable):
            self.focused.action_next_cell(1)
            return self.focused
        return super().focus_next(selector)

    def focus_previous(self, selector: str | type[Widget] = "*") -> Widget | None:
        if isinstance(self.focused, GridTable):
            self.focused.action_next_cell(-1)
            return self.focused
        return super().focus_previous(selector)

    @property
    def drafts(self) -> int:
        """Cells typed but not valid yet (red): what leaving would drop."""
        return self.grid.drafts if self.grid is not None else 0

    def action_close(self) -> None:
        grid = self.grid
        if grid is None or not grid.drafts:
            self.app.pop_screen()
            return

        def answered(leave: bool | None) -> None:
            if leave:
                self.app.pop_screen()

        self.app.push_screen(
            ConfirmScreen(
                "有内容未保存",
                f"{grid.drafts} 格填写有误（红色），尚未保存。返回修改，还是放弃这些内容并关闭？",
                yes="放弃并关闭",
                no="返回修改",
            ),
            answered,
        )

    def close_grid(self) -> None:
        """Put every confirmed cell on disk and stop the writer (the app calls this on quit
        and hang-up, before the store closes)."""
        if self.grid is not None:
            self.grid.close()
            self.grid = None

    def on_unmount(self) -> None:
        self.close_grid()
