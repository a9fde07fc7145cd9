"""R1 login with ID number and password, and the forced change of the default password."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, Footer, Input, Static

from zctui.data.catalog import common_passwords
from zctui.domain.validators import check_id_number, check_password
from zctui.screens.enter_next import EnterMovesOn
from zctui.sync.auth import AuthClient, AuthError, LoginResult

R1_GUIDE = (
    "帐号：身份证号。密码：首次登录为六个8，进入后会强制修改密码，"
    "密码要求8到20位，“字母+数字+特殊符号”的组合。"
)


class LoginScreen(EnterMovesOn[LoginResult]):
    DEFAULT_CSS = """
    LoginScreen { align: center middle; }
    LoginScreen > Vertical { width: 60; height: auto; border: round $accent; padding: 0 1; }
    LoginScreen Input { margin-bottom: 1; }
    LoginScreen .error { color: $error; }
    LoginScreen .hint { color: $text-muted; }
    """

    def __init__(self, auth: AuthClient) -> None:
        super().__init__()
        self.auth = auth

    def help_topic(self) -> tuple[str, str, str, str]:
        return ("登录", "R1.1", "用身份证号和密码登录；忘记密码请找单位管理员重置。", R1_GUIDE)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("河北省专业技术职称申报评审信息系统 · 个人登录")
            yield Input(placeholder="身份证号", id="id-number")
            yield Input(placeholder="密码", password=True, id="password")
            yield Static("", classes="error", id="login-error")
            yield Button("登录", id="login", variant="primary")
            yield Static("提示：如忘记密码找单位管理员重置密码。", classes="hint")
        yield Footer()

    @on(Input.Submitted, "#password")
    @on(Button.Pressed, "#login")
    def _login(self) -> None:
        id_number = self.query_one("#id-number", Input).value.strip().upper()
        password = self.query_one("#password", Input).value
        if msg := check_id_number(id_number) if id_number else "请输入身份证号":
            self._error(msg)
            return
        if not password:
            self._error("请输入密码")
            return
        self._error("正在登录…")
        self._call(id_number, password)

    @work(thread=True, exclusive=True)
    def _call(self, id_number: str, password: str) -> None:
        try:
            result = self.auth.login(id_number, password)
        except AuthError as exc:
            self.app.call_from_thread(self._error, str(exc))
            return
        self.app.call_from_thread(self._done, result, id_number)

    def _done(self, result: LoginResult, id_number: str) -> None:
        if result.must_change_password:
            self._error("")
            self.app.push_screen(PasswordScreen(self.auth, result, id_number), self._changed)
        else:
            self.dismiss(result)

    def _changed(self, ok: bool | None) -> None:
        if ok:
            self.query_one("#password", Input).value = ""
            self._error("密码已修改，请用新密码重新登录。")
            self.query_one("#password", Input).focus()

    def _error(self, text: str) -> None:
        self.query_one("#login-error", Static).update(text)


class PasswordScreen(EnterMovesOn[bool]):
    """R1.2: the default password must be changed before anything else."""

    DEFAULT_CSS = """
    PasswordScreen { align: center middle; }
    PasswordScreen > Vertical { width: 64; height: auto; border: round $warning; padding: 0 1; }
    PasswordScreen .error { color: $error; }
    """

    def __init__(self, auth: AuthClient, login: LoginResult, id_number: str) -> None:
        super().__init__()
        self.auth, self.login, self.id_number = auth, login, id_number

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("首次登录须修改默认密码（8到20位，字母+数字+特殊符号）")
            yield Input(placeholder="原密码", password=True, id="old")
            yield Input(placeholder="新密码", password=True, id="new")
            yield Input(placeholder="再次输入新密码", password=True, id="again")
            yield Static("", classes="error", id="password-error")
            yield Button("修改密码", id="change", variant="primary")

    @on(Input.Submitted)
    @on(Button.Pressed, "#change")
    def _change(self) -> None:
        old = self.query_one("#old", Input).value
        new = self.query_one("#new", Input).value
        again = self.query_one("#again", Input).value
        msg = check_password(new, id_number=self.id_number, common=common_passwords())
        if msg is None and new != again:
            msg = "两次输入的新密码不一致，请重新输入"
        if msg:
            self.query_one("#password-error", Static).update(msg)
            return
        try:
            self.auth.change_password(self.login.token, old, new)
        except AuthError as exc:
            self.query_one("#password-error", Static).update(str(exc))
            return
        self.dismiss(True)
