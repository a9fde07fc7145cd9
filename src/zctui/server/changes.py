"""Change numbers (issue 6): every server write that changes a synced row takes the next
number from the one counter row, inside its own transaction, and records it as the row's
latest change; a pull reads those records in number order.

Why a pull never skips a change that commits late: `next_change` is an UPDATE of the
counter row, so the row stays locked until the writer commits. On PostgreSQL the next
writer waits for that lock, so change N+1 cannot even be taken before change N is committed
and visible; a reader that first reads the committed counter C and then the changes up to C
sees every one of them. SQLite runs one writer at a time anyway (BEGIN IMMEDIATE).

Every writer takes a number (or `lock`s the counter) before it writes any synced row: the
counter is then the one lock all of them take first, so they cannot deadlock on rows.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlmodel import col

from zctui.server.models import SyncChange, SyncCounter


def next_change(db: Session) -> int:
    """The next change number; the counter stays locked until this transaction ends."""
    n = db.execute(
        update(SyncCounter)
        .where(col(SyncCounter.id) == 1)
        .values(n=col(SyncCounter.n) + 1)
        .returning(col(SyncCounter.n))
    ).scalar_one()
    return int(n)


def lock(db: Session) -> int:
    """Take the counter's lock without a number (a push reads rows before deciding what to
    change; holding the lock first means nobody changes them in between)."""
    q = select(col(SyncCounter.n)).where(col(SyncCounter.id) == 1).with_for_update()
    return int(db.execute(q).scalar_one())


def current(db: Session) -> int:
    """The last committed change number (read it before reading changes: see above)."""
    return int(db.execute(select(col(SyncCounter.n)).where(col(SyncCounter.id) == 1)).scalar_one())


def record_change(
    db: Session,
    table: str,
    row_id: uuid.UUID,
    app_id: uuid.UUID | None,
    n: int,
    origin: uuid.UUID | None = None,
) -> None:
    """The row's latest change is `n` (made by client `origin`, or by the server: None)."""
    values = dict(table_name=table, row_id=row_id, n=n, application_id=app_id, origin=origin)
    dialect = db.get_bind().dialect.name
    ins = (postgresql if dialect == "postgresql" else sqlite).insert(SyncChange).values(**values)
    db.execute(
        ins.on_conflict_do_update(
            index_elements=["table_name", "row_id"],
            set_={"n": n, "application_id": app_id, "origin": origin},
        )
    )
