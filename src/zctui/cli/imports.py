"""`zctui import`: a unit's people from a workbook (XLSX or CSV) into the local workspace,
and `zctui import --template` for the workbook to fill in."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from zctui.config import Settings

TEMPLATE_NAME = "职称申报导入模板.xlsx"


def import_command(
    ctx: typer.Context,
    file: Annotated[
        Path | None,
        typer.Argument(help="要导入的 XLSX 或 CSV 文件；与 --template 同用时为模板的保存位置"),
    ] = None,
    template: Annotated[
        bool, typer.Option("--template", help=f"生成导入模板（默认 ./{TEMPLATE_NAME}）")
    ] = False,
    attachments: Annotated[
        Path | None,
        typer.Option("--attachments", help="附件文件夹：每人一个以身份证号命名的子文件夹"),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只检查并报告，不写入工作区")] = False,
    year: Annotated[
        int, typer.Option("--year", help="“申报设置”表中没有填年度时使用的申报年度")
    ] = date.today().year,
    unit: Annotated[
        str | None, typer.Option("--unit", help="新建申报的申报单位（本单位名称，R2.1）")
    ] = None,
    city: Annotated[str, typer.Option("--city", help="申报单位所在市，与 --unit 同用")] = "",
) -> None:
    """批量导入申报人数据（单位管理员）：每个栏目一张工作表，以身份证号对应到人。

    错误逐格列出（如 论文!C12）；有错误的人整人跳过，其他人照常导入；重复导入同一文件不会产生修改。
    有人被跳过、有行无法对应到人员或有附件不合格时退出码为 1。"""
    if template:
        from zctui.exchange.template import write_template

        out = file or Path.cwd() / TEMPLATE_NAME
        if out.suffix.lower() != ".xlsx":
            out = out.with_name(out.name + ".xlsx")
        try:
            write_template(out)
        except OSError as exc:
            typer.echo(f"无法写入 {out}（{exc.strerror or exc}）：请换一个位置", err=True)
            raise typer.Exit(2) from None
        typer.echo(f"已生成导入模板：{out}")
        return
    if file is None:
        typer.echo("请给出要导入的 XLSX 或 CSV 文件，或用 --template 生成导入模板。", err=True)
        raise typer.Exit(2)
    if attachments is not None and not attachments.is_dir():
        typer.echo(f"附件文件夹 {attachments} 不存在或不是文件夹。", err=True)
        raise typer.Exit(2)
    from zctui.cli.export import _Bar
    from zctui.exchange.importer import ReadError, import_file
    from zctui.pdf.checks import Checker
    from zctui.store.repository import Store

    settings: Settings = ctx.obj
    settings.store_path.parent.mkdir(parents=True, exist_ok=True)
    with Store(settings.store_path) as store:
        try:
            report = import_file(
                store, file, attachments=attachments, dry_run=dry_run, year=year,
                checker_factory=Checker, progress=_Bar(),
                unit=(unit, city) if unit else None,
            )  # fmt: skip
        except ReadError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
    for line in report.lines():
        typer.echo(line)
    raise typer.Exit(0 if report.ok else 1)
