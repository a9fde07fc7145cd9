"""Attachments' bytes to and from the server (issue 6), over the protocol in
domain/blobs.py, for applicants on slow links that get cut.

`BlobUploader` takes the caller's `httpx.Client` (base URL and `Authorization: Bearer`
set) and the local BlobStore. An upload asks the server first how much it holds (HEAD),
so it resumes after a cut connection and after a restart alike; it sends chunks read
from the blob file (never the whole file), each with its digest. A network error, a 408,
429 or 5xx makes it wait (jittered exponential backoff, tenacity) and ask again; it gives
up when no byte got through for `give_up_after` seconds, with a Chinese message. Bytes
moved are counted in `bytes_sent` / `bytes_received` (bodies only) for the caller to show.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_random_exponential

from zctui.domain.blobs import (
    CHUNK_MEDIA_TYPE,
    CHUNK_SHA256,
    MISSING_MAX,
    SHA256_PATTERN,
    UPLOAD_COMPLETE,
    UPLOAD_LENGTH,
    UPLOAD_OFFSET,
    blob_path,
    etag,
    upload_path,
)
from zctui.store.blobs import CHUNK, TMP_PREFIX, BlobStore

DEFAULT_CHUNK = 256 * 1024
PIECE = 16 * 1024  # a chunk is handed to the socket in pieces, counted as they go
RETRY_STATUSES = frozenset({408, 429})

T = TypeVar("T")
Progress = Callable[[int, int], None]  # (bytes the server holds, the file's size)

GAVE_UP = (
    "附件 {short}… {what}未完成：{seconds:.0f} 秒内网络一直没有恢复（{why}）。"
    "已传的部分不会丢，稍后再同步会从断点继续"
)
UNREACHABLE = "连接不上服务器或连接中断"
SERVER_BUSY = "服务器暂时无法处理（{status}）"
UNEXPECTED = "服务器返回了无法识别的结果（{status}），请稍后重试"
LOCAL_MISSING = "本机附件库里没有附件 {short}…（文件可能被删除或移动），请重新添加该附件"
LOCAL_DAMAGED = "本机附件库里的附件 {short}… 已损坏（内容与编号不符），请重新添加该附件"
BAD_DIGEST = "附件编号应为 64 位小写十六进制的 SHA-256，收到的是「{value}」"
DOWNLOAD_DAMAGED = "下载的附件 {short}… 校验失败（内容与编号不符），已丢弃；请稍后重试"
NOT_STORED = "服务器上没有附件 {short}…，或您无权查看"
NOT_ACCEPTED = "附件 {short}… 的上传未被服务器接受：{why}"


class BlobTransferError(Exception):
    """Why a transfer stopped, in Chinese, to show as it is. `retryable`: the network or
    the server's load, not this blob (a later sync may succeed as it is)."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class PushOutcome:
    status: Literal["present", "uploaded", "failed"]  # present: the server had it already
    message: str | None = None


class _Again(Exception):
    """Worth another try after a wait: the network, or the server's 408/429/5xx."""


class _Progressed(Exception):
    """Failed after moving bytes: start again at once, with a fresh backoff budget."""


