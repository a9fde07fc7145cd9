"""The helpdesk in the TUI (issue 8), against the in-process server: a helpdesk account logs
in, looks a person up and reads their application masked, on the step they are on, with
each missing item's rule id, our help and the guide's words — the applicant's F1 text. The
screen offers no key that changes anything, and nothing changes on the server."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlmodel import col
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Button, Input, OptionList, Static

from server_world import DEMO_ID, NEW_PASSWORD, World, complete_application
from zctui.data.forms import load_forms
from zctui.screens.helpdesk import HelpdeskScreen
from zctui.screens.login import LoginScreen
from zctui.server.models import SECTION_TABLES, Application, Audit
from zctui.sync.api import ServerApi
from zctui.sync.auth import LoginResult
from zctui.sync.http_auth import HttpAuthClient

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
BASIC = SECTION_TABLES["basic_info"]


class Desk(App[None]):
    """Login, then the helpdesk screen: what the app does for role `helpdesk`."""

    def __init__(self, world: World) -> None:
        super().__init__()
        self.world = world
        self.role = ""

    def on_mount(self) -> None:
        auth = HttpAuthClient("http://testserver", client=self.world.client())
        self.push_screen(LoginScreen(auth), self._logged_in)

    def _logged_in(self, result: LoginResult | None) -> None:
        assert result is not None
        self.role = result.role
        api = ServerApi("http://testserver", result.token, client=self.world.client())
        self.push_screen(HelpdeskScreen(api, name=result.name))


def _text(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def _settled(pilot: Pilot[None]) -> None:
    for _ in range(4):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def _search(pilot: Pilot[None], screen: HelpdeskScreen, query: str) -> None:
    box = screen.query_one("#query", Input)
    box.value = ""
    box.focus()
    await pilot.press(*query, "enter")
    await _settled(pilot)


@pytest.fixture
def half_done(world: World, tmp_path: Path) -> tuple[World, str]:
    app_id = complete_application(world, world.ready("applicant_a"), tmp_path)
    with Session(world.engine) as db:
        db.execute(update(BASIC).where(BASIC.c.application_id == uuid.UUID(app_id))
                   .values(politics=None))  # fmt: skip
        db.commit()
    world.ready("helpdesk")  # the default password changed (R1.2)
    return world, app_id


async def test_r3_1_helpdesk_lookup_shows_masked_fields_step_and_missing_items(
    half_done: tuple[World, str],
) -> None:
    world, app_id = half_done
    desk = Desk(world)
    async with desk.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        desk.screen.query_one("#id-number", Input).focus()
        await pilot.press(*world.people["helpdesk"].id_number)
        desk.screen.query_one("#password", Input).focus()
        await pilot.press(*NEW_PASSWORD, "enter")
        await _settled(pilot)
        screen = desk.screen
        assert desk.role == "helpdesk" and isinstance(screen, HelpdeskScreen)

        await _search(pilot, screen, DEMO_ID)
        assert "找到 1 人、1 份申报" in _text(screen, "#lookup-message")
        head = _text(screen, "#app-head")  # the one application opened at once
        assert "杨丰" in head and "130902********0011" in head and DEMO_ID not in head
        assert "138****" in head and "中医外科" in head
        assert "正在第3步：录入基础信息（R3），还缺 1 项" in _text(screen, "#app-step")
        missing = screen.query_one("#missing", OptionList)
        assert missing.option_count == 1
        assert str(missing.get_option_at_index(0).prompt) == "✗ [R3.1] 个人基本信息：请选择政治面貌"
        # The applicant's F1 on 政治面貌, word for word: label, rule, our help, the guide.
        spec = load_forms().section("basic").field("politics")
        assert spec is not None
        assert screen.help_topic() == spec.topic()
        shown = _text(screen, "#item-help")
        assert f"说明：{spec.help}" in shown and "指南原文：手动选择民族和政治面貌。" in shown
        steps = _text(screen, "#app-steps")
        assert "✗ 第3步 录入基础信息  未完成（缺 1 项）" in steps and "✓ 第2步" in steps

        # By pinyin initials too; then the keys an applicant edits with do nothing here.
        await _search(pilot, screen, "yf")
        assert "杨丰" in str(screen.query_one("#results", OptionList).get_option_at_index(0).prompt)
        screen.query_one("#missing", OptionList).focus()
        await pilot.press("enter", "a", "d", "delete", "ctrl+t", "ctrl+y", "ctrl+e")
        await _settled(pilot)
        assert desk.screen is screen
        assert [i.id for i in screen.query(Input)] == ["query"]  # the search box alone
        assert not screen.query(Button)
        ids = {b.id for b in screen.BINDINGS if not isinstance(b, tuple)}
        assert ids == {"helpdesk-search", "helpdesk-results", "helpdesk-missing"}

    with Session(world.engine) as db:
        app = db.get(Application, uuid.UUID(app_id))
        assert app is not None and app.state == "draft"
        assert db.execute(select(BASIC.c.politics)).scalar() is None
        events = [a.event for a in db.scalars(select(Audit).where(
            col(Audit.actor_role) == "helpdesk").order_by(col(Audit.id)))]  # fmt: skip
    # Two lookups and the views they opened, audited; nothing else done as the helpdesk.
    assert [e for e in events if e not in ("login.ok", "password.changed")] == [
        "helpdesk.lookup",
        "helpdesk.view",
        "helpdesk.lookup",
        "helpdesk.view",
    ]


async def test_lookup_not_found_and_refused_queries_say_why_in_chinese(
    half_done: tuple[World, str],
) -> None:
    world, _ = half_done
    headers = world.ready("helpdesk")
    token = headers["Authorization"].removeprefix("Bearer ")

    class Host(App[None]):
        def on_mount(self) -> None:
            api = ServerApi("http://testserver", token, client=world.client())
            self.push_screen(HelpdeskScreen(api))

    host = Host()
    async with host.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        screen = host.screen
        assert isinstance(screen, HelpdeskScreen)
        await _search(pilot, screen, "孙悟空")
        assert "没有找到" in _text(screen, "#lookup-message")
        await _search(pilot, screen, DEMO_ID[:8])
        assert "完整的身份证号" in _text(screen, "#lookup-message")
