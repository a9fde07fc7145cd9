"""The `zctui` command: the TUI (default), demo, check — more with the issues to come."""

from __future__ import annotations

import json
import os
import signal
import uuid
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from zctui import __version__
from zctui.config import ConfigError, Settings

app = typer.Typer(
    name="zctui",
    help="河北省职称申报（终端版）：离线填报，随改随存，实时检查缺项。",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)

MARK = {"complete": "✓", "incomplete": "✗", "not_applicable": "–"}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"zctui {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def main_callback(
    ctx: typer.Context,
    db: Annotated[
        Path | None, typer.Option("--db", help="工作区文件（SQLite）；默认在用户数据目录")
    ] = None,
    server: Annotated[
        str | None,
        typer.Option("--server", help="服务器地址：登录后自动同步（也可设 ZCTUI_SERVER_URL）"),
    ] = None,
    low_bandwidth: Annotated[
        bool | None,
        typer.Option(
            "--low-bandwidth/--full-motion",
            help="低带宽模式：光标不闪、无动画、降低刷新率（通过 SSH 时默认开启）",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="显示版本")
    ] = False,
) -> None:
    overrides = {k: v for k, v in (("db", db), ("server_url", server)) if v}
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    ctx.obj = settings
    if ctx.invoked_subcommand is None:
        run_tui(settings, low_bandwidth)


def run_tui(settings: Settings, low_bandwidth: bool | None) -> bool:
    """Start the TUI on the workspace. Over SSH it starts in low-bandwidth mode. True when
    it ended on SIGHUP or SIGTERM (the caller should go too)."""
    from zctui.store.ownership import WorkspaceRefused, check_workspace

    try:  # before the terminal is taken over: the message stays readable
        check_workspace(settings.store_path)
    except WorkspaceRefused as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    if low_bandwidth is None:
        low_bandwidth = bool(os.environ.get("SSH_CONNECTION"))
    if low_bandwidth:  # read by Textual when it loads, so set before importing it
        os.environ.setdefault("TEXTUAL_FPS", "15")
        os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    from zctui.app import create_app

    auth, connect = None, None
    if settings.server_url:
        from zctui.sync.connect import connector
        from zctui.sync.http_auth import HttpAuthClient

        auth = HttpAuthClient(settings.server_url)
        connect = connector(settings.server_url, settings.store_path)
    tui = create_app(
        settings.store_path,
        auth=auth,
        connect=connect,
        low_bandwidth=low_bandwidth,
        server_url=settings.server_url or None,
    )
    hung_up: list[int] = []

    def hang_up(sig: int, _frame: object) -> None:  # save what is queued before going
        hung_up.append(sig)
        tui.hang_up()

    for sig in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, hang_up)
    tui.run()
    return bool(hung_up)