class BlobUploader:
    def __init__(
        self,
        http: httpx.Client,
        blobs: BlobStore,
        chunk_size: int = DEFAULT_CHUNK,
        *,
        give_up_after: float = 120.0,
        backoff: float = 0.5,
        backoff_max: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if chunk_size < 1:
            raise ValueError("chunk_size must be positive")
        self.http = http
        self.blobs = blobs
        self.chunk_size = chunk_size
        self.give_up_after = give_up_after
        self.backoff = backoff
        self.backoff_max = backoff_max
        self._sleep = sleep
        self.bytes_sent = 0
        self.bytes_received = 0

    # ------------------------------------------------------------------ asking
    def missing(self, hashes: Iterable[str]) -> set[str]:
        """Which of these blobs the server lacks."""
        wanted = list(dict.fromkeys(hashes))
        for h in wanted:
            _check_digest(h)
        absent: set[str] = set()
        for i in range(0, len(wanted), MISSING_MAX):
            batch = wanted[i : i + MISSING_MAX]

            def ask(batch: list[str] = batch) -> list[str]:
                r = self._call("POST", "/v1/blobs/missing", json={"sha256": batch})
                found: list[str] = r.json()["missing"]
                return found

            absent.update(self._persist(ask, f"{batch[0][:12]}", "查询"))
        return absent

    def push(
        self, hashes: Iterable[str], on_progress: Callable[[str, int, int], None] | None = None
    ) -> dict[str, PushOutcome]:
        """Upload those of `hashes` the server lacks; an outcome per blob. A network that
        stays down stops the push: the rest are marked failed without being tried."""
        wanted = list(dict.fromkeys(hashes))
        outcomes: dict[str, PushOutcome] = {}
        local = []
        for sha in wanted:
            if not _is_digest(sha):
                outcomes[sha] = PushOutcome("failed", BAD_DIGEST.format(value=str(sha)[:70]))
            elif self.blobs.has(sha):
                local.append(sha)
            else:
                outcomes[sha] = PushOutcome("failed", LOCAL_MISSING.format(short=sha[:12]))
        absent = self.missing(local)
        stopped: str | None = None
        for sha in local:
            if sha not in absent:
                outcomes[sha] = PushOutcome("present")
            elif stopped is not None:
                outcomes[sha] = PushOutcome("failed", stopped)
            else:
                try:
                    self.upload(sha, _for_blob(on_progress, sha))
                except BlobTransferError as exc:
                    outcomes[sha] = PushOutcome("failed", str(exc))
                    if exc.retryable:
                        stopped = str(exc)
                else:
                    outcomes[sha] = PushOutcome("uploaded")
        return {sha: outcomes[sha] for sha in wanted}

    # ------------------------------------------------------------------ upload
    def upload(self, sha256: str, on_progress: Progress | None = None) -> None:
        """Send one blob, from wherever the server's copy stops."""
        _check_digest(sha256)
        path = self.blobs.path(sha256)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise BlobTransferError(LOCAL_MISSING.format(short=sha256[:12])) from None
        if _digest_of(path) != sha256:  # ms for 20 MB; saves sending a file to be refused
            raise BlobTransferError(LOCAL_DAMAGED.format(short=sha256[:12]))
        self._persist(lambda: self._send(sha256, path, size, on_progress), sha256, "上传")

    def _send(self, sha: str, path: Path, size: int, on_progress: Progress | None) -> None:
        r = self._call("HEAD", upload_path(sha), sha)
        if r.headers.get(UPLOAD_COMPLETE) == "1":
            return
        start = offset = _offset(r)
        conflicts = 0
        try:
            while True:
                with path.open("rb") as fh:
                    fh.seek(offset)
                    chunk = fh.read(min(self.chunk_size, size - offset))
                headers = {
                    UPLOAD_OFFSET: str(offset),
                    UPLOAD_LENGTH: str(size),
                    CHUNK_SHA256: hashlib.sha256(chunk).hexdigest(),
                    "Content-Type": CHUNK_MEDIA_TYPE,
                    "Content-Length": str(len(chunk)),  # else httpx would send it chunked
                }
                body = self._counted(chunk)
                r = self._call("PATCH", upload_path(sha), sha, content=body, headers=headers)
                if r.status_code == 409 and UPLOAD_OFFSET in r.headers:
                    # Another request of ours got there first (a reply lost on the way):
                    # go on from the server's offset.
                    conflicts += 1
                    if conflicts > 3:
                        raise _Again("上传位置反复不一致")
                    offset = _offset(r)
                    continue
                if r.status_code not in (201, 204):
                    raise self._refusal(r, sha)
                conflicts = 0
                offset = _offset(r)
                if on_progress:
                    on_progress(offset, size)
                if r.headers.get(UPLOAD_COMPLETE) == "1":
                    return
        except _Again as exc:
            if offset > start:
                raise _Progressed(str(exc)) from exc
            raise

    def _counted(self, chunk: bytes) -> Iterator[bytes]:
        for i in range(0, len(chunk), PIECE):
            piece = chunk[i : i + PIECE]
            yield piece
            self.bytes_sent += len(piece)

    # ------------------------------------------------------------------ download
    def download(self, sha256: str, dest: BlobStore) -> None:
        """Fetch one blob into `dest`, resuming a partial download left by an earlier try
        (a `.tmp-` file gc removes after an hour); kept only when its SHA-256 matches."""
        _check_digest(sha256)
        if dest.has(sha256):
            return
        dest.root.mkdir(parents=True, exist_ok=True)
        tmp = dest.root / f"{TMP_PREFIX}download-{sha256}"
        try:
            self._persist(lambda: self._fetch(sha256, tmp), sha256, "下载")
            if _digest_of(tmp) != sha256:
                tmp.unlink(missing_ok=True)
                raise BlobTransferError(DOWNLOAD_DAMAGED.format(short=sha256[:12]), retryable=True)
            dest.adopt(tmp, sha256)
        finally:
            if dest.has(sha256):
                tmp.unlink(missing_ok=True)

    def _fetch(self, sha: str, tmp: Path) -> None:
        start = have = tmp.stat().st_size if tmp.exists() else 0
        headers = {"Range": f"bytes={have}-", "If-Range": etag(sha)} if have else {}
        try:
            with self.http.stream("GET", blob_path(sha), headers=headers) as r:
                if r.status_code in RETRY_STATUSES or r.status_code >= 500:
                    raise _Again(SERVER_BUSY.format(status=r.status_code))
                if r.status_code == 416:
                    total = r.headers.get("Content-Range", "").rpartition("/")[2]
                    if total.isdigit() and int(total) == have:
                        return  # the earlier try got it all
                    tmp.unlink()  # longer than the file: not this file's start
                    raise _Again("本地的半截下载与文件不符")
                if r.status_code == 404:
                    raise BlobTransferError(NOT_STORED.format(short=sha[:12]))
                resumed = r.headers.get("Content-Range", "").startswith(f"bytes {have}-")
                if r.status_code == 206 and resumed:
                    mode = "ab"
                elif r.status_code == 200:
                    mode, have = "wb", 0  # the whole file: start over
                else:
                    r.read()
                    raise self._refusal(r, sha)
                with tmp.open(mode) as fh:
                    try:
                        for piece in r.iter_bytes(PIECE):
                            fh.write(piece)
                            have += len(piece)
                            self.bytes_received += len(piece)
                    finally:
                        fh.flush()
                        os.fsync(fh.fileno())
        except httpx.TransportError as exc:
            why = f"{UNREACHABLE}：{type(exc).__name__}"
            raise (_Progressed(why) if have > start else _Again(why)) from exc

    # ------------------------------------------------------------------ plumbing
    def _persist(self, attempt: Callable[[], T], sha: str, what: str) -> T:
        """Run `attempt` until it succeeds; _Again waits (jittered exponential) and tries
        again, up to give_up_after seconds without progress; _Progressed starts again after
        a short pause with a fresh budget (bytes went through: the link works)."""
        while True:
            retrying = Retrying(
                retry=retry_if_exception_type(_Again),
                wait=wait_random_exponential(multiplier=self.backoff, max=self.backoff_max),
                stop=stop_after_delay(self.give_up_after),
                sleep=self._sleep,
                reraise=True,
            )
            try:
                return retrying(attempt)
            except _Progressed:
                self._sleep(random.uniform(0, self.backoff))  # a breath, not a full backoff
                continue
            except _Again as exc:
                message = GAVE_UP.format(
                    short=sha[:12], what=what, seconds=self.give_up_after, why=exc
                )
                raise BlobTransferError(message, retryable=True) from exc

    def _call(self, method: str, path: str, sha: str = "", **kwargs: object) -> httpx.Response:
        try:
            r = self.http.request(method, path, **kwargs)  # type: ignore[arg-type]
        except httpx.TransportError as exc:
            raise _Again(f"{UNREACHABLE}：{type(exc).__name__}") from exc
        if r.status_code in RETRY_STATUSES or r.status_code >= 500:
            raise _Again(SERVER_BUSY.format(status=r.status_code))
        if r.status_code >= 400 and r.status_code != 409:
            raise self._refusal(r, sha)
        return r

    def _refusal(self, r: httpx.Response, sha: str) -> Exception:
        if r.status_code in RETRY_STATUSES or r.status_code >= 500:
            return _Again(SERVER_BUSY.format(status=r.status_code))
        try:
            detail = r.json().get("detail")
        except ValueError:
            detail = None
        why = detail if isinstance(detail, str) else UNEXPECTED.format(status=r.status_code)
        if r.status_code == 401 or not sha:
            return BlobTransferError(why)  # the server's words (401: log in again)
        return BlobTransferError(NOT_ACCEPTED.format(short=sha[:12], why=why))


def _for_blob(on_progress: Callable[[str, int, int], None] | None, sha: str) -> Progress | None:
    if on_progress is None:
        return None
    return lambda done, total: on_progress(sha, done, total)


def _offset(r: httpx.Response) -> int:
    value = r.headers.get(UPLOAD_OFFSET, "")
    if not value.isdigit():
        raise BlobTransferError(UNEXPECTED.format(status=r.status_code))
    return int(value)


def _is_digest(value: object) -> bool:
    return isinstance(value, str) and re.fullmatch(SHA256_PATTERN.strip("^$"), value) is not None


def _check_digest(value: str) -> None:
    if not _is_digest(value):
        raise BlobTransferError(BAD_DIGEST.format(value=str(value)[:70]))


def _digest_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while piece := fh.read(CHUNK):
            h.update(piece)
    return h.hexdigest()
