"""`zctui demo --server`: the whole system in one command. A fresh server (SQLite in a
temporary folder) on a free loopback port, with a city's units, one account of each kind and
the demo's two applications put there by the real sync; then the TUI against it, as often as
the person wants to log in as someone else; on leaving, the server stops and the folder goes.
"""

from __future__ import annotations

import secrets
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import FrameType
from typing import Any

from zctui.domain.validators import DEFAULT_PASSWORD

OFFICE = "沧州市职称改革领导小组办公室"
HEALTH = "沧州市卫生健康委员会"
INDUSTRY = "沧州市工业和信息化局"
HOSPITAL = "沧州市中西医结合医院"  # the complete application's unit (demo.build_complete)
COMPANY = "沧州华电电子科技有限公司"  # the half-done one's (demo.build_half_done)
# city office → department → unit, as `zctui admin unit` makes them
UNITS = (
    (OFFICE, "office", None),
    (HEALTH, "department", OFFICE),
    (INDUSTRY, "department", OFFICE),
    (HOSPITAL, "unit", HEALTH),
    (COMPANY, "unit", INDUSTRY),
)


@dataclass(frozen=True)
class Login:
    role: str
    role_label: str
    name: str
    id_number: str
    password: str  # DEFAULT_PASSWORD: must be changed at the first login (R1.2)
    unit: str | None
    note: str


# The applicants are the people of demo.py; the staff have made-up, valid ID numbers.
LOGINS = (
    Login("applicant", "申报人", "李静", "130921198803150026", DEFAULT_PASSWORD, COMPANY,
          "填到一半的申报；首次登录须修改初始密码"),
    Login("applicant", "申报人", "杨丰", "130902198010100011", "Yangf#2026", HOSPITAL,
          "完整的申报，已提交单位审核"),
    Login("unit_admin", "单位管理员", "张主任", "130902197505051114", "Unit#2026zc", HOSPITAL,
          f"{HOSPITAL}：审核杨丰的申报"),
    Login("office", "职改办", "孙处长", "130902197007071171", "Office#2026zc", OFFICE,
          "单位审核通过后的申报在此评审"),
    Login("helpdesk", "服务热线", "刘热线", "130902198503031157", "Help#2026zc", None,
          "按身份证号或姓名查询，只读"),
)  # fmt: skip
AGAIN = "回车：换一个帐号再登录（新的工作区）；输入 q 回车：退出并停止演示服务器"
SEEDING_PASSWORD = "Seed#1" + secrets.token_hex(4)  # 李静's until her sync is done (R1.2-valid)


@dataclass
class Demo:
    url: str
    root: Path  # the temporary folder: the server's data and each TUI run's workspace
    applications: dict[str, str]  # name → application id on the server


def _accounts(app: Any) -> None:
    from sqlalchemy.orm import Session

    from zctui.server import admin

    sec = app.state.security
    with Session(app.state.engine, expire_on_commit=False) as db:
        for name, kind, parent in UNITS:
            admin.create_unit(db, name=name, kind=kind, city="沧州市", parent=parent)
        for login in LOGINS:
            admin.create_account(
                db, sec, id_number=login.id_number, name=login.name, role=login.role,
                unit=login.unit,
            )  # fmt: skip
            password = SEEDING_PASSWORD if login.password == DEFAULT_PASSWORD else login.password
            admin.set_password(db, sec, login.id_number, password)


def _push(url: str, login: Login, root: Path, build: Callable[..., Any], submit: bool) -> str:
    """The applicant's application as demo.py builds it, in a workspace of their own,
    sent by the same sync the TUI runs (rows, then files); submitted through the workflow."""
    from zctui.store.blobs import BlobStore
    from zctui.store.repository import Store
    from zctui.sync.api import ServerApi
    from zctui.sync.connect import ServerSync
    from zctui.sync.http_auth import HttpAuthClient

    path = root / "seed" / login.name / "workspace.sqlite3"
    with Store(path) as store:
        made = build(store, BlobStore(path.parent / "blobs"), date.today().year)
    auth = HttpAuthClient(url)
    try:
        password = SEEDING_PASSWORD if login.password == DEFAULT_PASSWORD else login.password
        token = auth.login(login.id_number, password).token
    finally:
        auth.close()
    syncer = ServerSync(url, token, path)
    try:
        syncer.sync()
    finally:
        syncer.close()
    if submit:
        api = ServerApi(url, token)
        try:
            api.post(f"/applications/{made.id}/submit")
        finally:
            api.close()
    return str(made.id)


