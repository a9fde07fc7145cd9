"""`zctui web`: the TUI in a browser, served by textual-serve. Each browser tab runs its own
`zctui` process (the same workspace and server as this command's), speaking to the page
over a WebSocket; nothing of the application runs in the browser."""

from __future__ import annotations

import ipaddress
import shlex
import sys
from typing import Annotated

import typer

from zctui.config import Settings

OPEN_TO_NETWORK = (
    "注意：监听地址 {host} 不只本机可以访问，能连到它的任何人都能在浏览器里打开这个工作区。"
    "只在可信的网络中这样做，或在前面加带登录的反向代理（HTTPS）"
)


def tui_command(settings: Settings) -> str:
    """The command each browser tab runs: this interpreter, this workspace, this server."""
    argv = [sys.executable, "-c", "from zctui.cli import main; main()"]
    argv += ["--db", str(settings.store_path)]
    if settings.server_url:
        argv += ["--server", settings.server_url]
    argv.append("--full-motion")  # a browser is not a slow SSH link, even when started over one
    return shlex.join(argv)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def web(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="监听地址（默认只允许本机访问）")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口")] = 8765,
    public_url: Annotated[
        str | None, typer.Option("--public-url", help="经反向代理访问时，浏览器看到的地址")
    ] = None,
) -> None:
    """在浏览器中使用：用 textual-serve 提供终端界面，每个浏览器标签页一个 zctui 进程。

    工作区和服务器地址与直接运行 zctui 相同（--db、--server 写在 web 之前）。"""
    from textual_serve.server import Server

    settings: Settings = ctx.obj
    if not _loopback(host):
        typer.echo(OPEN_TO_NETWORK.format(host=host), err=True)
    server = Server(
        tui_command(settings), host=host, port=port, title="河北省职称申报", public_url=public_url
    )
    typer.echo(f"在浏览器中打开 {server.public_url} （Ctrl+C 停止）")
    server.serve()
