"""R1 login against a fake of the server's AuthClient: ID number and password, the forced
change of the default password (R1.2), then the workspace opens."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input

from zctui.app import ZctuiApp, create_app
from zctui.screens.login import LoginScreen, PasswordScreen
from zctui.screens.start import NewApplicationScreen
from zctui.sync.auth import AuthError, LoginResult

ID = "130902198010100011"


@dataclass
class FakeAuth:
    """Behaves like the server will: default password 88888888 must be changed first."""

    password: str = "88888888"
    calls: list[str] = field(default_factory=list)

    def login(self, id_number: str, password: str) -> LoginResult:
        self.calls.append(f"login {id_number}")
        if id_number != ID or password != self.password:
            raise AuthError("身份证号或密码错误")
        return LoginResult("tok", must_change_password=password == "88888888", name="杨丰")

    def change_password(self, token: str, old: str, new: str) -> None:
        self.calls.append("change")
        if old != self.password:
            raise AuthError("原密码错误")
        self.password = new


async def fill(pilot: Pilot[None], app: ZctuiApp, selector: str, text: str) -> None:
    app.screen.query_one(selector, Input).focus()
    await pilot.press(*text)


async def test_r1_2_default_password_forces_a_change_then_login_again(tmp_path: Path) -> None:
    auth = FakeAuth()
    app = create_app(tmp_path / "ws.sqlite3", auth=auth)
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen, LoginScreen)
        await fill(pilot, app, "#id-number", ID)
        await fill(pilot, app, "#password", "88888888")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, PasswordScreen)
        # A weak new password is refused with the rule, in Chinese.
        await fill(pilot, app, "#old", "88888888")
        await fill(pilot, app, "#new", "zhicheng2026")
        await fill(pilot, app, "#again", "zhicheng2026")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PasswordScreen)
        assert "符号" in str(app.screen.query_one("#password-error").render())
        for sel in ("#new", "#again"):
            app.screen.query_one(sel, Input).value = ""
            await fill(pilot, app, sel, "Zc#2026abc")
        await pilot.press("enter")
        await pilot.pause()
        assert auth.password == "Zc#2026abc"
        # Back on the login screen: log in again with the new password (R1.2).
        assert isinstance(app.screen, LoginScreen)
        assert "重新登录" in str(app.screen.query_one("#login-error").render())
        await fill(pilot, app, "#password", "Zc#2026abc")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, NewApplicationScreen)  # the (empty) workspace opens


async def test_r1_1_wrong_password_says_so(tmp_path: Path) -> None:
    app = create_app(tmp_path / "ws.sqlite3", auth=FakeAuth())
    async with app.run_test(size=(80, 24)) as pilot:
        await fill(pilot, app, "#id-number", ID)
        await fill(pilot, app, "#password", "wrong")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen)
        assert "密码错误" in str(app.screen.query_one("#login-error").render())


async def test_r1_1_id_number_checked_before_asking_the_server(tmp_path: Path) -> None:
    auth = FakeAuth()
    app = create_app(tmp_path / "ws.sqlite3", auth=auth)
    async with app.run_test(size=(80, 24)) as pilot:
        await fill(pilot, app, "#id-number", "130902198010100012")
        await fill(pilot, app, "#password", "88888888")
        await pilot.press("enter")
        await pilot.pause()
        assert "校验位" in str(app.screen.query_one("#login-error").render())
        assert auth.calls == []
