"""Attachments' bytes (issue 6): which the server lacks, resumable upload, ranged download.
The protocol is domain/blobs.py's docstring; the storage server/blobstore.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, HTTPException, Path, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy import select
from sqlmodel import col

from zctui.domain.blobs import (
    BLOBS_PATH,
    CHUNK_MEDIA_TYPE,
    CHUNK_SHA256,
    SHA256_PATTERN,
    UPLOAD_COMPLETE,
    UPLOAD_LENGTH,
    UPLOAD_OFFSET,
    MissingIn,
    MissingOut,
    etag,
)
from zctui.server import access
from zctui.server.blobstore import ServerBlobs, UploadRefused, UploadState
from zctui.server.deps import DB, Caller, Me, role
from zctui.server.models import SECTION_TABLES, Application
from zctui.server.schemas import Problem

router = APIRouter(prefix=BLOBS_PATH, tags=["blobs"])

NOT_FOUND = "找不到该附件，或您无权查看"
UNSATISFIABLE = "请求的范围超出了文件：文件共 {size} 字节，请求的起点应在 0 到 {last} 之间"
PIECE = 64 * 1024  # bytes read and sent at a time: the file is never read whole

Writer = Annotated[Caller, Depends(role("applicant", "unit_admin"))]
Sha = Annotated[
    str, Path(pattern=SHA256_PATTERN, description="文件的 SHA-256（64 位小写十六进制）")
]
Offset = Annotated[int, Header(alias=UPLOAD_OFFSET, ge=0, le=2**53)]
Length = Annotated[int, Header(alias=UPLOAD_LENGTH, ge=0, le=2**53)]
ChunkDigest = Annotated[str, Header(alias=CHUNK_SHA256, pattern=SHA256_PATTERN)]
Chunk = Annotated[bytes, Body(media_type=CHUNK_MEDIA_TYPE, description="这一段的字节")]


def _problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": Problem} for code in codes}


def _header(description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string"}}


_BYTES = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
_STATE_HEADERS = {
    UPLOAD_OFFSET: _header("服务器已收到的字节数"),
    UPLOAD_LENGTH: _header("整个文件的字节数（已知时）"),
    UPLOAD_COMPLETE: _header("为 1 时文件已完整保存在服务器上"),
}


def blobs_of(request: Request) -> ServerBlobs:
    blobs: ServerBlobs = request.app.state.blobs
    return blobs


@router.post("/missing", responses=_problems(401, 403, 422))
def missing(body: MissingIn, request: Request, c: Writer) -> MissingOut:
    """Which of these blobs the server lacks (upload only those)."""
    return MissingOut(missing=blobs_of(request).missing(body.sha256))


def _state_headers(state: UploadState) -> dict[str, str]:
    headers = {UPLOAD_OFFSET: str(state.offset)}
    if state.length is not None:
        headers[UPLOAD_LENGTH] = str(state.length)
    if state.complete:
        headers[UPLOAD_COMPLETE] = "1"
    return headers


@router.head(
    "/{sha}/upload",
    response_class=Response,
    responses={200: {"description": "上传进度", "headers": _STATE_HEADERS}, **_problems(401, 403)},
)
def upload_state(sha: Sha, request: Request, c: Writer) -> Response:
    """How much of this upload the server holds: resume from `Upload-Offset`."""
    state = blobs_of(request).state(c.account.id, sha)
    return Response(status_code=200, headers=_state_headers(state))


@router.patch(
    "/{sha}/upload",
    status_code=204,
    response_class=Response,
    responses={
        201: {"description": "最后一段：文件已校验并保存", "headers": _STATE_HEADERS},
        204: {"description": "这一段已保存", "headers": _STATE_HEADERS},
        **_problems(401, 403, 409, 413, 422),
    },
)
def upload_chunk(
    sha: Sha,
    chunk: Chunk,
    offset: Offset,
    length: Length,
    digest: ChunkDigest,
    request: Request,
    c: Writer,
) -> Response:
    """Append the next chunk. The body was read whole before this runs: a chunk cut off on
    the way never gets here, and the offset stays where it was."""
    try:
        state = blobs_of(request).append(c.account.id, sha, offset, length, chunk, digest)
    except UploadRefused as exc:
        headers = {UPLOAD_OFFSET: str(exc.offset)} if exc.offset is not None else None
        raise HTTPException(exc.status, exc.detail, headers=headers) from None
    return Response(status_code=201 if state.complete else 204, headers=_state_headers(state))


_DOWNLOAD = {
    "response_class": Response,
    "responses": {
        200: {"description": "文件内容", "content": _BYTES},
        206: {"description": "所请求的一段", "content": _BYTES},
        304: {"description": "您已有此文件（If-None-Match）"},
        **_problems(401, 403, 404, 416, 422),
    },
}
RangeHeader = Annotated[str | None, Header(alias="Range", max_length=200)]
IfRange = Annotated[str | None, Header(alias="If-Range", max_length=200)]
IfNoneMatch = Annotated[str | None, Header(alias="If-None-Match", max_length=2000)]


@router.get("/{sha}", **_DOWNLOAD)  # type: ignore[arg-type]
def download(
    sha: Sha,
    request: Request,
    db: DB,
    c: Me,
    range_: RangeHeader = None,
    if_range: IfRange = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """The blob's bytes, whole or a `Range: bytes=a-b` of them; only when an attachment
    of an application the caller may see names it (else 404, as for an absent blob). The
    database session ends before the bytes go out (test_sync_blobs checks it): a reader
    on a 20 KB/s link holds no database slot for minutes."""
    return _serve(sha, request, db, c, range_, if_range, if_none_match, head=False)


@router.head("/{sha}", **_DOWNLOAD)  # type: ignore[arg-type]
def download_head(
    sha: Sha,
    request: Request,
    db: DB,
    c: Me,
    range_: RangeHeader = None,
    if_range: IfRange = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """As GET, without the bytes: the size and ETag."""
    return _serve(sha, request, db, c, range_, if_range, if_none_match, head=True)


def _serve(
    sha: str,
    request: Request,
    db: DB,
    c: Caller,
    range_: str | None,
    if_range: str | None,
    if_none_match: str | None,
    *,
    head: bool,
) -> Response:
    path = blobs_of(request).path(sha)
    if path is None or not _may_see(db, c, sha):
        raise HTTPException(404, NOT_FOUND)
    size = path.stat().st_size
    tag = etag(sha)
    headers = {"ETag": tag, "Accept-Ranges": "bytes"}
    if if_none_match and (if_none_match.strip() == "*" or tag in _tags(if_none_match)):
        return Response(status_code=304, headers=headers)
    wanted = _range(range_, size) if range_ and (if_range is None or if_range == tag) else None
    if wanted == "unsatisfiable":
        return JSONResponse(
            {"detail": UNSATISFIABLE.format(size=size, last=max(size - 1, 0))},
            status_code=416,
            headers={**headers, "Content-Range": f"bytes */{size}"},
        )
    start, end, status = 0, size, 200
    if isinstance(wanted, tuple):
        start, end, status = wanted[0], wanted[1], 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    headers["Content-Length"] = str(end - start)
    if head:
        return Response(status_code=status, headers=headers, media_type="application/octet-stream")
    return StreamingResponse(
        _pieces(path, start, end),
        status_code=status,
        headers=headers,
        media_type="application/octet-stream",
    )


def _may_see(db: DB, c: Caller, sha: str) -> bool:
    att = SECTION_TABLES["attachment"]
    apps = access.applications(db, c.account).with_only_columns(col(Application.id))
    q = select(att.c.id).where(
        att.c.sha256 == sha, att.c.deleted.is_(False), att.c.application_id.in_(apps)
    )
    return db.execute(q.limit(1)).first() is not None


def _tags(value: str) -> set[str]:
    return {t.strip().removeprefix("W/") for t in value.split(",")}


_RANGE = re.compile(r"bytes=(\d{0,18})-(\d{0,18})")


def _range(value: str, size: int) -> tuple[int, int] | str | None:
    """One `bytes=a-b`, `bytes=a-` or `bytes=-n` as [start, end); "unsatisfiable"; or None
    to send the whole file (anything else, several ranges included: RFC 9110 lets a
    server ignore a Range it does not serve)."""
    m = _RANGE.fullmatch(value.strip().replace(" ", ""))
    if m is None or m[1] == m[2] == "":
        return None
    if m[1] == "":  # the last n bytes
        n = int(m[2])
        return (max(size - n, 0), size) if n > 0 and size > 0 else "unsatisfiable"
    start = int(m[1])
    end = size if m[2] == "" else int(m[2]) + 1
    if m[2] != "" and end <= start:
        return None  # b < a: not a valid range, ignored
    if start >= size:
        return "unsatisfiable"
    return start, min(end, size)


def _pieces(path: FilePath, start: int, end: int) -> Iterator[bytes]:
    with path.open("rb") as fh:
        fh.seek(start)
        left = end - start
        while left > 0:
            piece = fh.read(min(PIECE, left))
            if not piece:
                return
            left -= len(piece)
            yield piece
