"""The title office's screens with Pilot against the real server in process: the queue,
accept → 评审通过 → 发放证书 with a generated number, a required reason for 评审不通过, the
server's refusals in its own words (and what was typed offered again), publishing, and the
overview table exported from the TUI."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static, TextArea
from textual.worker import WorkerCancelled

from server_world import World, approved, complete_application, this_year
from zctui.demo import build_demo
from zctui.screens.confirm import ConfirmScreen
from zctui.screens.office import REASON_REQUIRED, OfficeScreen
from zctui.screens.overview_export import OverviewExportScreen
from zctui.screens.prompt import PromptScreen
from zctui.screens.publish import PublishScreen
from zctui.store.repository import Store
from zctui.sync.api import ServerApi

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


class Host(App[None]):
    """Only the screen under test (the integrator routes the office's login to it)."""

    def __init__(self, first: Screen[None] | OverviewExportScreen) -> None:
        super().__init__()
        self.first = first

        self.opened: list[str] = []

    def on_mount(self) -> None:
        self.push_screen(self.first)

    def on_office_screen_open(self, event: OfficeScreen.Open) -> None:
        self.opened.append(event.app_id)


def _api(world: World, key: str) -> ServerApi:
    token = world.ready(key)["Authorization"].removeprefix("Bearer ")
    return ServerApi("http://testserver", token, client=world.client())


async def _settled(pilot: Pilot[None]) -> None:
    for _ in range(3):
        # An exclusive worker replaced by a newer one (a later row's trail) is cancelled.
        with contextlib.suppress(WorkerCancelled):
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def _text(screen: Screen[Any], selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def _cells(screen: Screen[None]) -> list[list[str]]:
    table: DataTable[str] = screen.query_one(DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def _confirm(pilot: Pilot[None]) -> None:
    assert isinstance(pilot.app.screen, ConfirmScreen)
    await pilot.click("#yes")
    await _settled(pilot)


async def test_r12_office_screen_accept_pass_issue(world: World, tmp_path: Path) -> None:
    ha, hu = world.ready("applicant_a"), world.ready("admin_a")
    c = world.client()
    app_id = complete_application(world, ha, tmp_path)
    for action in ("submit", "open", "approve"):
        h = ha if action == "submit" else hu
        assert c.post(f"/applications/{app_id}/{action}", headers=h).status_code == 200
    screen = OfficeScreen(_api(world, "office"), state="")
    async with Host(screen).run_test(size=(120, 36)) as pilot:
        await _settled(pilot)
        assert _cells(screen) == [
            ["杨丰", "沧州市中西医结合医院", "中医系列-中医", "副主任医师", "单位已通过", ""]
        ]
        assert "沧州市中西医结合医院" in _text(screen, "#office-detail")
        await pilot.press("enter")  # the app is asked to show it read-only in full
        await pilot.pause()
        assert pilot.app.opened == [app_id]  # type: ignore[attr-defined]
        # Not yet accepted: 评审通过 is refused with the workflow's words, nothing is sent.
        await pilot.press("p")
        assert "不能「评审通过」" in _text(screen, "#office-status")
        assert not isinstance(pilot.app.screen, ConfirmScreen)
        await pilot.press("a")
        await _confirm(pilot)
        assert _cells(screen)[0][4] == "职改办审核中"
        # 评审不通过 needs a reason: a blank one is refused on the spot, Esc leaves it be.
        await pilot.press("r")
        assert isinstance(pilot.app.screen, PromptScreen)
        await pilot.press("enter")
        assert isinstance(pilot.app.screen, PromptScreen)
        assert REASON_REQUIRED in _text(pilot.app.screen, "#prompt-error")
        await pilot.press("escape")
        await pilot.press("p")
        await _confirm(pilot)
        assert _cells(screen)[0][4] == "评审通过"
        await pilot.press("i")
        assert isinstance(pilot.app.screen, PromptScreen)
        await pilot.press("enter")  # blank: the server makes the number
        await _settled(pilot)
        number = f"冀职{this_year()}000001"
        assert number in _text(screen, "#office-status")
        assert _cells(screen)[0][4:] == ["已发证", number]
        trail = _text(screen, "#office-detail")
        assert "职改办受理" in trail and "发放证书" in trail
    found = c.post("/public/certificates/lookup", json={"number": number, "name": "杨丰"})
    assert found.status_code == 200


async def test_office_screen_shows_the_server_refusal_and_keeps_what_was_typed(
    world: World,
) -> None:
    """A certificate number already used: the server's words, the application unchanged, and
    the typed number offered again."""
    office = _api(world, "office")
    first = approved(world, "applicant_a")
    office.office_action(first, "issue", certificate_number="冀职证2025-0001")
    approved(world, "applicant_b")
    screen = OfficeScreen(office, state="approved")
    async with Host(screen).run_test(size=(120, 36)) as pilot:
        await _settled(pilot)
        assert [r[0] for r in _cells(screen)] == ["王芳"]
        await pilot.press("i")
        await pilot.press(*"冀职证2025-0001", "enter")
        await _settled(pilot)
        assert "证书编号 冀职证2025-0001 已被使用" in _text(screen, "#office-status")
        assert _cells(screen)[0][4] == "评审通过"
        await pilot.press("i")
        assert pilot.app.screen.query_one(Input).value == "冀职证2025-0001"
        await pilot.press("escape")
        # Typing filters the queue by unit or series.
        screen.query_one("#office-filter", Input).value = "人民医院"
        await pilot.pause()
        assert [r[0] for r in _cells(screen)] == ["王芳"]
        screen.query_one("#office-filter", Input).value = "中西医"
        await pilot.pause()
        assert _cells(screen) == []
        screen.query_one(DataTable).focus()
        await pilot.press("n")  # publishing is one key away
        await _settled(pilot)
        assert isinstance(pilot.app.screen, PublishScreen)
        pilot.app.screen.query_one("#publish-title", Input).value = "草稿"
        await pilot.press("escape")
        assert pilot.app.screen is screen
        await pilot.press("n")  # the half-typed title is still there
        await _settled(pilot)
        assert pilot.app.screen.query_one("#publish-title", Input).value == "草稿"


async def test_publish_screen_publishes_and_lists(world: World) -> None:
    screen = PublishScreen(_api(world, "office"))
    async with Host(screen).run_test(size=(120, 40)) as pilot:
        await _settled(pilot)
        await pilot.press("ctrl+s")
        assert "请填写标题" in _text(screen, "#publish-status")
        screen.query_one("#publish-title", Input).value = "关于2026年度职称申报工作的通知"
        screen.query_one("#publish-body", TextArea).text = "# 申报时间\n\n即日起至 12 月 31 日。"
        await pilot.press("ctrl+s")
        await _confirm(pilot)
        assert "已发布" in _text(screen, "#publish-status")
        assert screen.query_one("#publish-title", Input).value == ""
        table: DataTable[str] = screen.query_one("#publish-list", DataTable)
        assert table.row_count == 1
        assert str(table.get_row_at(0)[1]) == "关于2026年度职称申报工作的通知"
    public = world.client().get("/public/announcements").json()
    assert public[0]["body"] == "# 申报时间\n\n即日起至 12 月 31 日。"


async def test_publish_refused_keeps_the_text(world: World) -> None:
    """An account that may not publish: the server's refusal is shown, nothing typed is lost."""
    screen = PublishScreen(_api(world, "admin_a"), kind="policy")
    async with Host(screen).run_test(size=(120, 40)) as pilot:
        await _settled(pilot)
        screen.query_one("#publish-title", Input).value = "某政策"
        screen.query_one("#publish-body", TextArea).text = "正文"
        await pilot.press("ctrl+s")
        await _confirm(pilot)
        assert "无权" in _text(screen, "#publish-status")
        assert screen.query_one("#publish-title", Input).value == "某政策"
        assert screen.query_one("#publish-body", TextArea).text == "正文"


async def test_overview_export_screen_writes_the_table(tmp_path: Path) -> None:
    path = tmp_path / "ws.sqlite3"
    build_demo(path, year=2026)
    target = tmp_path / "表"
    with Store(path) as store:
        screen = OverviewExportScreen(store)
        async with Host(screen).run_test(size=(110, 30)) as pilot:
            await pilot.pause()
            assert screen.query_one(Input).value.endswith("一览表.xlsx")
            screen.query_one(Input).value = str(target)
            await pilot.press("enter")
            await _settled(pilot)
            assert "已导出一览表" in _text(screen, "#overview-status")
            assert "2 人" in _text(screen, "#overview-status")
    ws = openpyxl.load_workbook(tmp_path / "表.xlsx").active
    assert ws is not None and ws.max_row >= 5
