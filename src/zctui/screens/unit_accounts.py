"""The unit's people and their accounts (R1): open an account for someone (ID number, name,
mobile), so the unit may enter their application and sync accepts it; reset a forgotten
password back to the default, which must be changed at the next login (R1.3). Both are
the server's calls, and the server writes both to its audit log."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from zctui.domain.masking import mask_id
from zctui.domain.validators import DEFAULT_PASSWORD, check_id_number, check_mobile, id_clean
from zctui.screens.confirm import ConfirmScreen
from zctui.screens.enter_next import EnterMovesOn
from zctui.sync.api import ApiError, ServerApi, UserAccount
from zctui.widgets.bindings_footer import BindingsFooter

DEFAULT_RULE = (
    f"新帐号的初始密码为 {DEFAULT_PASSWORD}（默认密码），本人首次登录时必须修改（R1.3）；"
    "默认密码长期不用会过期，过期后请再为其重置。"
)
RESET_DONE = "已将{name}的密码重置为默认密码 {pw}，本人下次登录时必须修改（R1.3）"
ROLE_LABEL = {"applicant": "申报人", "unit_admin": "单位管理员", "helpdesk": "服务热线",
              "office": "职改办"}  # fmt: skip
COLUMNS = ("姓名", "身份证号", "手机号码", "帐号类型", "密码")


class OpenAccountScreen(EnterMovesOn[UserAccount | None]):
    """ID number, name, mobile → POST /users. A refusal keeps everything typed."""

    DEFAULT_CSS = """
    OpenAccountScreen { align: center middle; }
    OpenAccountScreen > Vertical {
        width: 70; max-width: 95%; height: auto; border: round $accent; padding: 0 1;
    }
    OpenAccountScreen #account-rule { color: $text-muted; margin-top: 1; }
    OpenAccountScreen #account-error { color: $error; height: auto; }
    """
    BINDINGS = [Binding("escape", "cancel", "取消", id="account-cancel")]

    class Done(Message):
        def __init__(self, account: UserAccount | None, error: str | None) -> None:
            super().__init__()
            self.account, self.error = account, error

    def __init__(self, api: ServerApi) -> None:
        super().__init__()
        self.api = api

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("为本单位人员开通帐号（申报人）", markup=False)
            yield Input(placeholder="身份证号（18位，即登录帐号）", id="account-id", compact=True)
            yield Input(placeholder="姓名", id="account-name", max_length=50, compact=True)
            yield Input(placeholder="手机号码（可不填）", id="account-mobile", compact=True)
            yield Static(DEFAULT_RULE, id="account-rule", markup=False)
            yield Static("", id="account-error", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#account-id", Input).focus()

    def _values(self) -> tuple[str, str, str]:
        get = self.query_one
        return (
            get("#account-id", Input).value.strip(),
            get("#account-name", Input).value.strip(),
            get("#account-mobile", Input).value.strip(),
        )

    @on(Input.Submitted)
    def _submitted(self) -> None:
        ident, name, mobile = self._values()
        msg = (
            ("请填写身份证号（18位），它是本人登录时的帐号" if not ident else None)
            or check_id_number(ident)
            or ("请填写姓名，与身份证上的一致" if not name else None)
            or (check_mobile(mobile) if mobile else None)
        )
        error = self.query_one("#account-error", Static)
        if msg:
            error.update(msg)
            return
        error.update("正在开通…")
        self._create(id_clean(ident), name, mobile or None)

    @work(thread=True, exclusive=True, group="account-open", exit_on_error=False)
    def _create(self, ident: str, name: str, mobile: str | None) -> None:
        try:
            made = self.api.create_user(ident, name, mobile)
        except ApiError as exc:
            self.post_message(self.Done(None, str(exc)))
            return
        self.post_message(self.Done(made, None))

    @on(Done)
    def _done(self, event: Done) -> None:
        if event.account is None:
            self.query_one("#account-error", Static).update(event.error or "")
            return
        self.dismiss(event.account)

    def action_cancel(self) -> None:
        self.dismiss(None)


class UnitAccountsScreen(Screen[None]):
    """The accounts of the unit's people, from the server; F3 opens one, F4 resets one."""

    DEFAULT_CSS = """
    UnitAccountsScreen > #accounts-note { height: auto; padding: 0 1; color: $text-muted; }
    UnitAccountsScreen > DataTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("f3", "open_account", "开通帐号", id="accounts-open"),
        Binding("f4", "reset_password", "重置密码", id="accounts-reset"),
        Binding("f5", "reload", "刷新", id="accounts-reload"),
    ]

    class Listed(Message):
        def __init__(self, accounts: list[UserAccount], error: str | None) -> None:
            super().__init__()
            self.accounts, self.error = accounts, error

    class Reset(Message):
        def __init__(self, account: UserAccount, error: str | None) -> None:
            super().__init__()
            self.account, self.error = account, error

    def __init__(self, api: ServerApi) -> None:
        super().__init__()
        self.api = api
        self.accounts: list[UserAccount] = []

    def help_topic(self) -> tuple[str, str, str, str]:
        return ("本单位帐号", "R1.3", f"F3 为本单位人员开通帐号；F4 重置密码。{DEFAULT_RULE}", "")

    def compose(self) -> ComposeResult:
        yield Header(icon="职")
        yield Static("", id="accounts-note", markup=False)
        yield DataTable(cursor_type="row", zebra_stripes=True, id="accounts")
        yield BindingsFooter()

    def on_mount(self) -> None:
        self.title, self.sub_title = "单位审核", "本单位帐号"
        self.query_one(DataTable).add_columns(*COLUMNS)
        self.query_one(DataTable).focus()
        self.action_reload()

    def action_reload(self) -> None:
        self._list()

    @work(thread=True, exclusive=True, group="accounts-list", exit_on_error=False)
    def _list(self) -> None:
        try:
            self.post_message(self.Listed(self.api.users(), None))
        except ApiError as exc:
            self.post_message(self.Listed([], str(exc)))

    @on(Listed)
    def _show(self, event: Listed) -> None:
        self.accounts = event.accounts
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear()
        for a in self.accounts:
            table.add_row(
                a.name,
                mask_id(a.id_number) or "—",
                a.phone or "—",
                ROLE_LABEL.get(a.role, a.role),
                "默认密码，待本人修改" if a.must_change_password else "已修改",
                key=str(a.id),
            )
        if self.accounts:
            table.move_cursor(row=min(cursor, len(self.accounts) - 1))
        note = event.error or f"共 {len(self.accounts)} 个帐号。F3 开通帐号 · F4 重置密码"
        self.query_one("#accounts-note", Static).update(note)
        if event.error:
            self.notify(event.error, severity="error", timeout=10)

    def chosen(self) -> UserAccount | None:
        table = self.query_one(DataTable)
        if not self.accounts or table.cursor_row >= len(self.accounts):
            return None
        return self.accounts[table.cursor_row]

    def action_open_account(self) -> None:
        def done(made: UserAccount | None) -> None:
            if made is not None:
                self.notify(f"已为{made.name}开通帐号。{DEFAULT_RULE}", timeout=8)
                self.action_reload()

        self.app.push_screen(OpenAccountScreen(self.api), done)

    def action_reset_password(self) -> None:
        account = self.chosen()
        if account is None:
            self.notify("请先在列表中选中要重置密码的人", severity="warning")
            return
        text = (
            f"将{account.name}（{mask_id(account.id_number)}）的密码重置为默认密码 "
            f"{DEFAULT_PASSWORD}：本人已登录的会话随即失效，下次登录时必须修改密码（R1.3）。"
        )

        def done(yes: bool | None) -> None:
            if yes:
                self._reset(account)

        self.app.push_screen(ConfirmScreen("重置密码", text, yes="确认重置"), done)

    @work(thread=True, group="accounts-reset", exit_on_error=False)
    def _reset(self, account: UserAccount) -> None:
        try:
            self.api.reset_password(account.id)
        except ApiError as exc:
            self.post_message(self.Reset(account, str(exc)))
            return
        self.post_message(self.Reset(account, None))

    @on(Reset)
    def _reset_done(self, event: Reset) -> None:
        if event.error:
            self.notify(event.error, severity="error", timeout=10)
            return
        self.notify(RESET_DONE.format(name=event.account.name, pw=DEFAULT_PASSWORD), timeout=8)
        self.action_reload()
