"""One sync: push the numbered outbox, pull what changed, until both are done.

The wire is `POST /v1/sync` (`zctui.domain.sync`). Files go first (the server must hold a
blob before a row may name it); then rounds of at most `MUTATIONS_MAX` mutations, each
answered with results and a page of changes, stored in one local transaction
(`store.outbox.apply`). A round whose answer is lost is simply sent again: the server
answers mutations it has applied from its record, so nothing is applied twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import httpx
from pydantic import BaseModel, ValidationError

from zctui.domain.models import SyncIssue
from zctui.domain.sync import MUTATIONS_MAX, PAGE_DEFAULT, SYNC_PATH, Gap, SyncIn, SyncOut
from zctui.store import outbox
from zctui.store.repository import Store

EXPIRED = "登录已过期，请重新登录后再同步；修改都已保存在本机"
REFUSED = "服务器拒绝了同步：{detail}"
LOST = "服务器缺少本机第 {n} 条以后的修改记录，而本机已不再保存它们；请联系服务热线"
GARBLED = "服务器返回了无法识别的同步结果，请稍后重试；修改都已保存在本机"


class SyncError(Exception):
    """The sync stopped; the message is Chinese and can be shown. Nothing is lost: the
    outbox keeps every edit the server has not acknowledged."""


class SyncExpired(SyncError):
    """The session token is no longer valid: log in again."""


class PostsJson(Protocol):
    """What the engine needs from the transport (`zctui.sync.transport.Transport`)."""

    def post_json(self, path: str, body: BaseModel) -> httpx.Response: ...


class PushesBlobs(Protocol):
    """`zctui.sync.blobs.BlobUploader`: uploads the files the server lacks."""

    def push(self, hashes: set[str]) -> object: ...


@dataclass
class SyncReport:
    pushed: int = 0
    pulled: int = 0
    rounds: int = 0
    issues: list[SyncIssue] = field(default_factory=list)
    applications: set[uuid.UUID] = field(default_factory=set)  # changed by the pull or issues
    synced_at: datetime | None = None
    catalog: int | None = None  # the server's catalog version


Progress = Callable[[str], None]


class SyncEngine:
    def __init__(
        self,
        store: Store,
        transport: PostsJson,
        *,
        blobs: PushesBlobs | None = None,
        page: int = PAGE_DEFAULT,
        batch: int = MUTATIONS_MAX,
    ) -> None:
        self.store = store
        self.transport = transport
        self.blobs = blobs
        self.page = page
        self.batch = batch

    def sync(self, progress: Progress | None = None) -> SyncReport:
        report = SyncReport()
        outbox.prepare(self.store)
        if self.blobs is not None:
            hashes = outbox.blob_hashes(outbox.pending(self.store, 0, 1_000_000))
            if hashes:
                if progress:
                    progress(f"正在上传 {len(hashes)} 个文件")
                self.blobs.push(hashes)
        while True:
            st = outbox.state(self.store)
            muts = outbox.pending(self.store, st.acked, self.batch)
            body = SyncIn(
                client=st.client_id,
                cursor=st.cursor,
                muts=muts,
                page=self.page,
                catalog=st.catalog_version,
            )
            if progress:
                progress(f"同步中：上传 {len(muts)} 项修改" if muts else "同步中：检查更新")
            out = self._round(body)
            applied = outbox.apply(self.store, muts, out)
            report.rounds += 1
            report.pushed += applied.pushed
            report.pulled += applied.pulled
            report.issues += applied.issues
            report.applications |= applied.applications
            report.catalog = out.catalog
            more_to_push = bool(outbox.pending(self.store, out.acked, 1))
            if not out.more and not more_to_push:
                break
        report.synced_at = outbox.state(self.store).synced_at
        return report

    def _round(self, body: SyncIn) -> SyncOut:
        r = self.transport.post_json(SYNC_PATH, body)
        if r.status_code == 401:
            raise SyncExpired(EXPIRED)
        if r.status_code == 409:
            try:
                gap = Gap.model_validate_json(r.content)
            except ValidationError:
                raise SyncError(REFUSED.format(detail=_detail(r))) from None
            # The server has applied fewer of ours than this workspace was told (it was
            # restored from a backup): the acknowledged entries are gone from here.
            raise SyncError(LOST.format(n=gap.expected))
        if not r.is_success:
            raise SyncError(REFUSED.format(detail=_detail(r)))
        try:
            return SyncOut.model_validate_json(r.content)
        except ValidationError:
            raise SyncError(GARBLED) from None


def _detail(r: httpx.Response) -> str:
    try:
        detail = r.json().get("detail")
    except ValueError:
        detail = None
    return detail if isinstance(detail, str) else f"HTTP {r.status_code}"
