"""The title office (职改办): the applications the city's units forwarded, filterable by
state, unit and series; accept one, record the result (评审通过, or 评审不通过 with a reason),
issue the certificate (the server makes the number unless one is typed). Every action is
confirmed first; a refusal is shown in the server's own words.

The selected application is summarised from the server's data (its settings, state,
certificate and audit trail): the office never edits an application. Enter posts `Open`
with its id: the app syncs the office's workspace (the office pulls what was forwarded) and
shows it in MainScreen, read-only since its state is past the applicant's (R12.2)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Input, Select, Static

from zctui.data.catalog import Catalog, load_catalog
from zctui.screens.confirm import ConfirmScreen
from zctui.screens.prompt import PromptScreen
from zctui.server.workflow import TRANSITIONS, refusal
from zctui.sync.api import ApiError, ServerApi
from zctui.widgets.bindings_footer import BindingsFooter

# What the office sees (server/access.py FORWARDED), in the order of the work.
STATES = ("unit_approved", "office_review", "approved", "certificate_issued", "rejected")
COLUMNS = ("姓名", "单位", "系列", "职称", "状态", "证书编号")
PUBLISH_SCREEN = "office-publish"
HEADING = "职改办审核：各单位报送的申报"
REASON_REQUIRED = "请填写评审不通过的原因（将记入审核记录，申报人可见）"


@dataclass(frozen=True)
class Shown:
    """One application as the queue shows it (labels, not codes)."""

    id: str
    name: str
    unit: str
    series: str
    title: str
    state: str
    state_label: str
    certificate: str
    raw: dict[str, Any]

    def matches(self, text: str) -> bool:
        text = text.strip().lower()
        return not text or any(text in v.lower() for v in (self.name, self.unit, self.series))


def shown(app: dict[str, Any], catalog: Catalog) -> Shown:
    series = catalog.series_by_code(app.get("series") or "")
    title = series.title(app.get("title") or "") if series else None
    state = str(app.get("state"))
    return Shown(
        id=str(app["id"]),
        name=app.get("name") or "",
        unit=app.get("unit_name") or "",
        series=series.label if series else (app.get("series") or ""),
        title=title.label if title else (app.get("title") or ""),
        state=state,
        state_label=catalog.values("workflow_state").label_of(state),
        certificate=app.get("certificate_number") or "",
        raw=app,
    )


class OfficeScreen(Screen[None]):
    DEFAULT_CSS = """
    OfficeScreen #office-filters { height: auto; }
    OfficeScreen #office-state { width: 32; }
    OfficeScreen #office-filter { width: 1fr; }
    OfficeScreen DataTable { height: 1fr; }
    OfficeScreen #office-detail {
        height: auto; max-height: 12; border-top: solid $accent; padding: 0 1;
    }
    OfficeScreen #office-status { height: auto; color: $warning; padding: 0 1; }
    """
    BINDINGS = [
        Binding("a", "act('accept')", "受理", id="office-accept"),
        Binding("p", "act('pass')", "评审通过", id="office-pass"),
        Binding("r", "act('reject')", "评审不通过", id="office-reject"),
        Binding("i", "act('issue')", "发放证书", id="office-issue"),
        Binding("enter", "open", "查看申报", id="office-open"),
        Binding("n", "publish", "发布公告", id="office-publish"),
        Binding("f5", "refresh", "刷新", id="office-refresh"),
        Binding("slash", "filter", "筛选", id="office-filter-focus"),
    ]

    class Loaded(Message):
        def __init__(self, apps: list[dict[str, Any]]) -> None:
            super().__init__()
            self.apps = apps

    class Acted(Message):
        def __init__(self, action: str, app: dict[str, Any]) -> None:
            super().__init__()
            self.action, self.app = action, app

    class Trail(Message):
        def __init__(self, app_id: str, events: list[dict[str, Any]]) -> None:
            super().__init__()
            self.app_id, self.events = app_id, events

    class Failed(Message):
        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    class Open(Message):
        """Show this application read-only in full (the app handles it: see the docstring)."""

        def __init__(self, app_id: str) -> None:
            super().__init__()
            self.app_id = app_id

    def __init__(self, api: ServerApi, *, state: str = "unit_approved") -> None:
        super().__init__()
        self.api = api
        self.catalog = load_catalog()
        self.state = state
        self.rows: list[Shown] = []
        self.trail: dict[str, list[dict[str, Any]]] = {}
        # A reason or number typed for an action the server then refused, offered again.
        self.typed: dict[tuple[str, str], str] = {}

    def compose(self) -> ComposeResult:
        options = [(self.catalog.values("workflow_state").label_of(s), s) for s in STATES]
        with Vertical():
            yield Static(HEADING, id="office-heading", markup=False)
            with Horizontal(id="office-filters"):
                yield Select(
                    [*options, ("全部", "")], value=self.state, allow_blank=False, id="office-state"
                )
                yield Input(placeholder="按单位、系列或姓名筛选", compact=True, id="office-filter")
            table: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=True)
            table.add_columns(*COLUMNS)
            yield table
            yield Static("", id="office-detail", markup=False)
            yield Static("", id="office-status", markup=False)
        yield BindingsFooter()

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self.action_refresh()

    # ------------------------------------------------------------------ loading
    def action_refresh(self) -> None:
        self.query_one("#office-heading", Static).update(f"{HEADING}（正在读取……）")
        self._load(self.state or None)

    @work(thread=True, exclusive=True, group="office-load")
    def _load(self, state: str | None) -> None:
        try:
            self.post_message(self.Loaded(self.api.office_queue(state)))
        except ApiError as exc:
            self.post_message(self.Failed(str(exc)))

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        self.rows = [shown(a, self.catalog) for a in event.apps]
        self._fill()
        count = f"共 {len(self.rows)} 份" if self.rows else "没有符合条件的申报"
        self.query_one("#office-heading", Static).update(f"{HEADING}（{count}）")

    def _visible(self) -> list[Shown]:
        text = self.query_one("#office-filter", Input).value
        return [r for r in self.rows if r.matches(text)]

    def _fill(self) -> None:
        table: DataTable[str] = self.query_one(DataTable)
        keep = self._selected()
        table.clear()
        for r in self._visible():
            table.add_row(r.name, r.unit, r.series, r.title, r.state_label, r.certificate, key=r.id)
        if keep is not None and keep.id in table.rows:
            table.move_cursor(row=table.get_row_index(keep.id))
        self._show_detail()

    @on(Select.Changed, "#office-state")
    def _state_changed(self, event: Select.Changed) -> None:
        self.state = str(event.value or "")
        self.action_refresh()

    @on(Input.Changed, "#office-filter")
    def _filter_changed(self) -> None:
        self._fill()

    @on(Input.Submitted, "#office-filter")
    def _filter_done(self) -> None:
        self.query_one(DataTable).focus()

    def action_filter(self) -> None:
        self.query_one("#office-filter", Input).focus()

    # ------------------------------------------------------------------ detail
    def _selected(self) -> Shown | None:
        table: DataTable[str] = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((r for r in self.rows if r.id == key), None)

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self._show_detail()
        row = self._selected()
        if row is not None and row.id not in self.trail:
            self._load_trail(row.id)

    @work(thread=True, exclusive=True, group="office-trail")
    def _load_trail(self, app_id: str) -> None:
        # The trail is extra information: without it the queue stays usable.
        with contextlib.suppress(ApiError):
            self.post_message(self.Trail(app_id, self.api.office_audit(app_id)))

    @on(Trail)
    def _trail(self, event: Trail) -> None:
        self.trail[event.app_id] = event.events
        self._show_detail()

    def _show_detail(self) -> None:
        row = self._selected()
        detail = self.query_one("#office-detail", Static)
        if row is None:
            detail.update("")
            return
        a, cat = row.raw, self.catalog
        series = cat.series_by_code(a.get("series") or "")
        specialty = series.specialty(a.get("specialty") or "") if series else None
        method = cat.method(a.get("method") or "")
        mode = cat.review_mode(a.get("review_mode") or "")
        lines = [
            f"{row.name}　身份证号 {a.get('id_number') or ''}　{a.get('year')} 年度",
            f"申报单位：{row.unit}　状态：{row.state_label}"
            + (f"　证书编号：{row.certificate}" if row.certificate else ""),
            f"系列：{row.series}　专业：{specialty.label if specialty else ''}　职称：{row.title}",
            f"申报方式：{method.label if method else ''}　评审方式：{mode.label if mode else ''}",
        ]
        for e in self.trail.get(row.id, [])[-4:]:
            when = str(e.get("at") or "")[:16].replace("T", " ")
            why = f"（{e['reason']}）" if e.get("reason") else ""
            lines.append(f"{when}　{_event_label(e.get('event'))}{why}")
        detail.update("\n".join(lines))

    def action_publish(self) -> None:
        from zctui.screens.publish import PublishScreen

        # Installed, so leaving it with Esc keeps a half-typed announcement for next time.
        if not self.app.is_screen_installed(PUBLISH_SCREEN):
            self.app.install_screen(PublishScreen(self.api), PUBLISH_SCREEN)
        self.app.push_screen(PUBLISH_SCREEN)

    def action_open(self) -> None:
        row = self._selected()
        if row is not None:
            self.post_message(self.Open(row.id))

    @on(DataTable.RowSelected)
    def _selected_row(self) -> None:
        self.action_open()

    # ------------------------------------------------------------------ actions
    def action_act(self, action: str) -> None:
        row = self._selected()
        if row is None:
            self._status("请先在列表中选中一份申报")
            return
        t = TRANSITIONS[action]
        if why := refusal(action, row.state, "office"):  # the server's own words, before asking
            self._status(why)
            return
        key = (row.id, action)
        if action == "reject":
            self.app.push_screen(
                PromptScreen(
                    f"{t.label}：{row.name}（{row.unit}）",
                    "请填写原因，确认后记录为评审不通过：",
                    required=REASON_REQUIRED,
                    value=self.typed.get(key, ""),
                ),
                lambda reason: self._prompted(row, action, reason),
            )
        elif action == "issue":
            self.app.push_screen(
                PromptScreen(
                    f"{t.label}：{row.name}（{row.unit}）",
                    "证书编号：留空由系统按规则生成；如已有编号请填写。",
                    placeholder="留空自动生成",
                    max_length=40,
                    value=self.typed.get(key, ""),
                ),
                lambda number: self._prompted(row, action, number),
            )
        else:
            self.app.push_screen(
                ConfirmScreen(t.label, f"确认对 {row.name}（{row.unit}）的申报「{t.label}」？"),
                lambda yes: self._send(row, action) if yes else None,
            )

    def _prompted(self, row: Shown, action: str, text: str | None) -> None:
        if text is None:
            return
        self.typed[(row.id, action)] = text
        if action == "reject":
            self._send(row, action, reason=text)
        else:
            self._send(row, action, number=text or None)

    def _send(
        self, row: Shown, action: str, *, reason: str | None = None, number: str | None = None
    ) -> None:
        self._status(f"正在{TRANSITIONS[action].label}……")
        self._act(row.id, action, reason, number)

    @work(thread=True, group="office-act")
    def _act(self, app_id: str, action: str, reason: str | None, number: str | None) -> None:
        try:
            app = self.api.office_action(app_id, action, reason=reason, certificate_number=number)
        except ApiError as exc:
            self.post_message(self.Failed(str(exc)))
            return
        self.post_message(self.Acted(action, app))

    @on(Acted)
    def _acted(self, event: Acted) -> None:
        app = event.app
        self.typed.pop((str(app["id"]), event.action), None)
        self.trail.pop(str(app["id"]), None)
        said = f"已{TRANSITIONS[event.action].label}：{app.get('name') or ''}"
        if event.action == "issue":
            said += f"，证书编号 {app.get('certificate_number') or ''}"
        self.notify(said)
        self._load(self.state or None)
        self._status(said)

    @on(Failed)
    def _failed(self, event: Failed) -> None:
        self._status(event.message)
        self.notify(event.message, severity="error")

    def _status(self, text: str) -> None:
        self.query_one("#office-status", Static).update(text)


def _event_label(event: object) -> str:
    name = str(event or "")
    action = name.removeprefix("workflow.")
    if action in TRANSITIONS:
        return TRANSITIONS[action].label
    return {"application.created": "创建申报"}.get(name, name)
