"""`zctui admin`: units, accounts, CSV import of applicants, password resets — on the
server's database directly (for the first office account, and for scripts)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from zctui.cli.serve import DB_HELP
from zctui.domain.validators import DEFAULT_PASSWORD

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from zctui.server.security import Security

admin_app = typer.Typer(
    name="admin", help="服务端管理：单位、帐号、批量导入申报人、重置密码。", no_args_is_help=True
)
DbOpt = Annotated[str | None, typer.Option("--db", help=DB_HELP)]


@contextmanager
def _open(db: str | None) -> Iterator[tuple[Session, Security]]:
    """The server database, migrated; closed afterwards even on a refusal (an open
    transaction would hold PostgreSQL locks)."""
    from sqlalchemy.orm import Session

    from zctui.server.db import make_engine, migrate
    from zctui.server.security import Security
    from zctui.server.settings import ServerSettings

    settings = ServerSettings(db_url=db) if db else ServerSettings()
    if not db:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    migrate(engine)
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session, Security(settings)
    finally:
        engine.dispose()


def _fail(exc: Exception) -> NoReturn:
    typer.echo(str(exc), err=True)
    raise typer.Exit(2)


@admin_app.command("unit")
def unit(
    name: Annotated[str, typer.Argument(help="单位名称")],
    kind: Annotated[
        str, typer.Option(help="office 职改办 / department 主管部门 / unit 用人单位")
    ] = "unit",
    parent: Annotated[str | None, typer.Option(help="上级单位的名称或编号")] = None,
    city: Annotated[str, typer.Option(help="所在市（默认同上级单位）")] = "",
    uscc: Annotated[str | None, typer.Option(help="统一社会信用代码（可选）")] = None,
    db: DbOpt = None,
) -> None:
    """新建单位（职改办 → 主管部门 → 用人单位）。"""
    from zctui.server.admin import AdminError, create_unit

    with _open(db) as (session, _):
        try:
            made = create_unit(session, name=name, kind=kind, city=city, parent=parent, uscc=uscc)
        except AdminError as exc:
            _fail(exc)
        typer.echo(f"已创建单位「{made.name}」 {made.id}")


@admin_app.command("user", help=f"新建帐号：初始密码 {DEFAULT_PASSWORD}，首次登录须修改。")
def user(
    id_number: Annotated[str, typer.Argument(help="身份证号（即登录帐号）")],
    name: Annotated[str, typer.Argument(help="姓名")],
    role: Annotated[
        str, typer.Option(help="applicant / unit_admin / helpdesk / office")
    ] = "applicant",
    unit: Annotated[str | None, typer.Option(help="所属单位的名称或编号")] = None,
    phone: Annotated[str | None, typer.Option(help="手机号")] = None,
    db: DbOpt = None,
) -> None:
    from zctui.server.admin import AdminError, create_account

    with _open(db) as (session, sec):
        try:
            made = create_account(
                session, sec, id_number=id_number, name=name, role=role, unit=unit, phone=phone
            )
        except AdminError as exc:
            _fail(exc)
        typer.echo(
            f"已创建帐号「{made.name}」（{made.role}），初始密码 {DEFAULT_PASSWORD}，首次登录须修改"
        )


@admin_app.command("import")
def import_csv(
    path: Annotated[Path, typer.Argument(help="CSV：表头 身份证号,姓名[,手机]", exists=True)],
    unit: Annotated[str, typer.Option(help="这些申报人所属单位的名称或编号")],
    db: DbOpt = None,
) -> None:
    """从 CSV 批量导入申报人帐号；有问题的行逐行报告并跳过。"""
    from zctui.server.admin import AdminError, import_applicants

    with _open(db) as (session, sec):
        try:
            with path.open(encoding="utf-8-sig", newline="") as fh:
                report = import_applicants(session, sec, fh, unit)
        except AdminError as exc:
            _fail(exc)
        for problem in report.problems:
            typer.echo(problem, err=True)
        typer.echo(f"导入 {report.created} 个帐号，{len(report.problems)} 行有问题")
        raise typer.Exit(1 if report.problems else 0)


@admin_app.command(
    "reset-password",
    help=f"把密码重置为 {DEFAULT_PASSWORD}（R1.3）；下次登录须修改，已登录的会话全部失效。",
)
def reset_password(
    id_number: Annotated[str, typer.Argument(help="身份证号")], db: DbOpt = None
) -> None:
    from zctui.server.admin import AdminError
    from zctui.server.admin import reset_password as reset

    with _open(db) as (session, sec):
        try:
            made = reset(session, sec, id_number)
        except AdminError as exc:
            _fail(exc)
        typer.echo(f"已将「{made.name}」的密码重置为 {DEFAULT_PASSWORD}，下次登录须修改")
