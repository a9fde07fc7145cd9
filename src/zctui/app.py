"""The zctui application: opens a local workspace (or logs in to a server first) and shows
the applicant's twelve steps with the checklist beside them.

Start-up paints a first frame (who, which year) before the heavy parts load: SQLAlchemy,
SQLModel, the catalog and the application take most of a second, so they load on a worker
thread while the terminal already shows the app. Only Textual and light modules are
imported here; the rest is imported where it is first needed."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import threading
import time
import uuid
from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widget import Widget

from zctui.commands import SectionCommands, UnitCommands
from zctui.screens.help import HasHelp, HelpScreen
from zctui.screens.loading import LoadingScreen
from zctui.store.peek import peek_title
from zctui.sync.auth import AuthClient, LoginResult
from zctui.sync.session import Connect, Syncs
from zctui.widgets.save_state import SaveState

if TYPE_CHECKING:
    from zctui.domain.models import Application
    from zctui.screens.main import MainScreen
    from zctui.store.repository import Store
    from zctui.store.session import EditSession, FileChecker
    from zctui.sync.api import ServerApi
    from zctui.sync.engine import SyncReport

log = logging.getLogger(__name__)
SYNC_CHECK_EVERY = 5.0  # seconds between looks at the outbox
PUSH_AFTER = 10.0  # edits wait at most this long (plus a look) before they are sent
PULL_EVERY = 60.0  # and the server is asked for news this often
EDIT_KEYS = frozenset({"backspace", "delete", "enter", "ctrl+u", "ctrl+k", "ctrl+w"})


def _applicants_screen(app: ZctuiApp) -> Screen[Any]:
    from zctui.screens.applicants import ApplicantsScreen
    from zctui.screens.unit_actions import unit_actions

    assert app.store is not None
    return ApplicantsScreen(app.store, actions=unit_actions(app))


#: The first screen after login, by role (LoginResult.role). A role not here (applicant,
#: and for now office and helpdesk) opens the workspace: its application, a new one, or the
#: applicants table when it holds several. The integrator adds the office and helpdesk
#: screens here.
def _office_screen(app: ZctuiApp) -> Screen[Any]:
    from zctui.screens.office import OfficeScreen

    assert app.api is not None
    return OfficeScreen(app.api)


START_SCREENS: dict[str, Callable[[ZctuiApp], Screen[Any]]] = {
    "unit_admin": _applicants_screen,
    "office": _office_screen,
}


def _main_screens(app: App[Any]) -> list[MainScreen]:
    from zctui.screens.main import MainScreen

    return [s for s in app.screen_stack if isinstance(s, MainScreen)]


class ZctuiApp(App[None]):
    CSS_PATH = "styles/app.tcss"
    TITLE = "河北省职称申报"
    COMMANDS = App.COMMANDS | {SectionCommands, UnitCommands}
    BINDINGS = [
        Binding("f1", "help", "帮助", id="help"),
        Binding("ctrl+y", "sync", "同步", id="sync"),
        Binding("f7", "sync_issues", "被拒修改", id="sync-issues", show=False),
        Binding("f3", "guide", "操作指南", id="guide", show=False),
        Binding("f4", "public", "公告·政策·证书", id="public"),
        Binding("ctrl+q", "quit", "退出", id="quit", priority=True),
        # Focus moves as Tab arrives, before the next key is dispatched: over a slow link keys
        # come in bursts, and "甲<Tab>乙" must put 乙 in the next field (Textual's own Tab
        # binding runs after the keys already queued for the focused field).
        Binding("tab", "focus_next", show=False, priority=True, id="focus-next"),
        Binding("shift+tab", "focus_previous", show=False, priority=True, id="focus-previous"),
    ]

    def __init__(
        self,
        store_path: Path,
        *,
        auth: AuthClient | None = None,
        connect: Connect | None = None,
        low_bandwidth: bool = False,
        application_id: uuid.UUID | None = None,
        server_url: str | None = None,
    ) -> None:
        super().__init__()
        self.store_path = store_path
        self.auth = auth
        self.connect = connect  # token → the sync engine, once logged in
        self.syncer: Syncs | None = None
        self.server_url = server_url
        self.api: ServerApi | None = None  # the online-only REST calls, once logged in
        self.sync_text = "本地工作区（未连接服务器）" if auth is None else "未同步"
        self._last_sync = 0.0
        self._open_after_sync = False  # the first sync after login opens the workspace
        self.low_bandwidth = low_bandwidth
        self.application_id = application_id
        self.role = "applicant"  # from the login; picks the first screen (START_SCREENS)
        self.store: Store | None = None
        self.session: EditSession | None = None
        self._workspace_ready = asyncio.Event()
        if low_bandwidth:
            self.animation_level = "none"

    class Loaded(Message):
        """The worker has opened the store (and the application, when there is one)."""

        def __init__(
            self, store: Store, apps: list[Application], session: EditSession | None
        ) -> None:
            super().__init__()
            self.store, self.apps, self.session = store, apps, session

    class LoadFailed(Message):
        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    def on_mount(self) -> None:
        self.set_class(self.low_bandwidth, "-low-bandwidth")
        title = peek_title(self.store_path, self.application_id) if self.auth is None else None
        self.push_screen(LoadingScreen(title))
        self.call_after_refresh(self._load)  # the first frame goes out first

    @work(thread=True, exclusive=True, group="load")
    def _load(self) -> None:
        try:
            import zctui.screens.main  # noqa: F401  (its imports are most of the wait)
            from zctui.store.repository import Store
            from zctui.store.session import EditSession

            store = Store(self.store_path)
            apps = store.applications()
            session = None
            only = apps[0].id if len(apps) == 1 else None
            app_id = self.application_id or only
            if self.auth is None and app_id is not None:
                session = EditSession(
                    store, app_id, on_saved=self._saved, checker_factory=new_checker
                )
        except Exception as exc:
            log.exception("cannot open %s", self.store_path)
            self.post_message(
                self.LoadFailed(
                    f"无法打开工作区 {self.store_path}：{exc}\n\n"
                    "文件未被改动。请检查路径和读写权限，或用 --db 指定另一个工作区；Ctrl+Q 退出。"
                )
            )
            return
        self.post_message(self.Loaded(store, apps, session))

    async def on_zctui_app_loaded(self, event: Loaded) -> None:
        self.store = event.store
        loading = self.screen
        typed = loading.typed_ahead if isinstance(loading, LoadingScreen) else []
        self.pop_screen()
        if self.auth is not None:
            from zctui.screens.login import LoginScreen

            await self.push_screen(LoginScreen(self.auth), self._logged_in)
        elif event.session is not None:
            await self._show_application(event.session)
        else:
            await self.open_workspace(event.apps)
        for key in typed:  # in order, to whatever has the focus now
            self.post_message(key)
        self._workspace_ready.set()
        self._warm_up()

    def on_zctui_app_load_failed(self, event: LoadFailed) -> None:
        if isinstance(self.screen, LoadingScreen):
            self.screen.failed(event.message)
        self._workspace_ready.set()

    async def ready(self) -> None:
        """Wait until the first screen a user acts on is up (tests, benchmarks)."""
        await self._workspace_ready.wait()

    @asynccontextmanager
    async def run_test(self, *args: Any, **kwargs: Any) -> AsyncGenerator[Pilot[None], None]:
        """Textual's run_test, returning once the workspace has loaded, as a user waits
        for the screen before typing."""
        async with super().run_test(*args, **kwargs) as pilot:
            await self.ready()
            await pilot.pause()
            yield pilot

    def _logged_in(self, result: LoginResult | None) -> None:
        if result is None:
            return
        self.role = result.role
        if result.role == "helpdesk" and self.server_url is not None:
            # Read-only by role: the server's view of a person, nothing to sync.
            from zctui.screens.helpdesk import helpdesk_screen

            self.push_screen(helpdesk_screen(self.server_url, result.token, result.name))
            return
        if self.server_url is not None:
            from zctui.sync.api import ServerApi

            self.api = ServerApi(self.server_url, result.token)
        if self.connect is None:
            self.call_later(self.open_workspace)
            return
        # Pull first, so a new workspace shows the application the server has; offline,
        # the local copy opens as it is.
        self.syncer = self.connect(result.token)
        self._open_after_sync = True
        self.set_interval(SYNC_CHECK_EVERY, self._maybe_sync)
        self.sync_now()

    async def open_workspace(self, apps: list[Application] | None = None) -> None:
        """The first screen a user acts on: by role (START_SCREENS), else the one
        application, a new one, or the table of several."""
        from zctui.screens.start import NewApplicationScreen

        assert self.store is not None
        start = START_SCREENS.get(self.role)
        if start is not None and self.application_id is None:
            await self.push_screen(start(self))
            return
        apps = self.store.applications() if apps is None else apps
        if self.application_id is not None:
            self.open_application(self.application_id)
        elif not apps:
            await self.push_screen(NewApplicationScreen(self.store), self._opened)
        elif len(apps) == 1:
            self.open_application(apps[0].id)
        else:
            await self.push_screen(_applicants_screen(self))

    def _opened(self, app_id: uuid.UUID | None) -> None:
        if app_id is not None:
            self.open_application(app_id)

    def open_application(self, app_id: uuid.UUID, *, back: bool = False) -> None:
        """Open one application in the applicant's screens; `back`: over a list that the
        user returns to (F9), where this application's session is closed again."""
        from zctui.store.session import EditSession

        assert self.store is not None
        if self.session is not None and self.session.application_id != app_id:
            self.session.close()  # everything typed in the last one is on disk first
        session = EditSession(self.store, app_id, on_saved=self._saved, checker_factory=new_checker)
        self._show_application(session, back=back)

    @work(exclusive=True, group="office-open", exit_on_error=False)
    async def on_office_screen_open(self, event: Any) -> None:
        """The office opens a forwarded application: sync for its latest rows, then show it
        in full (read-only: the office never edits an application's content)."""
        app_id = uuid.UUID(str(event.app_id))
        worker = self.sync_now()
        if worker is not None:
            with contextlib.suppress(Exception):  # failures show in the status line
                await worker.wait()
        if self.store is None or self.store.get("application", app_id) is None:
            self.notify(
                "本机还没有这份申报的内容：同步没有完成（见状态栏），"
                "请联网后按 Ctrl+Y 同步再打开。",
                severity="warning",
                timeout=10,
            )
            return
        self.open_application(app_id, back=True)

    def _show_application(self, session: EditSession, *, back: bool = False) -> Any:
        from zctui.screens.main import MainScreen

        self.session = session
        return self.push_screen(MainScreen(session, sync_state=self.sync_text, back=back))

    def close_application(self) -> None:
        """Back from an application to the list under it: save, close, show the list (which
        re-reads that application's row as it resumes)."""
        session, self.session = self.session, None
        if session is not None:
            session.close()
        self.pop_screen()

    # ------------------------------------------------------------------ sync (issue 6)
    class SyncStarted(Message):
        pass

    class SyncDone(Message):
        def __init__(self, report: SyncReport, issues: int) -> None:
            super().__init__()
            self.report, self.issues = report, issues

    class SyncFailed(Message):
        def __init__(self, message: str, expired: bool) -> None:
            super().__init__()
            self.message, self.expired = message, expired

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Sync keys only where there is a server to sync with (hidden in the footer else)."""
        if action in ("sync", "sync_issues"):
            return self.connect is not None and self.role != "helpdesk"
        if action == "public":
            return hasattr(self.auth, "public_api")
        return True

    def action_sync(self) -> None:
        if self.syncer is None:
            self.notify("本地工作区未连接服务器：用 --server 地址启动并登录后才能同步。")
            return
        self.sync_now()

    def _maybe_sync(self) -> None:
        """Every few seconds: sync when there are edits to send, and pull now and then."""
        if self.syncer is None or self.store is None:
            return
        from zctui.store import outbox

        waited = time.monotonic() - self._last_sync
        if waited >= PULL_EVERY or (waited >= PUSH_AFTER and outbox.pending_count(self.store)):
            self.sync_now()

    @work(thread=True, exclusive=True, group="sync", exit_on_error=False)
    def sync_now(self) -> None:
        from zctui.store import outbox

        syncer = self.syncer
        if syncer is None or self.store is None:
            return
        self._last_sync = time.monotonic()
        if self.session is not None:
            self.session.flush()
        self.post_message(self.SyncStarted())
        try:
            report = syncer.sync()
        except Exception as exc:  # offline, expired, refused: the outbox keeps every edit
            log.info("sync failed: %s", exc)
            expired = type(exc).__name__ == "SyncExpired"
            self.post_message(self.SyncFailed(str(exc), expired))
            return
        self.post_message(self.SyncDone(report, len(outbox.open_issues(self.store))))

    def on_zctui_app_sync_started(self, _: SyncStarted) -> None:
        self._set_sync_text("同步中…")

    async def on_zctui_app_sync_done(self, event: SyncDone) -> None:
        report = event.report
        at = report.synced_at.astimezone().strftime("%H:%M") if report.synced_at else "—"
        text = f"已同步 {at}"
        if event.issues:
            text += f" · {event.issues} 项修改被拒绝（F7 查看）"
        self._set_sync_text(text)
        if self._open_after_sync:
            self._open_after_sync = False
            await self.open_workspace()
            return
        from zctui.screens.applicants import ApplicantsScreen

        for screen in self.screen_stack:  # the unit's table: the changed rows, by key
            if isinstance(screen, ApplicantsScreen):
                screen.refresh_rows(report.applications)
        session = self.session
        if session is not None and session.application_id in report.applications:
            session.reload()
            for screen in _main_screens(self):
                screen.rebuild()
            mine = [i for i in report.issues if i.application_id == session.application_id]
            if mine:
                self.notify(
                    f"{len(mine)} 项修改未被服务器接受，已保留；按 F7 查看并处理。",
                    severity="warning",
                    timeout=8,
                )

    async def on_zctui_app_sync_failed(self, event: SyncFailed) -> None:
        from zctui.store import outbox

        pending = outbox.pending_count(self.store) if self.store is not None else 0
        self._set_sync_text(f"离线 · {pending} 项修改待同步" if pending else "离线")
        if event.expired:
            self.notify(event.message, severity="error", timeout=10)
        if self._open_after_sync:
            self._open_after_sync = False
            self.notify(event.message, severity="warning", timeout=8)
            await self.open_workspace()

    def _set_sync_text(self, text: str) -> None:
        self.sync_text = text
        for screen in _main_screens(self):
            screen.sync_state = text
            screen.refresh_header()

    def action_sync_issues(self) -> None:
        from zctui.screens.sync_issues import SyncIssuesScreen
        from zctui.store import outbox

        if self.session is None or self.store is None:
            return
        if not outbox.open_issues(self.store, self.session.application_id):
            self.notify("没有被拒绝或冲突的修改。")
            return
        self.push_screen(SyncIssuesScreen(self.session), lambda _: self._issues_closed())

    def _issues_closed(self) -> None:
        from zctui.store import outbox

        left = len(outbox.open_issues(self.store)) if self.store is not None else 0
        text = self.sync_text.split(" · ")[0]
        self._set_sync_text(f"{text} · {left} 项修改被拒绝（F7 查看）" if left else text)
        for screen in _main_screens(self):
            screen.rebuild()

    @work(thread=True)
    def _warm_up(self) -> None:
        """Load pypinyin off the UI thread, before the first type-to-filter needs it; then
        move start-up's long-lived objects out of the collector's way (gc.freeze), so full
        collections stop pausing section switches for a tenth of a second."""
        from zctui.data.base import pinyin_initials

        pinyin_initials("中医外科")
        self.call_from_thread(self.call_after_refresh, gc.freeze)

    class Saved(Message):
        """The writer thread has put everything queued on disk (or is retrying a failure)."""

    def _saved(self) -> None:
        """Called on the writer thread after each save; posting does not make the writer
        wait for the UI (call_from_thread would)."""
        with contextlib.suppress(RuntimeError):  # the app is shutting down
            self.post_message(self.Saved())

    def on_zctui_app_saved(self, _: Saved) -> None:
        for screen in _main_screens(self):  # also under an open record dialog
            screen.refresh_header()

    # ------------------------------------------------------------------ F1
    def action_help(self) -> None:
        widget: Widget | None = self.focused
        while widget is not None and not isinstance(widget, HasHelp):
            parent = widget.parent
            widget = parent if isinstance(parent, Widget) else None
        topic = widget.help_topic() if widget is not None else None
        mains = _main_screens(self)
        if topic is None and mains and self.screen is mains[-1]:
            screen = mains[-1]
            kind, key = screen.current
            if kind == "section":
                sec = screen.session.forms.section(key)
                topic = (sec.title, sec.rule, "", sec.guide)
        if topic is None and isinstance(self.screen, HasHelp):
            topic = self.screen.help_topic()
        if topic is None:
            topic = ("河北省职称申报", "R1–R12", "F2 跳到下一缺项，Ctrl+P 打开命令面板。", "")
        self.push_screen(HelpScreen(*topic))

    # ------------------------------------------------------------------ guide, public pages
    def action_guide(self) -> None:
        """F3: the guide at the step on screen; from an application, a step opens there."""
        from zctui.screens.guide import GuideScreen

        mains = _main_screens(self)
        main = mains[-1] if mains and self.screen is mains[-1] else None
        step = None
        if main is not None:
            kind, key = main.current
            step = int(key) if kind == "step" else main.session.forms.section(key).step

        def jump(target: tuple[str, str] | None) -> None:
            if target is not None and main is not None:
                main.open_target(target)

        self.push_screen(GuideScreen(can_jump=main is not None, step=step), jump)

    def action_public(self) -> None:
        """F4: 通知公告, 政策文件, 证书查询 from the server (before login too)."""
        from zctui.screens.public import PublicScreen

        make = getattr(self.auth, "public_api", None)
        if make is None:
            return
        self.push_screen(PublicScreen(make()))

    # ------------------------------------------------------------------ slow links
    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Low-bandwidth mode: a blinking cursor repaints twice a second; keep it still."""
        if self.low_bandwidth and hasattr(event.widget, "cursor_blink"):
            event.widget.cursor_blink = False

    def hang_up(self) -> None:
        """SIGHUP (the window closed, the SSH link dropped) or SIGTERM: save, then leave. A
        dead terminal can stall Textual's own shutdown, so a timer makes sure the process
        does not linger once the data is safe."""
        watchdog = threading.Timer(5.0, os._exit, (0,))
        watchdog.daemon = True
        watchdog.start()
        self.call_later(self.quit_now)

    async def action_quit(self) -> None:
        """Ctrl+Q: everything confirmed is saved; red cells of a unit's grid (not valid, so
        not saved) are the one thing quitting would drop, so it asks first."""
        from zctui.screens.grid import GridScreen

        drafts = sum(s.drafts for s in self.screen_stack if isinstance(s, GridScreen))
        if not drafts:
            await self.quit_now()
            return
        from zctui.screens.confirm import ConfirmScreen

        def answered(leave: bool | None) -> None:
            if leave:
                self.call_later(self.quit_now)

        text = f"表格中 {drafts} 格填写有误（红色），尚未保存。返回修改，还是放弃这些内容并退出？"
        confirm = ConfirmScreen("有内容未保存", text, yes="放弃并退出", no="返回修改")
        await self.push_screen(confirm, answered)

    async def quit_now(self) -> None:
        await self.settle()
        self.close_workspace()
        self.exit()

    # ------------------------------------------------------------------ 已保存 tells the truth
    async def on_event(self, event: events.Event) -> None:
        """A key that may edit turns the saving line to 保存中 before the field even sees it,
        and back only once the key's edit has reached the session (or made none): the Input
        repaints the new text a message earlier than the edit is queued, and the line must
        never say 已保存 over a key that is not saved yet (a SIGKILL then would lose it)."""
        editing = isinstance(event, events.Paste) or (
            isinstance(event, events.Key) and (event.is_printable or event.key in EDIT_KEYS)
        )
        mains = _main_screens(self) if editing else []
        for screen in mains:
            screen.query_one(SaveState).saving()
        await super().on_event(event)
        if mains and self.focused is not None:
            self.run_worker(self._after_key(self.focused), group="saving-line")

    async def _after_key(self, focused: Widget) -> None:
        await self.settle(widgets=list(focused.ancestors_with_self))
        for screen in _main_screens(self):
            screen.refresh_header()

    async def settle(
        self, rounds: int = 3, timeout: float = 1.0, widgets: list[Any] | None = None
    ) -> None:
        """Let every widget handle the keys already dispatched to it, and the messages those
        post upwards (key → Input → field → form → session), before the workspace closes:
        a Ctrl+Q or a hang-up right after typing must not outrun the last keys."""
        for _ in range(rounds):
            targets = widgets
            if targets is None:
                targets = [w for s in self.screen_stack for w in s.walk_children(with_self=True)]
            handled = [asyncio.Event() for _ in targets]
            for widget, event in zip(targets, handled, strict=True):
                if not widget.call_later(event.set):
                    event.set()  # a closed widget has nothing left to handle
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*(e.wait() for e in handled)), timeout)

    def close_workspace(self) -> None:
        from zctui.screens.grid import GridScreen

        for screen in self.screen_stack:  # a unit's grid saves on a writer of its own
            if isinstance(screen, GridScreen):
                screen.close_grid()
        if self.api is not None:
            self.api.close()
            self.api = None
        if self.syncer is not None:
            self.syncer.close()
            self.syncer = None
        if self.session is not None:
            self.session.close()
            self.session = None
        if self.store is not None:
            self.store.close()
            self.store = None

    def on_unmount(self) -> None:
        self.close_workspace()


def new_checker() -> FileChecker:
    """The attachment checker, imported when first needed (not at start-up)."""
    from zctui.pdf.checks import Checker

    return Checker()


def create_app(
    store_path: Path,
    *,
    auth: AuthClient | None = None,
    connect: Connect | None = None,
    low_bandwidth: bool = False,
    application_id: uuid.UUID | None = None,
    server_url: str | None = None,
) -> ZctuiApp:
    """The factory tests and the CLI use."""
    return ZctuiApp(
        store_path,
        auth=auth,
        connect=connect,
        low_bandwidth=low_bandwidth,
        application_id=application_id,
        server_url=server_url,
    )
