"""`zctui sync`: push this workspace's edits and pull what changed, from the command line
(the TUI does the same in the background once logged in)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from zctui.config import Settings

NO_SERVER = "没有服务器地址：用 --server 指定，或设置环境变量 ZCTUI_SERVER_URL"
KIND = {"conflict": "冲突", "locked": "已锁定", "refused": "被拒绝"}


def _session_file(store_path: Path) -> Path:
    return store_path.parent / ".zctui-session"


def _saved_token(path: Path, server: str) -> str | None:
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return saved.get("token") if saved.get("server") == server else None


def _save_token(path: Path, server: str, token: str) -> None:
    """Beside the workspace, readable by its owner only: the next `zctui sync` within the
    session's lifetime needs no password."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"server": server, "token": token}, f)


def _login(server: str, id_number: str | None) -> str:
    from zctui.sync.auth import AuthError
    from zctui.sync.http_auth import HttpAuthClient

    ident = id_number or typer.prompt("身份证号")
    password = os.environ.get("ZCTUI_PASSWORD") or typer.prompt("密码", hide_input=True)
    client = HttpAuthClient(server)
    try:
        result = client.login(ident, password)
    except AuthError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    finally:
        client.close()
    if result.must_change_password:
        typer.echo("您还在使用初始密码：请先运行 zctui --server 地址，登录后修改密码。", err=True)
        raise typer.Exit(2)
    return result.token


def sync(
    ctx: typer.Context,
    server: Annotated[str | None, typer.Option("--server", help="服务器地址")] = None,
    id_number: Annotated[
        str | None, typer.Option("--id-number", help="登录用的身份证号（不填则询问）")
    ] = None,
) -> None:
    """与服务器同步：上传本机的修改，下载别处的修改；被拒绝或冲突的修改会列出来。"""
    from zctui.store import outbox
    from zctui.store.repository import Store
    from zctui.sync.connect import ServerSync
    from zctui.sync.engine import SyncError, SyncExpired

    settings: Settings = ctx.obj
    server = server or settings.server_url
    if not server:
        typer.echo(NO_SERVER, err=True)
        raise typer.Exit(2)
    session_file = _session_file(settings.store_path)
    token = _saved_token(session_file, server)
    for attempt in range(2):
        if token is None:
            token = _login(server, id_number)
            _save_token(session_file, server, token)
        syncer = ServerSync(server, token, settings.store_path)
        try:
            report = syncer.sync()
            break
        except SyncExpired:
            token = None
            if attempt:
                raise
        except SyncError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(3) from None
        except Exception as exc:  # the transport's own (unreachable after retries)
            typer.echo(str(exc) or type(exc).__name__, err=True)
            raise typer.Exit(3) from None
        finally:
            syncer.close()
    typer.echo(f"上传 {report.pushed} 项修改，下载 {report.pulled} 项更新。")
    with Store(settings.store_path) as store:
        issues = outbox.open_issues(store)
    for issue in issues:
        typer.echo(f"  {KIND.get(issue.kind, issue.kind)}：{issue.table_name} — {issue.message}")
    if issues:
        typer.echo(f"共 {len(issues)} 项修改未被服务器接受，已保留；在 TUI 中按 F7 处理。")
        raise typer.Exit(1)
