"""The unit's review queue (R12): the applications its people have submitted, from the
server, with name, series, title and when they were submitted; filtered by state. Enter
opens one: the server marks it opened (from then on the applicant can no longer withdraw
or change it, R12.2), a sync brings its latest rows, and the review screen shows it."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, Select, Static

from zctui.data.catalog import Catalog, load_catalog
from zctui.domain.masking import mask_id
from zctui.domain.models import Application
from zctui.screens.review import ReviewHost, ReviewScreen
from zctui.store.session import EditSession
from zctui.sync.api import ApiError, ServerApi, ServerApplication
from zctui.widgets.bindings_footer import BindingsFooter

# What the filter offers: the label and the server states it lists.
FILTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "pending": ("待审核（已提交、审核中）", ("submitted", "unit_opened")),
    "submitted": ("已提交，未打开", ("submitted",)),
    "unit_opened": ("审核中", ("unit_opened",)),
    "unit_returned": ("已退回修改", ("unit_returned",)),
    "unit_approved": ("已审核通过", ("unit_approved",)),
}
log = logging.getLogger(__name__)
COLUMNS = ("姓名", "身份证号", "申报系列", "申报职称", "状态", "提交时间")


def series_title(catalog: Catalog, series: str | None, title: str | None) -> tuple[str, str]:
    found = catalog.series_by_code(series) if series else None
    if found is None:
        return series or "—", title or "—"
    t = found.title(title) if title else None
    return found.label, t.label if t is not None else title or "—"


def when(at: datetime | None) -> str:
    return at.astimezone().strftime("%Y-%m-%d %H:%M") if at else "—"


class ReviewQueueScreen(Screen[None]):
    DEFAULT_CSS = """
    ReviewQueueScreen > Select { width: 40; margin: 0 1; }
    ReviewQueueScreen > #queue-note { height: auto; padding: 0 1; color: $text-muted; }
    ReviewQueueScreen > DataTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("f5", "reload", "刷新", id="queue-reload"),
    ]

    class Listed(Message):
        """The worker's answer: the rows, or why there are none."""

        def __init__(self, rows: list[ServerApplication], error: str | None) -> None:
            super().__init__()
            self.rows, self.error = rows, error

    def __init__(self, api: ServerApi, filter_key: str = "pending") -> None:
        super().__init__()
        self.api = api
        self.filter_key = filter_key
        self.catalog = load_catalog()
        self.rows: list[ServerApplication] = []

    def help_topic(self) -> tuple[str, str, str, str]:
        return (
            "审核列表",
            "R12",
            "本单位人员已提交的申报。回车打开一份进行审核：打开后申报人不能再撤回或修改"
            "（R12.2）。上方可按状态筛选，F5 刷新。",
            "",
        )

    def compose(self) -> ComposeResult:
        yield Header(icon="职")
        options = [(label, key) for key, (label, _) in FILTERS.items()]
        yield Select(options, value=self.filter_key, allow_blank=False, id="queue-filter")
        yield Static("", id="queue-note", markup=False)
        yield DataTable(cursor_type="row", zebra_stripes=True, id="queue")
        yield BindingsFooter()

    def on_mount(self) -> None:
        self.title, self.sub_title = "单位审核", "申报审核列表"
        self.query_one(DataTable).add_columns(*COLUMNS)
        self.query_one(DataTable).focus()
        self.action_reload()

    @on(Select.Changed, "#queue-filter")
    def _filter(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.filter_key:
            self.filter_key = event.value
            self.action_reload()

    def action_reload(self) -> None:
        self.query_one("#queue-note", Static).update("正在从服务器读取…")
        self._list(FILTERS[self.filter_key][1])

    @work(thread=True, exclusive=True, group="queue-list", exit_on_error=False)
    def _list(self, states: tuple[str, ...]) -> None:
        try:
            rows = [a for s in states for a in self.api.applications(s)]
        except ApiError as exc:
            self.post_message(self.Listed([], str(exc)))
            return
        rows.sort(key=lambda a: (a.submitted_at is None, a.submitted_at or datetime.min))
        self.post_message(self.Listed(rows, None))

    @on(Listed)
    def _show(self, event: Listed) -> None:
        rows, error = event.rows, event.error
        self.rows = rows
        table = self.query_one(DataTable)
        table.clear()
        state = self.catalog.values("workflow_state")
        for a in rows:
            series, title = series_title(self.catalog, a.series, a.title)
            table.add_row(
                a.name or "—",
                mask_id(a.id_number) or "—",
                series,
                title,
                state.label_of(a.state),
                when(a.submitted_at),
                key=str(a.id),
            )
        label = FILTERS[self.filter_key][0]
        note = error or (
            f"{label}：共 {len(rows)} 份；回车打开审核（打开后申报人不能再撤回，R12.2）"
            if rows
            else f"{label}：没有申报"
        )
        self.query_one("#queue-note", Static).update(note)
        if error:
            self.notify(error, severity="error", timeout=10)

    @on(DataTable.RowSelected, "#queue")
    def _selected(self, event: DataTable.RowSelected) -> None:
        chosen = next((a for a in self.rows if str(a.id) == event.row_key.value), None)
        if chosen is not None:
            self.open_application(chosen)

    @work(exclusive=True, group="queue-open", exit_on_error=False)
    async def open_application(self, row: ServerApplication) -> None:
        """Open (R12.2 lock) if it is still only submitted, sync, then show it."""
        host: ReviewHost = self.app  # type: ignore[assignment]
        note = self.query_one("#queue-note", Static)
        if row.state == "submitted":
            note.update(f"正在打开{row.name or ''}的申报…")
            try:
                row = await asyncio.to_thread(self.api.act, row.id, "open")
            except ApiError as exc:
                self.notify(exc.args[0], severity="error", timeout=10)
                self.action_reload()
                return
        note.update("正在同步这份申报的内容…")
        worker = host.sync_now()
        if worker is not None:
            try:
                await worker.wait()
            except Exception:  # the app shows sync failures itself (status line, notices)
                log.info("sync before review failed", exc_info=True)
        store = host.store
        if store is None or store.get(Application, row.id) is None:
            note.update("")
            self.notify(
                "本机还没有这份申报的内容：同步没有完成（见状态栏），请联网后按 Ctrl+Y "
                "同步，再回车打开。",
                severity="warning",
                timeout=10,
            )
            self.action_reload()
            return
        session = EditSession(store, row.id)
        screen = ReviewScreen(session, self.api, host.sync_text, row.name or "")
        await self.app.push_screen(screen)

    def on_screen_resume(self) -> None:
        """Back from a review: the states have changed meanwhile."""
        if self.rows:
            self.action_reload()
