"""`zctui export dossier` and `zctui export review-form`: the application as PDFs;
`zctui export overview`: the workspace's applicants as the overview table (一览表, XLSX)."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from zctui.config import Settings, blobs_dir_for

export_app = typer.Typer(
    help="导出 PDF：申报材料（封面、摘要和全部附件，带书签）或评审表；导出一览表（XLSX）。",
    no_args_is_help=True,
)

OutOption = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="输出的 PDF 文件；默认在当前目录，以姓名、年度和文件名称命名"),
]
XlsxOption = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="输出的 XLSX 文件；默认在当前目录，以单位名称命名"),
]
AppOption = Annotated[
    str | None,
    typer.Option(
        "--application", "-a", help="导出哪份申报（ID 或身份证号）；工作区只有一份申报时可省略"
    ),
]


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(2)


@contextmanager
def _application(ctx: typer.Context, key: str | None) -> Iterator[tuple[Settings, Any]]:
    """The settings and the chosen application's data; exit 2, saying why, when there is none."""
    from zctui.cli import _matches
    from zctui.store.repository import Store

    settings: Settings = ctx.obj
    if not settings.store_path.exists():
        raise _fail(f"工作区 {settings.store_path} 不存在；先运行 zctui demo 或开始填报。")
    with Store(settings.store_path) as store:
        apps = store.applications()
        if key:
            apps = [a for a in apps if _matches(a, key, store)]
            if not apps:
                raise _fail(f"找不到申报 {key}；用 zctui check 查看工作区中的申报。")
        if not apps:
            raise _fail("工作区中还没有申报；先运行 zctui 开始填报。")
        if len(apps) > 1:
            lines = [f"工作区中有 {len(apps)} 份申报，请用 -a 指定其一（ID 或身份证号）："]
            for a in apps:
                person = store.get("person", a.person_id)
                who = f"{person.name}  {person.id_number}" if person else "?"
                lines.append(f"  {a.id}  {who}  {a.year}")
            raise _fail("\n".join(lines))
        yield settings, store.load(apps[0].id)


def _out(out: Path | None, data: Any, title: str) -> Path:
    if out is None:
        name = data.person.name if data.person else ""
        stem = "-".join(p for p in (name, str(data.application.year), title) if p)
        out = Path.cwd() / (re.sub(r'[\\/:*?"<>|\s]+', "_", stem) + ".pdf")
    if not out.parent.is_dir():
        raise _fail(f"输出目录 {out.parent} 不存在。")
    return out


def _font(settings: Settings) -> Any:
    from zctui.pdf.fonts import find_cjk_font

    return find_cjk_font(settings.cjk_font, settings.cjk_font_index)


def _warn(warnings: list[str]) -> None:
    for w in warnings:
        typer.echo(f"注意：{w}", err=True)


class _Bar:
    """Progress on stderr: one redrawn line on a terminal, a line per file otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()

    def __call__(self, done: int, total: int, label: str) -> None:
        width = 24
        filled = width * done // max(total, 1)
        if self.tty:
            bar = "█" * filled + "░" * (width - filled)
            typer.echo(f"\r{bar} {done}/{total} {label}\x1b[K", err=True, nl=False)
            if done >= total:
                typer.echo("", err=True)
        else:
            typer.echo(f"[{done}/{total}] {label}", err=True)


@export_app.command("dossier")
def dossier(ctx: typer.Context, out: OutOption = None, application: AppOption = None) -> None:
    """导出申报材料：封面、各节摘要，再按指南顺序附上全部附件，带书签（步骤→记录→附件项）和页码。"""
    from zctui.data.catalog import load_catalog
    from zctui.data.documents import load_documents
    from zctui.data.forms import load_forms
    from zctui.pdf.dossier import build_dossier
    from zctui.store.blobs import BlobStore

    docs = load_documents()
    with _application(ctx, application) as (settings, data):
        target = _out(out, data, docs.dossier.title)
        blobs = BlobStore(blobs_dir_for(settings.store_path))
        result = build_dossier(
            data, load_catalog(), load_forms(), blobs, target, _Bar(), font=_font(settings)
        )
    _warn(result.warnings)
    typer.echo(f"已导出申报材料：{result.path}（{result.pages} 页，附件 {result.attachments} 个）")


@export_app.command("review-form")
def review_form(ctx: typer.Context, out: OutOption = None, application: AppOption = None) -> None:
    """导出评审表：个人情况、专业技术工作小结（即工作总结摘要）、学历、证书、考核、业绩成果、论文论著。"""
    from zctui.data.catalog import load_catalog
    from zctui.data.documents import load_documents
    from zctui.data.forms import load_forms
    from zctui.pdf.review_form import build_review_form
    from zctui.store.blobs import BlobStore

    docs = load_documents()
    with _application(ctx, application) as (settings, data):
        target = _out(out, data, docs.review_form.title)
        blobs = BlobStore(blobs_dir_for(settings.store_path))
        result = build_review_form(
            data, load_catalog(), load_forms(), target, blobs=blobs, font=_font(settings)
        )
    _warn(result.warnings)
    typer.echo(f"已导出评审表：{result.path}（{result.pages} 页）")


StateOption = Annotated[
    list[str] | None,
    typer.Option(
        "--state",
        "-s",
        help="只导出处于这些状态的申报（可重复），如 unit_approved；默认导出工作区的全部申报",
    ),
]


@export_app.command("overview")
def overview(ctx: typer.Context, out: XlsxOption = None, state: StateOption = None) -> None:
    """导出一览表（XLSX）：每位申报人一行，含基本信息和一览表补充信息，A4 横向，可打印盖章。"""
    from zctui.data.catalog import load_catalog
    from zctui.data.documents import load_documents
    from zctui.exchange.overview import from_store, write_overview
    from zctui.store.repository import Store

    settings: Settings = ctx.obj
    states = state or []
    known = {i.code: i.label for i in load_catalog().values("workflow_state").items}
    if unknown := [s for s in states if s not in known]:
        listed = "、".join(f"{code}（{label}）" for code, label in known.items())
        raise _fail(f"不认识的状态 {'、'.join(unknown)}；可用的状态：{listed}")
    if not settings.store_path.exists():
        raise _fail(f"工作区 {settings.store_path} 不存在；先运行 zctui demo 或开始填报。")
    with Store(settings.store_path) as store:
        apps = from_store(store, states)
    if not apps:
        which = "、".join(known[s] for s in states)
        raise _fail(f"工作区中没有{f'处于「{which}」状态的' if states else ''}申报，一览表无内容。")
    if out is None:
        stem = "-".join(
            p for p in (apps[0].application.unit_name, load_documents().overview.sheet) if p
        )
        out = Path.cwd() / (re.sub(r'[\\/:*?"<>|\s]+', "_", stem) + ".xlsx")
    if out.suffix.lower() != ".xlsx":
        out = out.with_name(out.name + ".xlsx")
    if not out.parent.is_dir():
        raise _fail(f"输出目录 {out.parent} 不存在。")
    try:
        result = write_overview(apps, out)
    except OSError as exc:
        raise _fail(f"无法写入 {out}（{exc.strerror or exc}）：请换一个位置再导出") from None
    typer.echo(f"已导出一览表：{result.path}（{result.rows} 人，{result.columns} 列）")