def _back_to_default(app: Any, login: Login) -> None:
    """R1.3's reset: the default password again, to be changed at the first login."""
    from sqlalchemy.orm import Session

    from zctui.server import admin

    with Session(app.state.engine) as db:
        admin.reset_password(db, app.state.security, login.id_number)


@contextmanager
def demo_server(
    root: Path | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> Iterator[Demo]:
    """The demo's server, running until the block ends; then stopped, its database closed
    and (when no `root` was given) its folder removed."""
    from zctui.demo import build_complete, build_half_done
    from zctui.server.app import create_app
    from zctui.server.live import serve_in_thread
    from zctui.server.settings import ServerSettings

    with ExitStack() as stack:
        if root is None:
            root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="zctui-demo-")))
        settings = ServerSettings(data_dir=root / "server", secret=secrets.token_hex(32))
        app = create_app(settings)
        stack.callback(app.state.engine.dispose)  # runs after the server has stopped
        _accounts(app)
        url = stack.enter_context(serve_in_thread(app, host, port))
        half, done = LOGINS[0], LOGINS[1]
        apps = {
            done.name: _push(url, done, root, build_complete, submit=True),
            half.name: _push(url, half, root, build_half_done, submit=False),
        }
        _back_to_default(app, half)
        yield Demo(url, root, apps)


def logins_text(demo: Demo) -> str:
    rows = [f"演示服务器 {demo.url}（本机，退出后停止；数据在 {demo.root}，退出后删除）", ""]
    widths = (10, 6, 18, 14)
    table = [("角色", "姓名", "帐号（身份证号）", "密码", "说明")]
    table += [(x.role_label, x.name, x.id_number, x.password, x.note) for x in LOGINS]
    for row in table:
        cells = [_pad(text, width) for text, width in zip(row, widths, strict=False)]
        rows.append("  " + "  ".join([*cells, row[-1]]))
    return "\n".join(rows)


def _pad(text: str, width: int) -> str:
    """Left-aligned in terminal columns (a Chinese character takes two)."""
    from rich.cells import cell_len

    return text + " " * max(width - cell_len(text), 0)


class _Leave(Exception):
    """SIGTERM or SIGHUP between two TUI runs: stop the server and go."""


def _leave(_sig: int, _frame: FrameType | None) -> None:
    raise _Leave


def _leave_on_signals() -> None:
    """Outside the TUI (starting, at the prompt), SIGTERM and SIGHUP end the demo through its
    cleanup: the default action would kill it with the server's folder left behind."""
    for sig in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, _leave)


def run(*, host: str, port: int, low_bandwidth: bool | None, echo: Callable[[str], None]) -> None:
    """The demo from the command line: the logins, then the TUI until the person is done."""
    from zctui.cli import run_tui
    from zctui.config import Settings

    interactive = sys.stdin.isatty()
    _leave_on_signals()
    echo("正在启动演示服务器（建立单位、帐号，并通过同步上传两份演示申报）……")
    try:
        with demo_server(host=host, port=port) as demo:
            echo(logins_text(demo))
            try:
                for n in range(1, 100):
                    if interactive and n == 1:
                        echo("\n按回车打开终端界面，用上面任一帐号登录（Ctrl+Q 退出界面）……")
                        input()
                    workspace = demo.root / f"tui-{n}" / "workspace.sqlite3"
                    hung_up = run_tui(Settings(db=workspace, server_url=demo.url), low_bandwidth)
                    _leave_on_signals()  # run_tui's handlers point at the TUI that has ended
                    if hung_up or not interactive:
                        break
                    echo("\n" + logins_text(demo))
                    echo(f"\n{AGAIN}")
                    if input().strip().lower().startswith("q"):
                        break
            except (EOFError, OSError, KeyboardInterrupt, _Leave):
                pass  # the terminal went away, Ctrl+C, SIGTERM: stop the server all the same
            echo("正在停止演示服务器……")
    except (KeyboardInterrupt, _Leave):  # while starting: demo_server has cleaned up
        pass
    echo("演示服务器已停止。")
