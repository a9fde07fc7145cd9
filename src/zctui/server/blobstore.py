"""The server's attachment bytes: the content-addressed store (store.blobs.BlobStore, the
same layout as the client's) and the uploads still under way.

An unfinished upload is `partial/<account>/<sha>` beside the store, plus `<sha>.length`
holding the whole file's size. No database: the partial file's size IS the upload's
offset. A chunk is appended under an exclusive `flock` on the partial (one per upload,
across threads and worker processes), after its digest was checked, then fsynced: what
the offset says the server holds, it holds. The last chunk makes the whole file re-hashed
and linked into the store, or deleted when it is not the file its name says.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from zctui.store.blobs import CHUNK, BlobStore

LENGTH_SUFFIX = ".length"

OFFSET_MISMATCH = (
    "上传位置不对：服务器已收到此文件的 {have} 字节，这一段却从第 {sent} 字节开始；"
    "请从第 {have} 字节继续上传"
)
CHUNK_DAMAGED = (
    "这一段数据与它的校验值（Chunk-SHA256）不符，可能在传输中损坏，未保存；请重新发送这一段"
)
TOO_LARGE = "文件过大：{size}，每个附件最大 {limit}；请压缩或拆分后再上传"
LENGTH_CHANGED = (
    "文件大小与之前上传的部分不一致（之前为 {old} 字节，这次为 {new} 字节）；"
    "同一文件的大小不会变，请重新选择文件上传"
)
PAST_END = (
    "这一段超出了文件末尾：文件共 {length} 字节，这一段却到第 {end} 字节；请按文件大小分段上传"
)
FILE_DAMAGED = (
    "文件校验失败：收到的内容与文件编号（SHA-256）不符，已丢弃；"
    "请重新上传（如仍失败，请重新选择原文件）"
)


class UploadRefused(Exception):
    """An upload step refused: HTTP status, Chinese detail, and the offset the server holds
    (sent back so the client can resume from there)."""

    def __init__(self, status: int, detail: str, offset: int | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.offset = offset


@dataclass(frozen=True)
class UploadState:
    offset: int
    length: int | None
    complete: bool


def human_size(n: int) -> str:
    mb = n / (1024 * 1024)
    return f"{mb:.1f} MB" if mb >= 1 else f"{n} 字节"


class ServerBlobs:
    def __init__(self, root: Path, *, max_bytes: int, partial_days: float = 7.0) -> None:
        self.store = BlobStore(root)
        self.partials = root / "partial"
        self.max_bytes = max_bytes
        self.partial_seconds = partial_days * 86400

    def path(self, sha256: str) -> Path | None:
        """The stored blob's file, None when the server does not have it."""
        path = self.store.path(sha256)
        return path if path.is_file() else None

    def missing(self, hashes: list[str]) -> list[str]:
        return [h for h in dict.fromkeys(hashes) if not self.store.has(h)]

    # ------------------------------------------------------------------ uploads
    def _partial(self, account: uuid.UUID, sha256: str) -> Path:
        return self.partials / str(account) / sha256

    def state(self, account: uuid.UUID, sha256: str) -> UploadState:
        """What the server holds of this upload. Read without the lock: during an append
        the size may be mid-chunk, and a PATCH at that offset then gets a 409 with the
        right one."""
        stored = self.path(sha256)
        if stored is not None:
            size = stored.stat().st_size
            return UploadState(size, size, True)
        partial = self._partial(account, sha256)
        try:
            offset = partial.stat().st_size
        except FileNotFoundError:
            return UploadState(0, None, False)
        return UploadState(offset, _read_length(partial), False)

    def append(
        self, account: uuid.UUID, sha256: str, offset: int, length: int, chunk: bytes, digest: str
    ) -> UploadState:
        """Append `chunk` at `offset` of the upload of a `length`-byte file; raises
        UploadRefused. Nothing of a refused chunk is kept."""
        if length > self.max_bytes:
            raise UploadRefused(
                413, TOO_LARGE.format(size=human_size(length), limit=human_size(self.max_bytes))
            )
        if offset + len(chunk) > length:
            raise UploadRefused(422, PAST_END.format(length=length, end=offset + len(chunk)))
        if hashlib.sha256(chunk).hexdigest() != digest:
            raise UploadRefused(422, CHUNK_DAMAGED, offset)
        if self.store.has(sha256):
            return self.state(account, sha256)  # someone stored it meanwhile: nothing to add
        partial = self._partial(account, sha256)
        if offset != 0 and not partial.exists():
            raise UploadRefused(409, OFFSET_MISMATCH.format(have=0, sent=offset), 0)
        if offset == 0:
            partial.parent.mkdir(parents=True, exist_ok=True)
            self._prune(partial.parent)
        with _locked(partial) as fh:
            try:
                return self._append_locked(fh, partial, sha256, offset, length, chunk)
            finally:
                _drop_if_empty(fh, partial)  # a refused first chunk leaves no empty upload

    def _append_locked(
        self, fh: BinaryIO, partial: Path, sha256: str, offset: int, length: int, chunk: bytes
    ) -> UploadState:
        if self.store.has(sha256):  # finished by the request we waited for
            return UploadState(length, length, True)
        have = os.fstat(fh.fileno()).st_size
        if have != offset:
            raise UploadRefused(409, OFFSET_MISMATCH.format(have=have, sent=offset), have)
        known = _read_length(partial)
        if have == 0 and known != length:
            _write_length(partial, length)
            _fsync_dir(partial.parent)
        elif known != length:
            raise UploadRefused(422, LENGTH_CHANGED.format(old=known, new=length), have)
        fh.write(chunk)
        fh.flush()
        os.fsync(fh.fileno())
        offset += len(chunk)
        if offset < length:
            return UploadState(offset, length, False)
        h = hashlib.sha256()
        with partial.open("rb") as whole:
            while piece := whole.read(CHUNK):
                h.update(piece)
        if h.hexdigest() != sha256:
            _remove(partial)
            raise UploadRefused(422, FILE_DAMAGED, 0)
        self.store.adopt(partial, sha256)
        _remove(partial)
        return UploadState(length, length, True)

    def _prune(self, folder: Path) -> None:
        """Remove this account's uploads untouched for partial_upload_days (abandoned)."""
        now = time.time()
        for f in folder.iterdir():
            if f.suffix == LENGTH_SUFFIX:
                continue
            try:
                if now - f.stat().st_mtime > self.partial_seconds:
                    with _locked(f):
                        _remove(f)
            except FileNotFoundError:
                continue


