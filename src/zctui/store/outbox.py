"""The store's side of sync: outbox entries folded into numbered mutations, and the
server's answer applied to the local rows without making new outbox entries.

Numbering happens once, before the first send (`prepare`): every entry not yet numbered
is folded per row (an insert and the edits after it become one insert with the last
values; a row inserted and deleted before any sync costs nothing) and the folds get the
next mutation numbers. Entries once numbered never change, so a resend after a lost
answer sends exactly the same mutations, which the server answers from its record.

Edits made while a sync is under way are not yet numbered: a pulled row never overwrites
the fields they touch (they are pushed next time and merged on the server).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, delete, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from zctui.domain.models import (
    TABLES,
    Application,
    OutboxEntry,
    Person,
    SyncIssue,
    SyncState,
    column_adapter,
    utcnow,
)
from zctui.domain.sync import Change, Mutation, Result, SyncOut
from zctui.store.repository import Store

ISSUE_KINDS = ("conflict", "locked", "refused")


def _t(model: type[SQLModel]) -> Table:
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


OUTBOX, STATE, ISSUE = _t(OutboxEntry), _t(SyncState), _t(SyncIssue)


@dataclass
class Applied:
    """What one answer did to the workspace, for the report and the screens."""

    pushed: int = 0
    pulled: int = 0
    issues: list[SyncIssue] = field(default_factory=list)
    applications: set[uuid.UUID] = field(default_factory=set)  # whose rows changed here


# ---------------------------------------------------------------------- state
def state(store: Store) -> SyncState:
    """The workspace's sync state, made (with a new client id) on first use."""
    with store.engine.begin() as conn:
        return _state(conn)


def _state(conn: Connection) -> SyncState:
    found = conn.execute(select(STATE).where(STATE.c.id == 1)).first()
    if found is None:
        fresh = SyncState()
        conn.execute(insert(STATE).values(**fresh.model_dump()))
        return fresh
    return SyncState.model_validate(found._mapping)


def pending_count(store: Store) -> int:
    """Edits not yet applied by the server (numbered or not)."""
    with store.engine.connect() as conn:
        st = conn.execute(select(STATE.c.acked).where(STATE.c.id == 1)).scalar() or 0
        q = select(OUTBOX.c.seq).where(or_(OUTBOX.c.push_seq.is_(None), OUTBOX.c.push_seq > st))
        return len(conn.execute(q).all())


# ---------------------------------------------------------------------- push
def prepare(store: Store) -> int:
    """Number the outbox entries not yet numbered; returns how many mutations that made."""
    made = 0
    with store.engine.begin() as conn:
        st = _state(conn)
        entries = [
            OutboxEntry.model_validate(r._mapping)
            for r in conn.execute(
                select(OUTBOX).where(OUTBOX.c.push_seq.is_(None)).order_by(OUTBOX.c.seq)
            )
        ]
        groups: dict[tuple[str, uuid.UUID, bool], list[OutboxEntry]] = {}
        for e in entries:
            groups.setdefault((e.table_name, e.row_id, _is_transition(e)), []).append(e)
        number = st.next_push
        for group in groups.values():
            seqs = [e.seq for e in group]
            if fold(group) is None:
                conn.execute(update(OUTBOX).where(OUTBOX.c.seq.in_(seqs)).values(push_seq=0))
                continue
            conn.execute(update(OUTBOX).where(OUTBOX.c.seq.in_(seqs)).values(push_seq=number))
            number += 1
            made += 1
        conn.execute(update(STATE).where(STATE.c.id == 1).values(next_push=number))
    return made


def _is_transition(e: OutboxEntry) -> bool:
    """提交 and 撤回 are workflow actions on the server (R12): never folded into other edits
    of the application, so each reaches the server as the step the user took."""
    return e.table_name == "application" and e.op == "update" and "state" in json.loads(e.changes)


def fold(entries: Sequence[OutboxEntry]) -> dict[str, Any] | None:
    """One row's entries as one mutation's op/changes/base, or None when they cancel out."""
    first = entries[0]
    ops = [e.op for e in entries]
    if "delete" in ops:
        if first.op == "insert":
            return None  # made and removed between two syncs: the server never hears of it
        return {"op": "delete", "ch": {"deleted": [False, True]}, "base": first.base_rev}
    changes: dict[str, list[Any]] = {}
    for e in entries:
        for name, (old, new) in json.loads(e.changes).items():
            if name in changes:
                changes[name][1] = new
            else:
                changes[name] = [old, new]
    if first.op == "insert":
        ch = {k: [None, v[1]] for k, v in changes.items() if v[1] is not None}
        return {"op": "insert", "ch": ch, "base": 0}
    ch = {k: v for k, v in changes.items() if v[0] != v[1]}
    if not ch:
        return None  # typed and typed back
    return {"op": "update", "ch": ch, "base": first.base_rev}


