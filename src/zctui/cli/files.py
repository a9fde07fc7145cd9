"""`zctui files check` (is a file fit to attach?) and `zctui blobs gc|verify` (the workspace's
attachment store)."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Annotated

import typer

from zctui.config import Settings, blobs_dir_for

files_app = typer.Typer(
    name="files", help="检查要上传的附件（PDF 或证件照）。", no_args_is_help=True
)
blobs_app = typer.Typer(
    name="blobs", help="附件库的维护：清理不再使用的文件、校验文件是否完好。", no_args_is_help=True
)


@files_app.command("check")
def files_check(
    paths: Annotated[list[Path], typer.Argument(help="文件或文件夹（文件夹会逐个检查其中的文件）")],
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出，每个文件一项")] = False,
    photo: Annotated[
        bool, typer.Option("--photo", help="按证件照检查（R3.1：图片、不超过 500 KB、竖向）")
    ] = False,
    workers: Annotated[int, typer.Option("--workers", "-j", help="同时检查的文件数")] = 2,
    max_mb: Annotated[
        float | None, typer.Option("--max-mb", help="PDF 大小上限（MB），默认 20")
    ] = None,
) -> None:
    """检查文件能否作为附件上传：能通过的显示页数和大小，不能通过的说明原因和解决办法。

    有文件不能通过时退出码为 1。"""
    from zctui.pdf.checks import Kind, Limits, check_many, expand_paths

    files = expand_paths(paths)
    if not files:
        typer.echo("没有要检查的文件：请给出文件或包含文件的文件夹。", err=True)
        raise typer.Exit(2)
    limits = Limits(max_pdf_bytes=int(max_mb * 1024 * 1024)) if max_mb else Limits()
    order = {str(p.absolute()): i for i, p in enumerate(files)}
    show_progress = not as_json and sys.stderr.isatty() and len(files) > 1

    def progress(done: int, total: int, _v: object) -> None:
        if show_progress:
            typer.echo(f"\r已检查 {done}/{total}", err=True, nl=done == total)

    kind: Kind = "photo" if photo else "pdf"
    verdicts = sorted(
        check_many(files, kind, workers=workers, limits=limits, progress=progress),
        key=lambda v: order.get(v.path, 0),
    )
    rejected = sum(not v.accepted for v in verdicts)
    if as_json:
        typer.echo(
            json.dumps([v.model_dump(mode="json") for v in verdicts], ensure_ascii=False, indent=2)
        )
    else:
        for v in verdicts:
            shown = _shown(Path(v.path))
            if v.accepted:  # e.g. "PDF，共 5 页，5 KB" or "JPEG 照片，358×441 像素，27 KB"
                typer.echo(f"✓ {shown}  {v.message.removeprefix('检查通过：')}")
            else:
                typer.echo(f"✗ {shown}  {v.message}")
            for w in v.warnings:
                typer.echo(f"    提示：{w}")
        ok = len(verdicts) - rejected
        typer.echo(f"\n共 {len(verdicts)} 个文件：{ok} 个通过，{rejected} 个不能上传。")
    raise typer.Exit(1 if rejected else 0)


def _shown(p: Path) -> str:
    try:
        return str(p.relative_to(Path.cwd()))
    except ValueError:
        return str(p)


def _workspace(ctx: typer.Context) -> Path:
    settings: Settings = ctx.obj
    if not settings.store_path.exists():
        typer.echo(f"工作区 {settings.store_path} 不存在；先运行 zctui demo 或开始填报。", err=True)
        raise typer.Exit(2)
    return settings.store_path


def _referenced(store_path: Path) -> set[str]:
    """What every workspace beside this one still uses: they share the blobs folder."""
    from zctui.store.repository import Store

    with Store(store_path) as store:
        refs = store.referenced_blobs()
    for other in sorted(store_path.parent.iterdir()):
        if other == store_path or not other.is_file():
            continue
        try:
            with other.open("rb") as fh:
                if fh.read(16) != b"SQLite format 3\x00":
                    continue
        except OSError:
            continue
        try:
            conn = sqlite3.connect(f"file:{other}?mode=ro", uri=True)
            try:
                has = conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE type='table' AND name='attachment'"
                ).fetchone()
                if has:
                    rows = conn.execute("SELECT DISTINCT sha256 FROM attachment WHERE deleted = 0")
                    refs |= {r[0] for r in rows}
            finally:
                conn.close()
        except sqlite3.Error as exc:
            typer.echo(
                f"无法读取同一文件夹里的工作区 {other.name}（{exc}），它可能也在使用这些附件："
                "为安全起见不做清理，请先处理该文件。",
                err=True,
            )
            raise typer.Exit(2) from None
    return refs


@blobs_app.command("gc")
def blobs_gc(
    ctx: typer.Context,
    grace: Annotated[
        float, typer.Option("--grace", help="最近这么多秒内放入的文件暂不清理（正在添加的附件）")
    ] = 3600.0,
) -> None:
    """删除附件库里已没有任何附件记录使用的文件（同一文件夹里的其他工作区仍在用的会保留）。"""
    from zctui.store.blobs import BlobStore

    store_path = _workspace(ctx)
    blobs = BlobStore(blobs_dir_for(store_path))
    refs = _referenced(store_path)
    removed = blobs.gc(refs, grace_seconds=grace)
    for digest in removed:
        typer.echo(f"已删除 {digest}")
    typer.echo(f"清理完成：删除 {len(removed)} 个不再使用的文件，保留 {len(refs)} 个在用的文件。")


@blobs_app.command("verify")
def blobs_verify(ctx: typer.Context) -> None:
    """重新计算附件库里每个文件的 SHA-256，找出损坏或缺失的文件。有问题时退出码为 1。"""
    from zctui.store.blobs import BlobStore

    store_path = _workspace(ctx)
    blobs = BlobStore(blobs_dir_for(store_path))
    from zctui.store.repository import Store

    with Store(store_path) as store:
        refs = store.referenced_blobs()
    problems = blobs.verify(refs)
    count = sum(1 for _ in blobs)
    for digest, problem in problems:
        typer.echo(f"✗ {digest}  {problem}")
    if problems:
        typer.echo(
            f"\n共 {count} 个文件，{len(problems)} 个有问题：请重新添加这些附件"
            "（在对应栏目删除后重新上传原文件）。"
        )
        raise typer.Exit(1)
    typer.echo(f"全部完好：共 {count} 个文件，内容与 SHA-256 一致。")