@contextmanager
def _locked(path: Path) -> Iterator[BinaryIO]:
    """The partial opened for appending, under an exclusive lock. A file that was removed
    (finished or refused) while we waited is not the upload any more: open it again."""
    while True:
        fh = path.open("ab")
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            same = os.stat(path).st_ino == os.fstat(fh.fileno()).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        fh.close()
    try:
        yield fh
    finally:
        fh.close()  # releases the lock


def _drop_if_empty(fh: BinaryIO, partial: Path) -> None:
    mine = os.fstat(fh.fileno())
    try:
        same = os.stat(partial).st_ino == mine.st_ino
    except FileNotFoundError:
        return
    if same and mine.st_size == 0:
        _remove(partial)


def _length_file(partial: Path) -> Path:
    return partial.with_name(partial.name + LENGTH_SUFFIX)


def _read_length(partial: Path) -> int | None:
    try:
        text = _length_file(partial).read_text(encoding="ascii").strip()
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def _write_length(partial: Path, length: int) -> None:
    with _length_file(partial).open("w", encoding="ascii") as fh:
        fh.write(str(length))
        fh.flush()
        os.fsync(fh.fileno())


def _remove(partial: Path) -> None:
    partial.unlink(missing_ok=True)
    _length_file(partial).unlink(missing_ok=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
