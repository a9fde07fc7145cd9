"""Issue 6: the catalog is the server's. `GET /v1/catalog` answers its source files and
version, with `ETag: "<version>"`; a client that already has that version sends
`If-None-Match` and gets a bodiless 304.

Public, like the announcements: the catalog is the same for everyone and holds no personal
data, and a client installed anew can fetch it before anyone has logged in. The answer is
built once at startup (the catalog only changes with a restart), so serving it costs no
database and no file read."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Request, Response

from zctui.data.catalog import CATALOG_FILES, Catalog

CATALOG_PATH = "/v1/catalog"
router = APIRouter(tags=["catalog"])


@dataclass(frozen=True)
class Served:
    version: int
    etag: str
    body: bytes


def served(catalog: Catalog, directory: Path) -> Served:
    files = {name: (directory / name).read_text(encoding="utf-8") for name in CATALOG_FILES}
    body = json.dumps({"version": catalog.version, "files": files}, ensure_ascii=False)
    return Served(catalog.version, f'"{catalog.version}"', body.encode())


def _matches(header: str, etag: str) -> bool:
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


@router.get(
    CATALOG_PATH,
    responses={200: {"description": '{"version": n, "files": {"series.yaml": "…", …}}'}},
)
async def catalog(request: Request) -> Response:
    s: Served = request.app.state.catalog
    headers = {"ETag": s.etag}
    if _matches(request.headers.get("if-none-match", ""), s.etag):
        return Response(status_code=304, headers=headers)
    return Response(s.body, media_type="application/json", headers=headers)
