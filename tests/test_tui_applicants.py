"""The unit's applicants table (issue 7): 2,000 applicants in a real workspace; the table
shows the first page at once, filters by pinyin initials, sorts, opens the application under
the cursor, puts a changed row in place by key, and draws only the lines on screen. A unit
admin's login lands on it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from textual.pilot import Pilot

from server_world import NEW_PASSWORD, World, this_year
from sync_world import Workspace
from unit_world import Unit, fill_unit, id_number
from zctui.app import ZctuiApp, create_app
from zctui.demo import build_complete
from zctui.screens.applicants import ApplicantsScreen
from zctui.screens.login import LoginScreen
from zctui.screens.main import MainScreen
from zctui.screens.start import NewApplicationScreen
from zctui.store.blobs import BlobStore
from zctui.store.repository import Store
from zctui.sync.auth import LoginResult
from zctui.sync.engine import SyncReport
from zctui.sync.http_auth import HttpAuthClient
from zctui.widgets.applicants_table import COLUMNS, UNKNOWN, ApplicantsTable

COUNT = 2000
SIZE = (140, 30)


@pytest.fixture(scope="module")
def unit_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Unit]:
    path = tmp_path_factory.mktemp("unit") / "ws.sqlite3"
    with Store(path) as store:
        unit = fill_unit(store, COUNT)
    return path, unit


@pytest.fixture
def unit(unit_db: tuple[Path, Unit], tmp_path: Path) -> tuple[Path, Unit]:
    """A fresh copy per test (tests write to it)."""
    src, unit = unit_db
    dst = tmp_path / "ws.sqlite3"
    dst.write_bytes(src.read_bytes())
    return dst, unit


async def _table_ready(pilot: Pilot[None], app: ZctuiApp) -> ApplicantsTable:
    screen = app.screen
    assert isinstance(screen, ApplicantsScreen)
    for _ in range(200):
        if screen.loaded:
            break
        await pilot.pause(0.02)
    await pilot.pause()
    return screen.table


def _shown_names(table: ApplicantsTable) -> list[str]:
    return [table.cell_text(k, "name") for k in table.keys]


async def test_several_applications_open_on_the_table_first_page_only_is_drawn(
    unit: tuple[Path, Unit],
) -> None:
    """A local workspace with several applications starts on the table (not a plain pick
    list); it shows the first page with labels (never codes), and draws only the lines on
    screen, however many rows there are."""
    path, _ = unit
    app = create_app(path)
    async with app.run_test(size=SIZE) as pilot:
        table = await _table_ready(pilot, app)
        assert table.total == COUNT and table.shown == COUNT
        status = str(app.screen.query_one("#applicants-status").render())
        assert f"共 {COUNT} 份申报" in status
        first = table.keys[0]
        # Chinese labels, masked ID number
        assert "*" in table.cell_text(first, "id_number")
        assert table.cell_text(first, "state") in {
            "填报中", "已提交，待单位审核", "单位审核中", "单位退回修改", "单位已通过"
        }  # fmt: skip
        assert table.cell_text(first, "series") and not table.cell_text(first, "series").isdigit()
        # Only about a screen of lines was drawn, not 2,000.
        drawn = table.lines_rendered
        assert 0 < drawn < 10 * SIZE[1]
        # The cursor moves through the whole list within the run (arrows work from the
        # filter field too; Tab puts the focus on the table for Home/End).
        await pilot.press("down", "down", "pagedown")
        assert table.cursor == 2 + SIZE[1] - 2 - 4  # a page: the table's height less header
        await pilot.press("tab", "end")
        assert table.cursor == COUNT - 1
        await pilot.press("home")
        assert table.cursor == 0
        assert table.lines_rendered - drawn < 20 * SIZE[1]


async def test_typing_pinyin_initials_filters_and_enter_opens_that_application(
    unit: tuple[Path, Unit],
) -> None:
    """ "zs" finds 张三 (and every other z… s… name); "张三" by characters finds only the
    张三s; Enter opens the application under the cursor in the applicant's screens, and F9
    comes back to the table with the filter kept."""
    path, world = unit
    app = create_app(path)
    async with app.run_test(size=SIZE) as pilot:
        table = await _table_ready(pilot, app)
        await pilot.press("z", "s")
        await pilot.pause()
        names = _shown_names(table)
        assert "张三" in names and 0 < len(names) < COUNT
        assert all(table.line(k).initials.startswith("zs") for k in table.keys)  # type: ignore[union-attr]
        status = str(app.screen.query_one("#applicants-status").render())
        assert f"筛选出 {len(names)} 份" in status
        for _ in names:
            await pilot.press("backspace")
        await pilot.press("backspace", "backspace", *"张三")
        await pilot.pause()
        assert set(_shown_names(table)) <= {"张三", "张三丰"}
        while table.cursor_key != world.zhang_san:
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert app.session is not None and app.session.application_id == world.zhang_san
        await pilot.press("f9")
        await pilot.pause()
        assert isinstance(app.screen, ApplicantsScreen)
        assert app.session is None
        assert app.screen.table.cursor_key == world.zhang_san


async def test_sort_by_a_column_and_back(unit: tuple[Path, Unit]) -> None:
    """F3 moves the sort to the next column (the header marks it); F4 turns it round."""
    path, _ = unit
    app = create_app(path)
    async with app.run_test(size=SIZE) as pilot:
        table = await _table_ready(pilot, app)
        table.focus()
        await pilot.press("f3")  # 姓名 → 身份证号
        assert COLUMNS[table.sort_column].key == "id_number"
        ids = [table.cell_text(k, "id_number") for k in table.keys]
        assert ids == sorted(ids)
        await pilot.press("f4")
        ids = [table.cell_text(k, "id_number") for k in table.keys]
        assert ids == sorted(ids, reverse=True)
        # Sorted by state: the same labels together.
        table.sort_by(next(i for i, c in enumerate(COLUMNS) if c.key == "state"), reverse=False)
        await pilot.pause()
        states = [table.cell_text(k, "state") for k in table.keys]
        assert states == sorted(states)
        assert "状态" in str(app.screen.query_one("#applicants-status").render())


async def test_completion_is_computed_in_the_background_visible_rows_first(
    unit: tuple[Path, Unit],
) -> None:
    """Completion shows … until the checklist engine has run for the row; the rows on screen
    get theirs first, while the UI keeps answering keys."""
    path, _ = unit
    app = create_app(path)
    async with app.run_test(size=SIZE) as pilot:
        table = await _table_ready(pilot, app)
        visible = table.visible_keys()
        for _ in range(300):
            if all(table.completion_known(k) for k in visible):
                break
            await pilot.pause(0.02)
        texts = {table.cell_text(k, "completion") for k in visible}
        assert UNKNOWN not in texts
        assert all(t == "完整" or t.startswith("缺") for t in texts)
        await pilot.press("down")
        assert table.cursor == 1  # keys still answered while the worker goes on
        screen = app.screen
        assert isinstance(screen, ApplicantsScreen)
        screen.workers.cancel_group(screen, "applicants-completion")


async def test_a_changed_row_is_updated_by_key(unit: tuple[Path, Unit]) -> None:
    """A sync (or an edit) changes one application: its row is re-read and put in place;
    the other rows stay as they are and the cursor stays on its application."""
    path, world = unit
    app = create_app(path)
    async with app.run_test(size=SIZE) as pilot:
        table = await _table_ready(pilot, app)
        screen = app.screen
        assert isinstance(screen, ApplicantsScreen)
        await pilot.press("down", "down")
        under = table.cursor_key
        target = world.ids[5]
        other = world.ids[6]
        before_other = table.line(other)
        assert app.store is not None
        info = app.store.single("basic_info", target)
        app.store.set_field("basic_info", info.id, "name", "欧阳修远")
        app.store.set_field("application", target, "state", "submitted")
        screen.refresh_rows({target})
        for _ in range(100):
            if table.cell_text(target, "name") == "欧阳修远":
                break
            await pilot.pause(0.02)
        assert table.cell_text(target, "name") == "欧阳修远"
        assert table.cell_text(target, "state") == "已提交，待单位审核"
        assert table.line(other) is before_other  # untouched, not rebuilt
        assert table.cursor_key == under
        assert table.total == COUNT


async def test_n_creates_an_application_for_one_of_the_unit_s_people(
    unit: tuple[Path, Unit],
) -> None:
    """n on the table: the new-application form, with the unit filled in; the new
    application opens, and is in the table when the admin comes back."""
    path, _ = unit
    app = create_app(path)
    async with app.run_test(size=SIZE) as pilot:
        table = await _table_ready(pilot, app)
        table.focus()
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, NewApplicationScreen)
        assert app.screen.query_one("#unit").value == "沧州市中心医院"  # type: ignore[attr-defined]
        await pilot.press(*"刘新人", "enter", *"11010519491231002X", "enter", "enter")
        await pilot.press("enter", "enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        await pilot.press("f9")
        await pilot.pause()
        table = app.screen.query_one(ApplicantsTable)
        for _ in range(100):
            if table.total == COUNT + 1:
                break
            await pilot.pause(0.02)
        assert table.total == COUNT + 1
        assert "刘新人" in _shown_names(table)


@dataclass
class AdminAuth:
    role: str = "unit_admin"

    def login(self, id_number: str, password: str) -> LoginResult:
        return LoginResult("tok", must_change_password=False, name="单位管理员", role=self.role)

    def change_password(self, token: str, old: str, new: str) -> None:
        raise AssertionError("not asked")


async def _log_in(pilot: Pilot[None], app: ZctuiApp) -> None:
    from textual.widgets import Input

    app.screen.query_one("#id-number", Input).focus()
    await pilot.press(*"130902198010100011")
    app.screen.query_one("#password", Input).focus()
    await pilot.press(*"Zc#2026abc", "enter")
    for _ in range(300):  # not wait_for_complete: the completion worker may still run
        await pilot.pause(0.02)
        if not isinstance(app.screen, LoginScreen):
            break
    await pilot.pause()


async def test_a_unit_admin_s_login_lands_on_the_applicants_table(
    unit: tuple[Path, Unit],
) -> None:
    path, _ = unit
    app = create_app(path, auth=AdminAuth())
    async with app.run_test(size=SIZE) as pilot:
        await _log_in(pilot, app)
        assert isinstance(app.screen, ApplicantsScreen)
        table = await _table_ready(pilot, app)
        assert table.total == COUNT


async def test_a_unit_admin_with_no_applications_yet_still_gets_the_table(
    tmp_path: Path,
) -> None:
    """An empty unit: the table says so (0 份), and n starts the first application."""
    app = create_app(tmp_path / "ws.sqlite3", auth=AdminAuth())
    async with app.run_test(size=SIZE) as pilot:
        await _log_in(pilot, app)
        assert isinstance(app.screen, ApplicantsScreen)
        table = await _table_ready(pilot, app)
        assert table.total == 0
        assert "共 0 份申报" in str(app.screen.query_one("#applicants-status").render())


async def test_an_applicant_s_login_keeps_today_s_start(tmp_path: Path) -> None:
    """An applicant (no applications yet) gets the new-application form, as before."""
    app = create_app(tmp_path / "ws.sqlite3", auth=AdminAuth(role="applicant"))
    async with app.run_test(size=SIZE) as pilot:
        await _log_in(pilot, app)
        assert isinstance(app.screen, NewApplicationScreen)


class WireSyncs:
    """`Syncs` over the in-process server (as tests/test_tui_sync.py)."""

    def __init__(self, world: World, path: Path, token: str) -> None:
        self.ws = Workspace(path, world.client(), {"Authorization": f"Bearer {token}"})

    def sync(self) -> SyncReport:
        return self.ws.sync()

    def close(self) -> None:
        self.ws.close()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_a_unit_admin_logs_in_to_the_server_and_sees_the_unit_s_applications(
    world: World, tmp_path: Path
) -> None:
    """Against the real server in-process: an applicant of unit A syncs an application from
    a laptop; the unit's admin logs in (R1) and lands on the table, which lists it with the
    name from 基本信息, its series label and a completion from the checklist."""
    me = world.ready("applicant_a")
    laptop = Workspace(tmp_path / "laptop" / "ws.sqlite3", world.client(), me)
    app_row = build_complete(laptop.store, BlobStore(tmp_path / "laptop" / "blobs"), this_year())
    laptop.sync()
    world.ready("admin_a")  # the default password changed (R1.2)

    path = tmp_path / "admin" / "ws.sqlite3"
    tui = create_app(
        path,
        auth=HttpAuthClient("http://testserver", client=world.client()),
        connect=lambda token: WireSyncs(world, path, token),
    )
    async with tui.run_test(size=SIZE) as pilot:
        from textual.widgets import Input

        tui.screen.query_one("#id-number", Input).focus()
        await pilot.press(*world.people["admin_a"].id_number)
        tui.screen.query_one("#password", Input).focus()
        await pilot.press(*NEW_PASSWORD, "enter")
        for _ in range(500):
            await pilot.pause(0.02)
            if isinstance(tui.screen, ApplicantsScreen):
                break
        assert isinstance(tui.screen, ApplicantsScreen)
        table = await _table_ready(pilot, tui)
        assert app_row.id in table.keys
        assert table.cell_text(app_row.id, "name") == "杨丰"
        assert table.cell_text(app_row.id, "id_number") == "130902********0011"
        for _ in range(500):
            if table.completion_known(app_row.id):
                break
            await pilot.pause(0.02)
        assert table.cell_text(app_row.id, "completion") == "完整"


async def test_n_for_someone_who_already_applied_this_year_says_so(
    unit: tuple[Path, Unit],
) -> None:
    """One application per person per year: n with the ID number of someone in the table
    and this year is refused with a message, and nothing is created."""
    path, _ = unit
    app = create_app(path)
    async with app.run_test(size=SIZE) as pilot:
        table = await _table_ready(pilot, app)
        table.focus()
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, NewApplicationScreen)
        await pilot.press(*"张三", "enter", *id_number(COUNT // 2), "enter", "enter")
        await pilot.press("enter", "enter")
        await pilot.pause()
        assert isinstance(app.screen, NewApplicationScreen)
        assert "年度申报已经存在" in str(app.screen.query_one("#new-error").render())
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ApplicantsScreen)
        assert app.store is not None and len(app.store.applications()) == COUNT
