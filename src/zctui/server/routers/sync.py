"""`POST /v1/sync` (push, then pull) and `GET /v1/sync/app/{id}` (bootstrap), issue 6.
The protocol is domain/sync.py.

A push is one transaction: the counter lock first (changes.py), then each new mutation in
a savepoint, its result stored beside the rows it changed, `acked` moved, one commit. A
response lost after that commit is answered from the stored results on the retry, and a
crash before it leaves nothing applied. A gap (a seq more than one past `acked`) refuses
the whole request before anything is applied: 409 with the seq the server wants next.
The pull runs after the commit, in a transaction of its own.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

from zctui.data.catalog import load_catalog
from zctui.domain.models import utcnow
from zctui.domain.sync import MUTATIONS_MAX, Gap, Result, Snapshot, SyncIn, SyncOut
from zctui.server import access, changes, pull
from zctui.server.deps import DB, Me
from zctui.server.models import Application, SyncClient, SyncResult
from zctui.server.mutations import SANE, SAVED, Pusher
from zctui.server.schemas import Problem
from zctui.server.security import audit

log = logging.getLogger("zctui.server.sync")
router = APIRouter(prefix="/v1/sync", tags=["sync"])

READ_ONLY = "服务热线和职改办帐号只能查看申报，不能通过同步修改；本次同步只取回了数据"
OTHER_ACCOUNT = (
    "这个本地工作区已由另一个帐号同步过，不能再用于您的帐号；"
    "请用您自己的工作区（另一个数据目录）登录后同步"
)
GAP = "服务器还没有收到第 {expected} 号修改，请从第 {expected} 号起重新发送"
STORE_FAILED = "服务器无法保存这项修改（数据不符合数据库的要求）；" + SAVED
NOT_FOUND = "找不到该申报，或您无权查看"
WRITERS = ("applicant", "unit_admin")


@router.post(
    "",
    response_model=SyncOut,
    responses={
        401: {"model": Problem},
        403: {"model": Problem},
        409: {"model": Gap},
        422: {"model": Problem},
    },
)
def sync(body: SyncIn, db: DB, c: Me) -> Any:
    """Push this client's mutations, then pull the changes after `cursor`."""
    me = c.account
    if body.muts and me.role not in WRITERS:
        raise HTTPException(403, READ_ONLY)
    acked = 0
    results: list[Result] = []
    if body.muts:
        numbers = changes.Block(db)  # the lock, before reading anything a mutation decides on
        client = _client(db, body.client, me.id, create=True)
        assert client is not None
        acked = client.acked
        expected = acked + 1
        for m in body.muts:
            if m.seq > expected:
                db.rollback()
                gap = Gap(detail=GAP.format(expected=expected), expected=expected)
                return JSONResponse(gap.model_dump(), status_code=409)
            expected = max(expected, m.seq + 1)
        acked, results = _push(db, Pusher(db, numbers, c.account, c.unit, body.client, c.address),
                                body, acked)  # fmt: skip
        client.acked = acked
        client.last_seen = utcnow()
        db.add(client)
        # Results are kept for resends of the last batches only (a client is at most one
        # lost answer behind).
        db.execute(
            delete(SyncResult).where(
                col(SyncResult.client_id) == body.client,
                col(SyncResult.seq) < acked - 2 * MUTATIONS_MAX,
            )
        )
        _audit(db, c, body, results)
        db.commit()
    else:
        client = _client(db, body.client, me.id, create=False)
        acked = client.acked if client else 0
    rows, cursor, more = pull.pull(db, me, body.client, body.cursor, body.page)
    return SyncOut(
        acked=acked,
        results=results,
        changes=rows,
        cursor=cursor,
        more=more,
        catalog=load_catalog().version,
    )


def _client(db: DB, client_id: uuid.UUID, account_id: uuid.UUID, *, create: bool) -> Any:
    client = db.get(SyncClient, client_id, populate_existing=True)
    if client is None and create:
        client = SyncClient(client_id=client_id, account_id=account_id)
        db.add(client)
        db.flush()
    if client is not None and client.account_id != account_id:
        raise HTTPException(403, OTHER_ACCOUNT)
    return client


def _push(db: DB, pusher: Pusher, body: SyncIn, acked: int) -> tuple[int, list[Result]]:
    seqs = [m.seq for m in body.muts if m.seq <= acked]
    stored = {
        r.seq: Result.model_validate(r.result)
        for r in db.scalars(
            select(SyncResult).where(
                col(SyncResult.client_id) == body.client, col(SyncResult.seq).in_(seqs)
            )
        )
    } if seqs else {}  # fmt: skip
    results: list[Result] = []
    fresh: list[Result] = []
    for m in body.muts:
        if m.seq <= acked:
            # Applied before: the same answer (pruned long ago: it was applied, nothing more).
            results.append(stored.get(m.seq) or Result(seq=m.seq, st="ok"))
            continue
        try:
            with db.begin_nested():
                result = pusher.apply(m)
            pusher.kept()
        except SQLAlchemyError as exc:  # a value the database refused: this mutation only
            log.warning("sync mutation refused by the database: %s", type(exc).__name__)
            result = Result(seq=m.seq, st="refused", msg=STORE_FAILED)
        stored[m.seq] = result
        acked = m.seq
        results.append(result)
        fresh.append(result)
    pusher.flush()
    if fresh:
        db.execute(
            insert(SyncResult),
            [
                {"client_id": body.client, "seq": r.seq,
                 "result": r.model_dump(mode="json", exclude_none=True)}
                for r in fresh
            ],
        )  # fmt: skip
    return acked, results


def _audit(db: DB, c: Me, body: SyncIn, results: list[Result]) -> None:
    """One entry per request with refused or locked mutations (field edits are not audited)."""
    by_seq = {m.seq: m for m in body.muts}
    for st in ("refused", "locked"):
        hit = [r for r in results if r.st == st]
        if not hit:
            continue
        apps = {by_seq[r.seq].app for r in hit}
        tables = Counter(by_seq[r.seq].t if SANE.match(by_seq[r.seq].t) else "?" for r in hit)
        audit(
            db,
            f"sync.{st}",
            actor=c.account,
            application_id=next(iter(apps)) if len(apps) == 1 else None,
            address=c.address,
            reason=(hit[0].msg or "")[:200],
            detail={"count": len(hit), "seqs": [r.seq for r in hit][:50],
                    "tables": dict(tables.most_common(10))},
        )  # fmt: skip


@router.get(
    "/app/{app_id}",
    responses={code: {"model": Problem} for code in (401, 403, 404, 422)},
)
def bootstrap(app_id: uuid.UUID, db: DB, c: Me) -> Snapshot:
    """Every row of one application, for a client that sees it late (the office, once it
    was forwarded): its rows carry change numbers its cursor has passed."""
    cursor = changes.current(db)
    q = access.applications(db, c.account, deleted=True).where(col(Application.id) == app_id)
    app = db.scalars(q).first()
    if app is None:
        raise HTTPException(404, NOT_FOUND)
    return Snapshot(app=app.id, changes=pull.snapshot(db, c.account, app), cursor=cursor)
