"""The unit's review in the TUI (issue 7, R12), with Pilot against the real server: a unit
admin logs in (the REST client is made at login from the server address), the queue lists
the submitted application, Enter opens it (R12.2 lock), the review screen shows it
read-only with its checklist, F3 marks items, F4 returns them, F6 approves; the applicant's
screen shows the reasons; the unit's accounts screen opens an account and resets a
password (R1.3)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, OptionList, Select

from server_world import NEW_PASSWORD, World, live_server, make_id, this_year
from sync_world import Workspace
from zctui.app import ZctuiApp, create_app
from zctui.demo import build_complete
from zctui.domain.models import Application
from zctui.domain.validators import DEFAULT_PASSWORD
from zctui.screens.applicants import ApplicantsScreen
from zctui.screens.confirm import ConfirmScreen
from zctui.screens.main import MainScreen
from zctui.screens.review import MarkScreen, ReviewScreen, drafts_path
from zctui.screens.review_queue import ReviewQueueScreen
from zctui.screens.unit_accounts import OpenAccountScreen, UnitAccountsScreen
from zctui.server.models import Account
from zctui.server.models import Application as ServerApplication
from zctui.store.blobs import BlobStore
from zctui.store.repository import Store
from zctui.sync.api import ServerApi
from zctui.sync.connect import connector
from zctui.sync.http_auth import HttpAuthClient
from zctui.widgets.field_row import FieldRow
from zctui.widgets.return_reasons import ReturnReasons
from zctui.widgets.review_marks import ReviewMarks

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
# The screens against the server on SQLite; test_review_flow runs the flow on both databases.
on_sqlite = pytest.mark.parametrize("server_engine", ["sqlite"], indirect=True)


def _server_app(world: World, app_id: uuid.UUID) -> ServerApplication:
    with Session(world.engine) as db:
        found = db.get(ServerApplication, app_id)
        assert found is not None
        return found


def _submitted(world: World, tmp_path: Path) -> uuid.UUID:
    """杨丰's complete application, typed on a laptop, synced and submitted (R12)."""
    laptop = Workspace(
        tmp_path / "laptop" / "ws.sqlite3", world.client(), world.ready("applicant_a")
    )
    app = build_complete(laptop.store, BlobStore(tmp_path / "laptop" / "blobs"), this_year())
    laptop.sync()
    laptop.store.set_field("application", app.id, "state", "submitted")
    assert laptop.sync().issues == []
    laptop.close()
    return app.id


async def _settled(pilot: Pilot[None], app: ZctuiApp, until: Any = None) -> None:
    deadline = time.monotonic() + 15
    while True:
        await app.workers.wait_for_complete()
        await pilot.pause()
        if until is None or until() or time.monotonic() > deadline:
            return


def _notices(tui: ZctuiApp) -> list[str]:
    seen: list[str] = []
    notify = tui.notify

    def spy(message: str, **kwargs: Any) -> None:
        seen.append(message)
        notify(message, **kwargs)

    tui.notify = spy  # type: ignore[method-assign]
    return seen


@pytest.fixture
def served(world: World) -> Iterator[str]:
    with live_server(world.app) as url:
        yield url


async def _login(pilot: Pilot[None], tui: ZctuiApp, id_number: str) -> None:
    tui.screen.query_one("#id-number", Input).focus()
    await pilot.press(*id_number)
    tui.screen.query_one("#password", Input).focus()
    await pilot.press(*NEW_PASSWORD, "enter")
    # An applicant lands on their application, a unit admin on the unit's table.
    await _settled(pilot, tui, lambda: isinstance(tui.screen, MainScreen | ApplicantsScreen))


