"""Issue 6: pull the server's catalog when it changed (`SyncOut.catalog` says its version).

Nothing broken or half-written ever replaces a good catalog: the files are written to a
new directory beside `dest`, checked there with the loader the application itself uses,
and only then moved into place. The switch is two renames (the old one aside, the new one
in): a crash between them leaves no downloaded catalog, and the packaged one is used
until the next pull — never a partial one."""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

import httpx

from zctui.data.base import CatalogError
from zctui.data.catalog import CATALOG_FILES, load_catalog, reload_catalog

CATALOG_PATH = "/v1/catalog"
UNREACHABLE = "连接不上服务器，职称目录没有更新（继续使用现有目录）：{error}"
UNEXPECTED = "服务器返回的职称目录无法识别（{why}），没有更新，继续使用现有目录"
BROKEN = "服务器发来的职称目录有错误，没有安装，继续使用现有目录：{error}"

log = logging.getLogger("zctui.sync.catalog")


class CatalogPullError(Exception):
    """The catalog was not updated; the message says why, in Chinese. The old one stays."""


def pull_catalog(http: httpx.Client, dest: Path, have: int | None) -> int | None:
    """Fetch the server's catalog unless it is version `have`; install it into `dest`
    (e.g. `zctui.data.catalog.downloaded_catalog_dir()`) once it validates, and make
    `load_catalog()` see it. Returns the version installed, or `have` when the server has
    nothing newer (a 304, or a version not above `have`). Raises CatalogPullError."""
    headers = {"If-None-Match": f'"{have}"'} if have is not None else {}
    try:
        r = http.get(CATALOG_PATH, headers=headers)
    except httpx.HTTPError as exc:
        raise CatalogPullError(UNREACHABLE.format(error=type(exc).__name__)) from None
    if r.status_code == 304:
        return have
    if r.status_code != 200:
        raise CatalogPullError(UNEXPECTED.format(why=f"状态 {r.status_code}"))
    version, files = _parse(r)
    if have is not None and version <= have:
        log.info("服务器的职称目录版本 %d 不比现有的 %d 新，不安装", version, have)
        return have
    _install(files, version, Path(dest))
    reload_catalog()
    return version


def _parse(r: httpx.Response) -> tuple[int, dict[str, str]]:
    try:
        body = r.json()
        version, files = body["version"], body["files"]
    except (ValueError, KeyError, TypeError):
        why = "不是 JSON 对象或缺少 version/files"
        raise CatalogPullError(UNEXPECTED.format(why=why)) from None
    if not isinstance(version, int) or not isinstance(files, dict):
        raise CatalogPullError(UNEXPECTED.format(why="version 或 files 的类型不对"))
    # Exactly the catalog's files: a name like "../x" is never written anywhere.
    texts = all(isinstance(v, str) for v in files.values())
    if sorted(files) != sorted(CATALOG_FILES) or not texts:
        expected = "、".join(CATALOG_FILES)
        raise CatalogPullError(UNEXPECTED.format(why=f"文件应当正好是 {expected}"))
    return version, files


def _install(files: dict[str, str], version: int, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    new = Path(tempfile.mkdtemp(prefix=f".{dest.name}-new-", dir=dest.parent))
    try:
        for name in CATALOG_FILES:
            (new / name).write_text(files[name], encoding="utf-8")
        try:
            loaded = load_catalog(new)
        except CatalogError as exc:
            raise CatalogPullError(BROKEN.format(error=exc)) from None
        if loaded.version != version:
            why = f"声明的版本 {version} 与 series.yaml 中的版本 {loaded.version} 不一致"
            raise CatalogPullError(BROKEN.format(error=why))
        old = dest.with_name(f".{dest.name}-old-{new.name.rsplit('-', 1)[-1]}")
        if dest.exists():
            dest.rename(old)
        new.rename(dest)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(new, ignore_errors=True)  # gone already when it was moved into place
    log.info("已安装服务器的职称目录，版本 %d", version)
