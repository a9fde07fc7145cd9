"""`zctui serve`: the server (FastAPI under uvicorn)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

DB_HELP = "数据库地址：默认为数据目录中的 SQLite；生产环境用 postgresql://用户@主机/库名"


def serve(
    db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
    host: Annotated[str, typer.Option(help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="监听端口")] = 8000,
    blobs: Annotated[Path | None, typer.Option("--blobs", help="附件存放目录")] = None,
    workers: Annotated[int, typer.Option(help="进程数（PostgreSQL 时可大于 1）")] = 1,
) -> None:
    """启动服务端：帐号与登录、审核流程、审计（OpenAPI 文档在 /docs）。"""
    import uvicorn
    from pydantic import ValidationError

    from zctui.server.app import UVICORN_OPTIONS, StartupError, create_app, served_catalog
    from zctui.server.settings import ServerSettings

    overrides: dict[str, object] = {}
    if db:
        overrides["db_url"] = db
    if blobs:
        overrides["blobs_dir"] = blobs
    try:
        settings = ServerSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:  # e.g. ZCTUI_SERVER_CERTIFICATE_FORMAT: say which and why
        for error in exc.errors():
            where = "ZCTUI_SERVER_" + "_".join(str(p) for p in error["loc"]).upper()
            typer.echo(
                f"服务端设置 {where} 有误：{error['msg'].removeprefix('Value error, ')}", err=True
            )
        raise typer.Exit(2) from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if workers > 1:
        if not settings.db_url.startswith("postgresql"):
            typer.echo("多进程需要 PostgreSQL（--db postgresql://…）；SQLite 只能单进程", err=True)
            raise typer.Exit(2)
        try:  # each worker checks it again; a broken catalog is said once, here
            served_catalog(settings)
        except StartupError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        # Each worker builds its own app from the environment.
        import os

        os.environ["ZCTUI_SERVER_DB_URL"] = settings.db_url
        if settings.blobs_dir:
            os.environ["ZCTUI_SERVER_BLOBS_DIR"] = str(settings.blobs_dir)
        os.environ.setdefault("ZCTUI_SERVER_SECRET", settings.secret)
        uvicorn.run(
            "zctui.server.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            **UVICORN_OPTIONS,
        )
        return
    try:
        app = create_app(settings)
    except StartupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    uvicorn.run(app, host=host, port=port, **UVICORN_OPTIONS)