def pending(store: Store, after: int, limit: int) -> list[Mutation]:
    """The numbered mutations after `after`, at most `limit` of them, in order."""
    with store.engine.connect() as conn:
        numbers = [
            n
            for (n,) in conn.execute(
                select(OUTBOX.c.push_seq)
                .where(OUTBOX.c.push_seq > after)
                .group_by(OUTBOX.c.push_seq)
                .order_by(OUTBOX.c.push_seq)
                .limit(limit)
            )
        ]
        if not numbers:
            return []
        rows = conn.execute(
            select(OUTBOX)
            .where(OUTBOX.c.push_seq.in_(numbers))
            .order_by(OUTBOX.c.push_seq, OUTBOX.c.seq)
        )
        groups: dict[int, list[OutboxEntry]] = {}
        for r in rows:
            e = OutboxEntry.model_validate(r._mapping)
            groups.setdefault(e.push_seq or 0, []).append(e)
    out = []
    for number, group in groups.items():
        folded = fold(group)
        assert folded is not None  # folds to nothing were numbered 0 by prepare
        first = group[0]
        out.append(
            Mutation(
                seq=number,
                t=first.table_name,
                row=first.row_id,
                # an update or delete names a row the server has: it knows the application
                app=first.application_id if folded["op"] == "insert" else None,
                **folded,
            )
        )
    return out


def blob_hashes(mutations: Iterable[Mutation]) -> set[str]:
    """The files these mutations attach: the server must have them first."""
    return {
        str(m.ch["sha256"][1])
        for m in mutations
        if m.t == "attachment" and m.op == "insert" and "sha256" in m.ch
    }


# ---------------------------------------------------------------------- the answer
def apply(store: Store, sent: Sequence[Mutation], out: SyncOut) -> Applied:
    """Store the server's answer in one transaction: the results of what was sent, the
    acknowledged entries dropped, the pulled rows, the new cursor."""
    applied = Applied()
    by_seq = {m.seq: m for m in sent}
    with store.engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")  # a page is ordered by change
        for result in out.results:
            m = by_seq.get(result.seq)
            if m is None:
                continue
            applied.pushed += 1
            issue = _result(conn, m, result)
            if issue is not None:
                applied.issues.append(issue)
                if issue.application_id is not None:
                    applied.applications.add(issue.application_id)
        conn.execute(
            delete(OUTBOX).where(
                or_(OUTBOX.c.push_seq == 0, OUTBOX.c.push_seq.between(1, out.acked))
            )
        )
        for change in out.changes:
            app_id = _pulled(conn, change, out.acked)
            applied.pulled += 1
            if app_id is not None:
                applied.applications.add(app_id)
        conn.execute(
            update(STATE)
            .where(STATE.c.id == 1)
            .values(
                acked=out.acked,
                cursor=max(out.cursor, 0),
                catalog_version=out.catalog,
                synced_at=utcnow(),
            )
        )
    return applied


def _result(conn: Connection, m: Mutation, result: Result) -> SyncIssue | None:
    model = TABLES.get(m.t)
    if model is None:
        return None
    t = _t(model)
    if result.st in ("ok", "merged"):
        alias = result.alias
        if alias is not None and m.t == "person" and alias != m.row:
            _adopt_person(conn, m.row, uuid.UUID(str(alias)))
            return None
        if result.rev is not None:
            conn.execute(
                update(t).where(t.c.id == m.row, t.c.rev < result.rev).values(rev=result.rev)
            )
        return None
    mine = {k: v[1] for k, v in m.ch.items()}
    if result.st == "conflict" and result.theirs and m.op == "update":
        # Fields that did not clash were applied; the issue is about the ones that did.
        mine = {k: v for k, v in mine.items() if k in result.theirs} or mine
    issue = SyncIssue(
        kind=result.st,
        push_seq=m.seq,
        table_name=m.t,
        row_id=m.row,
        application_id=_application_of(conn, m, t),
        op=m.op,
        mine=json.dumps(mine, ensure_ascii=False),
        theirs=json.dumps(result.theirs, ensure_ascii=False) if result.theirs else None,
        message=result.msg or _DEFAULT_MESSAGE[result.st],
    )
    made = conn.execute(insert(ISSUE).values(**issue.model_dump(exclude={"id"})))
    issue.id = made.inserted_primary_key[0] if made.inserted_primary_key else None
    # The row shows what the server holds; what the user typed is kept in the issue.
    busy = _busy_fields(conn, m.row, after=m.seq)
    if result.st == "conflict" and result.theirs:
        values = {k: v for k, v in result.theirs.items() if k in t.c and k not in busy}
        if result.rev is not None:  # the fields that did not clash were applied
            values["rev"] = result.rev
    elif m.op == "insert":
        values = {"deleted": True}
    elif m.op == "delete":
        values = {"deleted": False}
    else:
        values = {k: v[0] for k, v in m.ch.items() if k in t.c and k not in busy}
    if values:
        conn.execute(update(t).where(t.c.id == m.row).values(**_coerce(model, values)))
    return issue


