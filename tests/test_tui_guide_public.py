"""The guide screen (issue 8: twelve steps in the guide's words; from an application a step
or a section's link opens that part of the form; the 填报说明, R2.7) and the public pages
(R1.4: 通知公告, 政策文件, 证书查询) from the login screen, against the in-process server."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from textual.pilot import Pilot
from textual.widgets import Input, Markdown, OptionList, Static, TabbedContent

from server_world import World, complete_application
from zctui.app import ZctuiApp, create_app
from zctui.demo import build_demo
from zctui.screens.guide import GuideScreen
from zctui.screens.login import LoginScreen
from zctui.screens.main import MainScreen
from zctui.screens.public import PublicScreen
from zctui.server.models import Certificate
from zctui.sync.http_auth import HttpAuthClient

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


async def _settled(pilot: Pilot[None], group: str | None = None) -> None:
    """Pauses, and the screen's own workers (the public reads) done."""
    for _ in range(4):
        await pilot.pause()
        for w in list(pilot.app.workers):
            if group and w.group.startswith(group):
                await w.wait()


def _guide(app: ZctuiApp) -> GuideScreen:
    screen = app.screen
    assert isinstance(screen, GuideScreen), screen
    return screen


async def test_guide_twelve_steps_and_jump_to_a_section(tmp_path: Path) -> None:
    path = tmp_path / "ws.sqlite3"
    _, half = build_demo(path, year=2026)
    app = create_app(path, application_id=half.id)
    async with app.run_test(size=(120, 36)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        await main._open_and_focus(("section", "education"))
        await pilot.press("f3")
        await _settled(pilot)
        guide = _guide(app)
        assert guide.can_jump
        steps = guide.query_one("#guide-steps", OptionList)
        prompts = [str(steps.get_option_at_index(i).prompt) for i in range(steps.option_count)]
        assert len(prompts) == 13 and prompts[0] == "第一步：登录"
        assert prompts[-1] == "填报说明（R2.7）"
        assert steps.highlighted == 6  # opened at the step on screen: 第七步 学习资历
        text = guide.query_one("#guide-text", Markdown)
        assert text.source.startswith("## 第七步：学习资历")
        assert "学历要求录本人的**参评学历**。" in text.source
        await pilot.press("up", "up")  # 第五步 申报基础材料
        await pilot.pause()
        assert "1—4为必填项" in text.source
        await pilot.press("enter")
        await _settled(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.screen.current == ("section", "materials")

        # A section's link in the step's text opens that section.
        await pilot.press("f3")
        await _settled(pilot)
        guide = _guide(app)
        guide.query_one("#guide-steps", OptionList).highlighted = 9  # 第十步 论文论著
        await pilot.pause()
        md = guide.query_one("#guide-text", Markdown)
        assert "[论著](zctui-section:monograph)" in md.source
        md.post_message(Markdown.LinkClicked(md, "zctui-section:monograph"))
        await _settled(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.screen.current == ("section", "monograph")

        # R2.7: the 填报说明 is readable here, and says what it is.
        await pilot.press("f3")
        await _settled(pilot)
        guide = _guide(app)
        guide.query_one("#guide-steps", OptionList).highlighted = 12
        await pilot.pause()
        source = guide.query_one("#guide-text", Markdown).source
        assert "填报说明" in source and "第十二步：提交审核" in source
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is main


@pytest.fixture
def published(world: World, tmp_path: Path) -> World:
    office = world.ready("office")
    c = world.client()
    for kind, title, body in (
        ("announcement", "关于2026年度职称申报工作的通知", "申报时间：**6月1日至6月30日**。"),
        ("policy", "河北省高、中级职称申报评审条件", "冀人社发〔2019〕28号"),
    ):
        r = c.post("/publications", json={"kind": kind, "title": title, "body": body},
                   headers=office)  # fmt: skip
        assert r.status_code == 201, r.text
    app_id = complete_application(world, world.ready("applicant_a"), tmp_path)
    with Session(world.engine) as db:
        db.add(Certificate(number="CZ2026-0001", name="杨丰", application_id=uuid.UUID(app_id),
                           series="230.zy", specialty="02", title="232",
                           unit_name="沧州市中西医结合医院"))  # fmt: skip
        db.commit()
    return world


async def test_r1_4_public_pages_before_login(published: World, tmp_path: Path) -> None:
    world = published
    auth = HttpAuthClient("http://testserver", client=world.client())
    app = create_app(tmp_path / "ws.sqlite3", auth=auth)
    async with app.run_test(size=(120, 36)) as pilot:
        assert isinstance(app.screen, LoginScreen)
        await pilot.press("f4")
        await _settled(pilot, "public")
        public = app.screen
        assert isinstance(public, PublicScreen)
        news = public.query_one("#announcement-list", OptionList)
        assert news.option_count == 1
        assert "关于2026年度职称申报工作的通知" in str(news.get_option_at_index(0).prompt)
        body = public.query_one("#announcement-body", Markdown).source
        assert body.startswith("# 关于2026年度职称申报工作的通知") and "6月1日至6月30日" in body
        policies = public.query_one("#policy-list", OptionList)
        assert "冀人社发" not in str(policies.get_option_at_index(0).prompt)
        assert "河北省高、中级职称申报评审条件" in str(policies.get_option_at_index(0).prompt)

        public.query_one(TabbedContent).active = "certificate"
        await pilot.pause()
        result = public.query_one("#cert-result", Static)

        async def look_up(number: str, name: str) -> str:
            public.query_one("#cert-number", Input).value = number
            box = public.query_one("#cert-name", Input)
            box.value = name
            box.focus()
            await pilot.press("enter")
            await _settled(pilot, "public")
            return str(result.render())

        found = await look_up("CZ2026-0001", "杨丰")
        assert "查到该证书" in found and "姓名：杨丰" in found
        assert "职称：副主任医师" in found and "工作单位：沧州市中西医结合医院" in found
        wrong = await look_up("CZ2026-0001", "王芳")
        assert wrong == "未查到该证书：请核对证书编号和姓名是否与证书上的一致"
        empty = await look_up("CZ2026-0001", "")
        assert "请输入姓名" in empty
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen)


async def test_public_key_is_hidden_without_a_server(tmp_path: Path) -> None:
    path = tmp_path / "ws.sqlite3"
    _, half = build_demo(path, year=2026)
    app = create_app(path, application_id=half.id)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)  # no server: nothing to read
