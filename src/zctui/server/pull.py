"""Pull (issue 6): the rows changed after a client's cursor that the caller may see, and
the bootstrap of one application, as `Change`s (the protocol is domain/sync.py).

What a caller sees is `access.applications` (tombstones too: a deleted row must reach the
clients that hold it): those applications, their section and attachment rows, and the
person rows they name. The helpdesk reads ID numbers and mobiles masked, as everywhere.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Table, and_, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from zctui.domain import models as domain
from zctui.domain.masking import mask_id, mask_phone
from zctui.domain.sync import Change
from zctui.server import access, changes
from zctui.server.models import SECTION_TABLES, Account, Application, SyncChange
from zctui.server.mutations import APPLICATION, TABLES, jsonable

# What a client's `application` row is: the domain's columns (with the state), not the
# server's ownership and workflow columns.
APP_COLUMNS = [APPLICATION.c[name] for name in domain.Application.model_fields]
_MASKED = {
    ("person", "id_number"): mask_id,
    ("basic_info", "id_number"): mask_id,
    ("basic_info", "mobile"): mask_phone,
}


def pull(
    db: Session, account: Account, client: uuid.UUID, cursor: int, page: int
) -> tuple[list[Change], int, bool]:
    """(changes, next cursor, more). The counter is read before the changes: every change
    numbered up to it has committed (changes.py), so nothing below the new cursor is
    missed. Rows this client made (`origin`) are skipped in the query itself, so a page is
    never only echoes; they still advance the cursor: a short page ends at the counter."""
    top = changes.current(db)
    cursor = min(cursor, top)  # a cursor from elsewhere (a restored server) starts over here
    apps = access.applications(db, account, deleted=True)
    visible = or_(
        col(SyncChange.application_id).in_(apps.with_only_columns(col(Application.id))),
        and_(
            col(SyncChange.table_name) == "person",
            col(SyncChange.row_id).in_(apps.with_only_columns(col(Application.person_id))),
        ),
    )
    q = (
        select(col(SyncChange.table_name), col(SyncChange.row_id), col(SyncChange.n))
        .where(
            col(SyncChange.n) > cursor,
            col(SyncChange.n) <= top,
            visible,
            or_(col(SyncChange.origin).is_(None), col(SyncChange.origin) != client),
        )
        .order_by(col(SyncChange.n))
        .limit(page)
    )
    found = db.execute(q).all()
    more = len(found) == page
    rows = _load(db, [(t, r) for t, r, _ in found], masked=account.role == "helpdesk")
    out = [rows[(t, r)] for t, r, _ in found if (t, r) in rows]
    return out, (found[-1][2] if more else top), more


def snapshot(db: Session, account: Account, app: Application) -> list[Change]:
    """Every row of one application: its person, itself, its sections and attachments."""
    masked = account.role == "helpdesk"
    out = [_change("person", r, masked) for r in _select(db, "person", [app.person_id])]
    out += [_change("application", r, masked) for r in _select(db, "application", [app.id])]
    for name, table in SECTION_TABLES.items():
        if name == "person":
            continue
        q = select(table).where(table.c.application_id == app.id).order_by(table.c.rev)
        out += [_change(name, r._mapping, masked) for r in db.execute(q)]
    return out


def _select(db: Session, t: str, ids: Iterable[uuid.UUID]) -> list[Mapping[Any, Any]]:
    table: Table = TABLES[t]
    cols = APP_COLUMNS if t == "application" else list(table.c)
    return [r._mapping for r in db.execute(select(*cols).where(table.c.id.in_(list(ids))))]


def _load(
    db: Session, keys: list[tuple[str, uuid.UUID]], *, masked: bool
) -> dict[tuple[str, uuid.UUID], Change]:
    """The current values of the rows, one query per table."""
    by_table: dict[str, list[uuid.UUID]] = {}
    for t, row_id in keys:
        by_table.setdefault(t, []).append(row_id)
    out: dict[tuple[str, uuid.UUID], Change] = {}
    for t, ids in by_table.items():
        if t not in TABLES:
            continue
        for r in _select(db, t, ids):
            out[(t, r["id"])] = _change(t, r, masked)
    return out


def _change(t: str, row: Mapping[Any, Any], masked: bool) -> Change:
    values = {k: jsonable(v) for k, v in row.items()}
    if masked:
        for (table, name), mask in _MASKED.items():
            if table == t and name in values:
                values[name] = mask(values[name])
    return Change(t=t, rev=int(row["rev"]), row=values)
