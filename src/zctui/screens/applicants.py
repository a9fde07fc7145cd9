"""The unit's applicants (a unit admin's first screen, or a workspace with several
applications): filter by typing, sort, open one with Enter, start a new one with n.

Rows are read off the UI thread in one query; completion (the checklist engine, per
application) is computed by a worker, the lines on screen first, and cached by application
and last change, so coming back from an application recomputes that one only.

Other screens plug in as `TableAction`s (a key, a label, a binding id, and what to run with
this screen): pass them as `actions=`, or append to `TABLE_ACTIONS` before the screen is
made. `run` gets the screen; `screen.current` is the application under the cursor."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from zctui.data.catalog import load_catalog
from zctui.store.applicants import ApplicantRow, applicant_rows
from zctui.store.completion import CompletionProcess
from zctui.store.repository import Store
from zctui.widgets.applicants_table import (
    COLUMNS,
    ApplicantLine,
    ApplicantsTable,
    build_lines,
    completion_text,
)
from zctui.widgets.bindings_footer import BindingsFooter

COMPLETION_BATCH = 40  # applications per round (each round re-reads what is on screen)


@dataclass(frozen=True)
class TableAction:
    """A key on the applicants table that another screen provides (grid entry, import,
    review, export …)."""

    id: str  # the binding id (keymaps refer to it)
    key: str
    description: str  # shown in the footer, Chinese
    run: Callable[[ApplicantsScreen], object]


#: Actions every ApplicantsScreen gets unless `actions=` is given: the integrator's hook.
TABLE_ACTIONS: list[TableAction] = []


class ApplicantsScreen(Screen[None]):
    DEFAULT_CSS = """
    ApplicantsScreen #applicants-title { height: 1; text-style: bold; padding: 0 1; }
    ApplicantsScreen #filter { margin: 0 1; }
    ApplicantsScreen #applicants-status { height: 1; color: $text-muted; padding: 0 1; }
    """
    BINDINGS = [
        Binding("n", "new_application", "新建申报", id="applicants-new"),
        Binding("slash", "focus_filter", "筛选", id="applicants-filter"),
        Binding("escape", "clear_filter", "清除筛选", id="applicants-clear"),
        Binding("f3", "sort_next", "换排序列", id="applicants-sort"),
        Binding("f4", "sort_reverse", "倒序", id="applicants-reverse"),
        # From the filter field the cursor keys still move the table's cursor.
        Binding("down", "cursor(1)", show=False, id="applicants-filter-down"),
        Binding("up", "cursor(-1)", show=False, id="applicants-filter-up"),
        Binding("pagedown", "page(1)", show=False, id="applicants-filter-pagedown"),
        Binding("pageup", "page(-1)", show=False, id="applicants-filter-pageup"),
    ]

    class RowsRead(Message):
        """The worker has read (and labelled) rows: all of them, or the changed ones."""

        def __init__(
            self, lines: list[ApplicantLine], everything: bool, gone: Collection[uuid.UUID]
        ) -> None:
            super().__init__()
            self.lines, self.everything, self.gone = lines, everything, gone

    class CompletionKnown(Message):
        def __init__(self, known: dict[uuid.UUID, str]) -> None:
            super().__init__()
            self.known = known

    def __init__(self, store: Store, actions: Sequence[TableAction] | None = None) -> None:
        super().__init__()
        self.store = store
        self.actions = {a.id: a for a in (TABLE_ACTIONS if actions is None else actions)}
        for a in self.actions.values():
            self._bindings.key_to_bindings.setdefault(a.key, []).append(
                Binding(a.key, f"table_action('{a.id}')", a.description, id=a.id)
            )
        self._cache: dict[tuple[uuid.UUID, datetime], str] = {}  # (application, last change)
        self._opened: uuid.UUID | None = None
        self._completion = CompletionProcess(store.path)
        self.loaded = False  # the first rows are in the table (tests wait for it)

    def compose(self) -> ComposeResult:
        yield Static(
            "本单位申报人员（回车打开；直接输入姓名或拼音首字母筛选）", id="applicants-title"
        )
        yield Input(
            placeholder="筛选：姓名、拼音首字母（如 zs）、系列、职称或状态",
            id="filter",
            compact=True,
        )
        yield ApplicantsTable(id="applicants")
        yield Static("正在读取申报列表…", id="applicants-status")
        yield BindingsFooter()

    @property
    def table(self) -> ApplicantsTable:
        return self.query_one(ApplicantsTable)

    @property
    def current(self) -> ApplicantRow | None:
        """The application under the cursor."""
        key = self.table.cursor_key
        line = self.table.line(key) if key is not None else None
        return line.row if line is not None else None

    def on_mount(self) -> None:
        self.query_one("#filter", Input).focus()
        self._read_rows(None)

    def on_unmount(self) -> None:
        self.workers.cancel_group(self, "applicants-completion")
        self._completion.close()

    # ------------------------------------------------------------------ rows
    @work(thread=True, group="applicants-rows")
    def _read_rows(self, ids: Collection[uuid.UUID] | None) -> None:
        """All rows (ids None), or those of the applications a sync or an edit changed."""
        rows = applicant_rows(self.store, ids)
        lines = build_lines(rows, load_catalog())
        gone = set(ids or ()) - {r.application_id for r in rows}
        self.post_message(self.RowsRead(lines, ids is None, gone))

    def reload(self) -> None:
        """Every row again (an import may have added people)."""
        self._read_rows(None)

    def refresh_rows(self, ids: Collection[uuid.UUID]) -> None:
        """Re-read these applications and put them in place (by key, no rebuild)."""
        if ids:
            self._read_rows(set(ids))

    def on_applicants_screen_rows_read(self, event: RowsRead) -> None:
        table = self.table
        if event.everything:
            table.set_lines(event.lines)
        else:
            table.update_lines(event.lines, event.gone)
        known = {
            line.key: self._cache[(line.key, line.row.last_change)]
            for line in event.lines
            if (line.key, line.row.last_change) in self._cache
        }
        if known:
            table.set_completion(known)
        self.loaded = True
        self._compute_completion()

    @work(thread=True, exclusive=True, group="applicants-completion")
    def _compute_completion(self) -> None:
        """The checklist for every application not known yet, in a child process (see
        zctui.store.completion): the lines on screen first (re-read each round, so
        scrolling moves the work along), then in view order."""
        worker = get_current_worker()
        table = self.table
        order, done = table.keys, 0
        while not worker.is_cancelled:
            batch = [k for k in table.visible_keys() if self._unknown(k)]
            while len(batch) < COMPLETION_BATCH and done < len(order):
                key = order[done]
                done += 1
                if key not in batch and self._unknown(key):
                    batch.append(key)
            if not batch:
                return
            stamps = {k: line.row.last_change for k in batch if (line := table.line(k))}
            counts = self._completion.ask(list(stamps))
            if not counts:
                return  # the child failed: "…" stays; the next refresh tries again
            known: dict[uuid.UUID, str] = {}
            for key, missing in counts.items():
                self._cache[(key, stamps[key])] = known[key] = completion_text(missing)
            self.post_message(self.CompletionKnown(known))

    def _unknown(self, key: uuid.UUID) -> bool:
        line = self.table.line(key)
        return line is not None and (key, line.row.last_change) not in self._cache

    def on_applicants_screen_completion_known(self, event: CompletionKnown) -> None:
        self.table.set_completion(event.known)

    # ------------------------------------------------------------------ status, filter
    @on(ApplicantsTable.ViewChanged)
    def _view_changed(self, event: ApplicantsTable.ViewChanged) -> None:
        text = f"共 {event.total} 份申报"
        if event.shown != event.total:
            text += f"，筛选出 {event.shown} 份"
        if event.total and not event.shown:
            text += "：没有符合的，按 Esc 清除筛选"
        column = COLUMNS[self.table.sort_column].label
        text += f" · 按{column}{'倒序' if self.table.sort_reverse else '排序'}"
        self.query_one("#applicants-status", Static).update(text)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.table.action_open()

    @on(ApplicantsTable.Typed)
    def _typed_on_table(self, event: ApplicantsTable.Typed) -> None:
        """A letter typed on the table goes on the filter, and the filter takes the focus."""
        box = self.query_one("#filter", Input)
        box.value += event.character
        box.cursor_position = len(box.value)
        box.focus()

    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_clear_filter(self) -> None:
        self.query_one("#filter", Input).value = ""

    def action_cursor(self, offset: int) -> None:
        self.table.action_cursor(offset)

    def action_page(self, direction: int) -> None:
        self.table.action_page(direction)

    def action_sort_next(self) -> None:
        self.table.sort_by((self.table.sort_column + 1) % len(COLUMNS), reverse=False)

    def action_sort_reverse(self) -> None:
        self.table.sort_by(self.table.sort_column, reverse=not self.table.sort_reverse)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # In the filter field n is a letter: the footer shows the key only on the table.
        return not (action == "new_application" and isinstance(self.focused, Input))

    # ------------------------------------------------------------------ opening
    @on(ApplicantsTable.Open)
    def _open(self, event: ApplicantsTable.Open) -> None:
        self.open(event.application_id)

    def open(self, application_id: uuid.UUID) -> None:
        """The application in the applicant's own screens; its row is re-read on return."""
        self._opened = application_id
        opener: Any = getattr(self.app, "open_application", None)
        if opener is None:
            self.notify("无法打开申报：程序未提供申报编辑界面。", severity="error")
            return
        opener(application_id, back=True)

    def on_screen_resume(self) -> None:
        if self._opened is not None:
            self.refresh_rows({self._opened})
            self._opened = None

    def action_new_application(self) -> None:
        from zctui.screens.start import NewApplicationScreen

        units = Counter(
            (line.row.unit_name, line.row.city)
            for k in self.table.keys[:500]
            if (line := self.table.line(k)) is not None and line.row.unit_name
        )
        unit, city = units.most_common(1)[0][0] if units else ("", "沧州市")
        screen = NewApplicationScreen(self.store, unit=unit or "", city=city or "", for_others=True)
        self.app.push_screen(screen, self._created)

    def _created(self, application_id: uuid.UUID | None) -> None:
        if application_id is not None:
            self.open(application_id)

    def action_table_action(self, action_id: str) -> None:
        action = self.actions.get(action_id)
        if action is not None:
            action.run(self)