@on_sqlite
async def test_r12_queue_open_mark_return(world: World, served: str, tmp_path: Path) -> None:
    app_id = _submitted(world, tmp_path)
    world.ready("admin_a")
    path = tmp_path / "unit" / "ws.sqlite3"
    tui = create_app(
        path, auth=HttpAuthClient(served), connect=connector(served, path), server_url=served
    )
    seen = _notices(tui)
    async with tui.run_test(size=(140, 40)) as pilot:
        await _login(pilot, tui, world.people["admin_a"].id_number)
        assert tui.api is not None  # made at login, for the online-only calls
        assert isinstance(tui.screen, ApplicantsScreen)
        await pilot.press("f2")  # the table's key for the review queue
        await _settled(pilot, tui, lambda: isinstance(tui.screen, ReviewQueueScreen))
        queue = tui.screen
        assert isinstance(queue, ReviewQueueScreen)
        table = queue.query_one(DataTable)
        await _settled(pilot, tui, lambda: table.row_count == 1)
        row = [str(c) for c in table.get_row_at(0)]
        assert row[0] == "杨丰" and row[4] == "已提交，待单位审核"
        assert row[1] == "130902********0011"  # masked, as the unit's tables show it

        await pilot.press("enter")  # open: the server locks it (R12.2), a sync, the screen
        await _settled(pilot, tui, lambda: isinstance(tui.screen, ReviewScreen))
        review = tui.screen
        assert isinstance(review, ReviewScreen)
        assert _server_app(world, app_id).state == "unit_opened"
        assert "单位审核中" in str(review.sub_title)
        assert tui.session is review.session  # a sync reloads what is on screen
        await _settled(pilot, tui, lambda: bool(review.query(FieldRow)))
        assert all(r.read_only for r in review.query(FieldRow))  # every section read-only

        await pilot.press("f4")  # nothing marked yet: says what to do first
        assert any("先按 F3" in n for n in seen)

        await pilot.press("f3")  # the section shown (基本信息), a field, a reason
        mark = tui.screen
        assert isinstance(mark, MarkScreen) and mark.section == "basic"
        mark.query_one("#mark-field", Select).value = "mobile"
        await pilot.press("enter")  # no reason: refused with what is expected
        assert isinstance(tui.screen, MarkScreen)
        await pilot.press(*"手机号码不是本人的", "enter")
        await pilot.pause()
        marks = review.query_one(ReviewMarks)
        assert [(m.section, m.field) for m in marks.marks] == [("basic", "mobile")]
        assert drafts_path(review.session).exists()  # kept on disk until sent

        await pilot.press("f3")
        other = tui.screen
        assert isinstance(other, MarkScreen)
        other.query_one("#mark-section", Select).value = "paper"
        await pilot.pause()
        await pilot.press(*"封面不清楚", "enter")
        await pilot.pause()
        assert len(marks.marks) == 2
        await pilot.press("f3", *"写错了", "enter")  # a third, then taken back with Del
        await pilot.pause()
        assert len(marks.marks) == 3
        marks.query_one(OptionList).focus()
        await pilot.press("delete")
        assert [m.reason for m in marks.marks] == ["手机号码不是本人的", "封面不清楚"]

        await pilot.press("f4")
        confirm = tui.screen
        assert isinstance(confirm, ConfirmScreen)
        assert "「个人基本信息」手机号码：手机号码不是本人的" in confirm.text
        await pilot.click("#yes")
        await _settled(pilot, tui, lambda: "单位退回修改" in str(review.sub_title))
        server = _server_app(world, app_id)
        assert server.state == "unit_returned"
        assert [(i["section"], i.get("field")) for i in server.return_items] == [
            ("basic", "mobile"),
            ("paper", None),
        ]
        assert not drafts_path(review.session).exists()
        assert marks.marks == []
        assert "单位退回修改" in str(review.sub_title)  # the sync brought the new state

        await pilot.press("f6")  # no longer under review: the server's refusal, as it is
        await pilot.click("#yes")
        await _settled(pilot, tui, lambda: any("不能「单位审核通过」" in n for n in seen))
        assert any("不能「单位审核通过」" in n for n in seen)

        await pilot.press("escape")  # back to the queue, which now lists it as returned
        await pilot.pause()
        assert tui.screen is queue
        assert tui.session is not review.session


@on_sqlite
async def test_r12_approve_forwards_it(world: World, served: str, tmp_path: Path) -> None:
    app_id = _submitted(world, tmp_path)
    world.ready("admin_a")
    path = tmp_path / "unit" / "ws.sqlite3"
    tui = create_app(
        path, auth=HttpAuthClient(served), connect=connector(served, path), server_url=served
    )
    async with tui.run_test(size=(140, 40)) as pilot:
        await _login(pilot, tui, world.people["admin_a"].id_number)
        assert tui.api is not None and tui.role == "unit_admin"
        await pilot.press("ctrl+p")  # the palette: 审核列表 by its pinyin initials
        await pilot.pause()
        await pilot.press(*"shlb")
        await _settled(pilot, tui, lambda: _offered(tui, "审核列表"))
        await pilot.press("enter")
        await _settled(pilot, tui, lambda: isinstance(tui.screen, ReviewQueueScreen))
        queue = tui.screen
        assert isinstance(queue, ReviewQueueScreen)
        table = queue.query_one(DataTable)
        await _settled(pilot, tui, lambda: table.row_count == 1)
        queue.query_one(DataTable).focus()
        await pilot.press("enter")
        await _settled(pilot, tui, lambda: isinstance(tui.screen, ReviewScreen))
        review = tui.screen
        assert isinstance(review, ReviewScreen)
        await pilot.press("f6")
        assert isinstance(tui.screen, ConfirmScreen)
        await pilot.click("#yes")
        await _settled(pilot, tui, lambda: "单位已通过" in str(review.sub_title))
        assert _server_app(world, app_id).state == "unit_approved"
        await pilot.press("escape")
        await _settled(pilot, tui, lambda: table.row_count == 0)
        assert table.row_count == 0  # left the queue of what awaits review


