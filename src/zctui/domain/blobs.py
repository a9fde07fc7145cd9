"""The attachments' bytes on the wire (issue 6), shared by the client (`zctui.sync.blobs`)
and the server (`zctui.server.routers.blobs`), which may not import each other.

Attachment rows travel by `/v1/sync`; the bytes they name travel here, by SHA-256:

- `POST /v1/blobs/missing` `{"sha256": [...]}` → `{"missing": [...]}`: which of these the
  server lacks. A blob it has costs this one small exchange.
- Resumable upload, per (account, sha256), after tus:
  - `HEAD /v1/blobs/{sha}/upload` → `Upload-Offset` (bytes the server holds of this
    upload, 0 if none), `Upload-Length` once known, `Upload-Complete: 1` when the blob is
    stored already.
  - `PATCH /v1/blobs/{sha}/upload`, body = the next chunk, with `Upload-Offset` (must equal
    the server's, else 409 carrying the server's `Upload-Offset`), `Upload-Length` (the
    whole file, fixed by the first chunk) and `Chunk-SHA256` (of this chunk: a mismatch is
    a 422 and nothing is kept). A chunk cut off on the way is dropped whole. 204 with the
    new `Upload-Offset`; the last chunk makes the server hash the whole file: equal to
    {sha} → stored, 201 with `Upload-Complete: 1`; else the partial is deleted, 422.
  The client always asks HEAD before sending, so it resumes after a cut connection or a
  restart alike, re-sending at most the chunk that was cut.
- `GET /v1/blobs/{sha}` (and HEAD): the bytes, with `Range: bytes=a-b` (206), ETag
  `"{sha}"`; 404 unless an attachment row the caller may see names the blob.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from zctui.domain.sync import Wire

BLOBS_PATH = "/v1/blobs"
MISSING_MAX = 1000  # digests per `missing` request
SHA256_PATTERN = r"^[0-9a-f]{64}$"

UPLOAD_OFFSET = "Upload-Offset"
UPLOAD_LENGTH = "Upload-Length"
UPLOAD_COMPLETE = "Upload-Complete"
CHUNK_SHA256 = "Chunk-SHA256"
CHUNK_MEDIA_TYPE = "application/octet-stream"

Sha256 = Annotated[str, Field(pattern=SHA256_PATTERN)]


def upload_path(sha256: str) -> str:
    return f"{BLOBS_PATH}/{sha256}/upload"


def blob_path(sha256: str) -> str:
    return f"{BLOBS_PATH}/{sha256}"


def etag(sha256: str) -> str:
    return f'"{sha256}"'


class MissingIn(Wire):
    sha256: list[Sha256] = Field(max_length=MISSING_MAX)


class MissingOut(Wire):
    missing: list[str]