@app.command()
def demo(
    ctx: typer.Context,
    force: Annotated[bool, typer.Option("--force", help="覆盖已有的工作区文件")] = False,
    year: Annotated[int, typer.Option(help="申报年度")] = date.today().year,
    server: Annotated[
        bool,
        typer.Option(
            "--server",
            help="整套系统演示：本机服务器、各类帐号、两份申报，再打开界面",
        ),
    ] = False,
    host: Annotated[str, typer.Option(help="--server 时的监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="--server 时的端口；0 为自动选择空闲端口")] = 0,
) -> None:
    """建立演示工作区：一份完整的申报（指南示例：卫生类/中医外科/副主任医师）和一份填到一半的申报。

    加 --server：整套系统演示（服务器、单位、申报人、单位管理员、职改办、服务热线）。"""
    if server:
        from zctui.cli import demo_server
        from zctui.server.app import StartupError

        try:
            demo_server.run(host=host, port=port, low_bandwidth=None, echo=typer.echo)
        except StartupError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        return
    from zctui.demo import build_demo

    settings: Settings = ctx.obj
    try:
        done, half = build_demo(settings.store_path, year=year, force=force)
    except FileExistsError:
        typer.echo(f"工作区 {settings.store_path} 已存在；加 --force 覆盖。", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"演示工作区：{settings.store_path}")
    typer.echo(f"  完整申报  {done.id}  杨丰  {year}")
    typer.echo(f"  未完成    {half.id}  李静  {year}")


def _describe(app_row: Any, person: Any, catalog: Any) -> str:
    series = catalog.series_by_code(app_row.series) if app_row.series else None
    parts = [
        catalog.category(app_row.category).label
        if app_row.category and catalog.category(app_row.category)
        else "?",
        series.label if series else "?",
    ]
    if series and app_row.specialty and (sp := series.specialty(app_row.specialty)):
        parts.append(sp.label)
    if series and app_row.title and (t := series.title(app_row.title)):
        parts.append(t.label)
    name = person.name if person else "?"
    return f"{name}  {app_row.year}  {' / '.join(parts)}"


@app.command()
def check(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
    application: Annotated[
        str | None, typer.Option("--application", "-a", help="只检查这份申报（ID 或身份证号）")
    ] = None,
) -> None:
    """检查申报：每一步是否完成，缺什么，依据哪条规则、指南原文怎么说。

    有未完成的申报时退出码为 1。"""
    from zctui.data.catalog import load_catalog
    from zctui.domain.checklist import STATUS_LABEL, run_checklist
    from zctui.store.repository import Store

    settings: Settings = ctx.obj
    if not settings.store_path.exists():
        typer.echo(f"工作区 {settings.store_path} 不存在；先运行 zctui demo 或开始填报。", err=True)
        raise typer.Exit(2)
    catalog = load_catalog()
    out: list[dict[str, Any]] = []
    incomplete = 0
    with Store(settings.store_path) as store:
        apps = store.applications()
        if application:
            apps = [a for a in apps if _matches(a, application, store)]
            if not apps:
                typer.echo(f"找不到申报 {application}", err=True)
                raise typer.Exit(2)
        for app_row in apps:
            data = store.load(app_row.id)
            result = run_checklist(data, catalog)
            incomplete += not result.complete
            if as_json:
                out.append(
                    {
                        "application_id": str(app_row.id),
                        "name": data.person.name if data.person else None,
                        "year": app_row.year,
                        "state": app_row.state,
                        "complete": result.complete,
                        "steps": result.model_dump(mode="json")["steps"],
                    }
                )
                continue
            head = "完成，可以提交" if result.complete else f"未完成，缺 {len(result.errors)} 项"
            typer.echo(f"\n{_describe(app_row, data.person, catalog)}  —  {head}")
            for step in result.steps:
                label = STATUS_LABEL[step.status]
                typer.echo(f"  {MARK[step.status]} 第{step.number}步 {step.title}  [{label}]")
                for section in step.sections:
                    for item in section.items:
                        tag = "缺" if item.severity == "error" else "提示"
                        typer.echo(f"      {tag} [{item.rule}] {item.message}")
                        if item.guide:
                            typer.echo(f"           指南：{item.guide}")
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
    raise typer.Exit(1 if incomplete else 0)


def _matches(app_row: Any, key: str, store: Any) -> bool:
    try:
        if app_row.id == uuid.UUID(key):
            return True
    except ValueError:
        pass
    person = store.get("person", app_row.person_id)
    return bool(person and person.id_number == key.strip().upper())


# Sub-commands live in their own modules and register here.
# (one line each; keep this block at the end)
from zctui.cli.admin import admin_app  # noqa: E402
from zctui.cli.export import export_app  # noqa: E402
from zctui.cli.files import blobs_app, files_app  # noqa: E402
from zctui.cli.guide import guide  # noqa: E402
from zctui.cli.imports import import_command  # noqa: E402
from zctui.cli.serve import serve  # noqa: E402
from zctui.cli.sync import sync  # noqa: E402
from zctui.cli.web import web  # noqa: E402

app.add_typer(files_app)
app.add_typer(blobs_app)
app.add_typer(export_app, name="export")
app.add_typer(admin_app)
app.command("serve")(serve)
app.command("sync")(sync)
app.command("web")(web)
app.command("import")(import_command)
app.command("guide")(guide)


def main() -> None:
    from zctui.store.ownership import WorkspaceRefused

    try:
        app()
    except WorkspaceRefused as exc:  # any command on someone else's workspace: said, not traced
        typer.echo(str(exc), err=True)
        raise SystemExit(2) from None