async def test_r12_applicant_sees_the_unit_s_reasons(tmp_path: Path) -> None:
    """Returned: the applicant's screen lists each item by section and field, editable."""
    path = tmp_path / "ws.sqlite3"
    with Store(path) as store:
        app = build_complete(store, BlobStore(tmp_path / "blobs"), this_year())
        store.set_field("application", app.id, "state", "unit_returned")
        with store.engine.begin() as conn:
            t = Application.__table__  # type: ignore[attr-defined]
            items = [{"section": "basic", "field": "mobile", "reason": "请改为本人手机"}]
            conn.execute(t.update().where(t.c.id == app.id).values(return_items=items))
    tui = create_app(path)
    async with tui.run_test(size=(120, 36)) as pilot:
        screen = tui.screen
        assert isinstance(screen, MainScreen)
        banner = screen.query_one(ReturnReasons)
        assert banner.display and not banner.has_class("-empty")
        assert "「个人基本信息」手机号码：请改为本人手机" in str(banner.content)
        assert not screen.session.read_only  # back with the applicant to fix
        await pilot.pause()


@on_sqlite
async def test_r1_3_unit_opens_an_account_and_resets_a_password(
    world: World, tmp_path: Path
) -> None:
    token = world.ready("admin_a")["Authorization"].removeprefix("Bearer ")
    api = ServerApi("http://testserver", token, client=world.client())
    tui = create_app(tmp_path / "ws.sqlite3")
    seen = _notices(tui)
    async with tui.run_test(size=(120, 36)) as pilot:
        screen = UnitAccountsScreen(api)
        await tui.push_screen(screen)
        table = screen.query_one(DataTable)
        await _settled(pilot, tui, lambda: table.row_count > 0)
        names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert "杨丰" in names and "王芳" not in names  # the unit's own people only

        await pilot.press("f3")
        form = tui.screen
        assert isinstance(form, OpenAccountScreen)
        assert DEFAULT_PASSWORD in str(form.query_one("#account-rule").render())
        ident = make_id("19920202", 311)
        await pilot.press(*ident[:-1], "0", "enter", *"陈静", "enter", "enter")
        await pilot.pause()
        assert "校验" in str(form.query_one("#account-error").render())  # a wrong check digit
        id_input = form.query_one("#account-id", Input)
        id_input.value = ident
        form.query_one("#account-mobile", Input).focus()
        await pilot.press("enter")
        await _settled(pilot, tui, lambda: tui.screen is screen)
        assert tui.screen is screen
        await _settled(pilot, tui, lambda: "陈静" in _names(table))
        with Session(world.engine) as db:
            made = db.query(Account).filter_by(id_number=ident).one()
            assert made.must_change and made.unit_id == world.units["A"]
        assert any("陈静" in n and DEFAULT_PASSWORD in n for n in seen)

        # The same person again: the server's refusal, everything typed kept.
        await pilot.press("f3")
        again = tui.screen
        assert isinstance(again, OpenAccountScreen)
        await pilot.press(*ident, "enter", *"陈静", "enter", "enter")
        await _settled(
            pilot, tui, lambda: "已有帐号" in str(again.query_one("#account-error").render())
        )
        assert again.query_one("#account-id", Input).value == ident
        await pilot.press("escape")

        table.move_cursor(row=_names(table).index("杨丰"))
        await pilot.press("f4")
        confirm = tui.screen
        assert isinstance(confirm, ConfirmScreen) and DEFAULT_PASSWORD in confirm.text
        await pilot.click("#yes")
        await _settled(pilot, tui, lambda: any("已将杨丰的密码重置" in n for n in seen))
        with Session(world.engine) as db:
            yang = db.get(Account, world.people["applicant_a"].id)
            assert yang is not None and yang.must_change  # R1.3: change at next login
        old = world.login("applicant_a")
        assert old.status_code == 401  # the changed password no longer works


def _offered(tui: ZctuiApp, text: str) -> bool:
    found = tui.screen.query(OptionList)
    options = found.first(OptionList) if found else None
    if options is None or options.option_count == 0:
        return False
    return text in str(options.get_option_at_index(0).prompt)


def _names(table: DataTable[Any]) -> list[str]:
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