def _application_of(conn: Connection, m: Mutation, t: Table) -> uuid.UUID | None:
    """The application a mutation's row belongs to (updates do not carry it on the wire)."""
    if m.app is not None or m.t == "application":
        return m.app or m.row
    if "application_id" not in t.c:
        return None  # a person
    found = conn.execute(select(t.c.application_id).where(t.c.id == m.row)).scalar()
    return found if isinstance(found, uuid.UUID) else None


_DEFAULT_MESSAGE = {
    "conflict": "这一项在服务器上已被他人修改，与您的修改冲突，请选择保留哪一个",
    "locked": "申报已被单位打开审核，不能再修改（R12.2）；您的修改已保留",
    "refused": "服务器没有接受这项修改",
}


def _busy_fields(conn: Connection, row_id: uuid.UUID, *, after: int) -> set[str]:
    """Fields of the row with local edits the server has not seen yet: not to overwrite."""
    q = select(OUTBOX.c.changes).where(
        OUTBOX.c.row_id == row_id, or_(OUTBOX.c.push_seq.is_(None), OUTBOX.c.push_seq > after)
    )
    busy: set[str] = set()
    for (changes,) in conn.execute(q):
        busy.update(json.loads(changes))
    return busy


def _coerce(model: type[SQLModel], values: dict[str, Any]) -> dict[str, Any]:
    """JSON values as the columns want them (UUIDs, times), checked by the model."""
    return {
        k: column_adapter(model, k).validate_python(v)
        if k in model.model_fields and v is not None
        else v
        for k, v in values.items()
    }


def _pulled(conn: Connection, change: Change, acked: int) -> uuid.UUID | None:
    model = TABLES.get(change.t)
    if model is None:
        return None  # a table this version does not know: newer server, ignore
    t = _t(model)
    row = {k: v for k, v in change.row.items() if k in t.c}
    row["rev"] = change.rev
    values = _coerce(model, row)
    row_id = values["id"]
    if model is Person:
        local = conn.execute(
            select(t.c.id).where(t.c.id_number == values.get("id_number"), t.c.id != row_id)
        ).scalar()
        if local is not None:
            _adopt_person(conn, local, row_id)
    exists = conn.execute(select(t.c.id).where(t.c.id == row_id)).first() is not None
    if exists:
        busy = _busy_fields(conn, row_id, after=acked)
        keep = {k: v for k, v in values.items() if k not in busy and k != "id"}
        conn.execute(update(t).where(t.c.id == row_id).values(**keep))
    else:
        if model is Application:
            clash = conn.execute(
                select(t.c.id).where(
                    t.c.person_id == values.get("person_id"), t.c.year == values.get("year")
                )
            ).first()
            if clash is not None:
                return None  # the local one was refused at push; its issue says so
        full = model.model_validate(values).model_dump()
        conn.execute(insert(t).values(**full))
    app_id = values.get("application_id") or (row_id if model is Application else None)
    return app_id if isinstance(app_id, uuid.UUID) else None


def _adopt_person(conn: Connection, local: uuid.UUID, server: uuid.UUID) -> None:
    """The server knows this person (by ID number) under another id: take the server's id,
    so the applications of both sides name the same person."""
    if local == server:
        return
    p, a = _t(Person), _t(Application)
    found = conn.execute(select(p).where(p.c.id == local)).first()
    if found is None:
        return
    if conn.execute(select(p.c.id).where(p.c.id == server)).first() is None:
        conn.execute(update(p).where(p.c.id == local).values(id_number=f"~{local}"))
        values = dict(found._mapping)
        values["id"] = server
        conn.execute(insert(p).values(**values))
    conn.execute(update(a).where(a.c.person_id == local).values(person_id=server))
    conn.execute(update(OUTBOX).where(OUTBOX.c.row_id == local).values(push_seq=0))
    conn.execute(delete(p).where(p.c.id == local))


# ---------------------------------------------------------------------- issues
def open_issues(store: Store, application_id: uuid.UUID | None = None) -> list[SyncIssue]:
    q = select(ISSUE).where(ISSUE.c.settled_at.is_(None))
    if application_id is not None:
        q = q.where(ISSUE.c.application_id == application_id)
    with store.engine.connect() as conn:
        return [SyncIssue.model_validate(r._mapping) for r in conn.execute(q.order_by(ISSUE.c.id))]


def settle(store: Store, issue_id: int) -> None:
    """The user has seen it (kept theirs, or typed theirs again as a new edit)."""
    with store.engine.begin() as conn:
        conn.execute(update(ISSUE).where(ISSUE.c.id == issue_id).values(settled_at=utcnow()))
