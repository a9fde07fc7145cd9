"""Change numbers (issue 6): every server write that changes a synced row takes the next
number from the one counter row, inside its own transaction, and records it as the row's
latest change; a pull reads those records in number order.

Why a pull never skips a change that commits late: `next_change` is an UPDATE of the
counter row, so the row stays locked until the writer commits. On PostgreSQL the next
writer waits for that lock, so change N+1 cannot even be taken before change N is committed
and visible; a reader that first reads the committed counter C and then the changes up to C
sees every one of them. SQLite runs one writer at a time anyway (BEGIN IMMEDIATE).

Every writer takes a number (or a `Block` of them) before it writes any synced row: the
counter is then the one lock all of them take first, so they cannot deadlock on rows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

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


class Block:
    """Numbers for a whole push: the counter is locked once, before anything is read (so
    nobody changes the rows a mutation decides on), numbers are counted here, and the
    counter is written once at the end. Updating the one row per mutation would leave
    PostgreSQL a longer chain of row versions to walk at every update of the request."""

    def __init__(self, db: Session) -> None:
        q = select(col(SyncCounter.n)).where(col(SyncCounter.id) == 1).with_for_update()
        self.db = db
        self.start = self.last = int(db.execute(q).scalar_one())

    def next(self) -> int:
        self.last += 1
        return self.last

    def save(self) -> None:
        """Before the commit (numbers of mutations rolled back to a savepoint stay unused)."""
        if self.last != self.start:
            self.db.execute(update(SyncCounter).where(col(SyncCounter.id) == 1).values(n=self.last))


def current(db: Session) -> int:
    """The last committed change number (read it before reading changes: see above)."""
    return int(db.execute(select(col(SyncCounter.n)).where(col(SyncCounter.id) == 1)).scalar_one())


@dataclass(frozen=True)
class Entry:
    table: str
    row_id: uuid.UUID
    app_id: uuid.UUID | None
    n: int
    origin: uuid.UUID | None = None


def record_change(
    db: Session,
    table: str,
    row_id: uuid.UUID,
    app_id: uuid.UUID | None,
    n: int,
    origin: uuid.UUID | None = None,
) -> None:
    """The row's latest change is `n` (made by client `origin`, or by the server: None)."""
    record_changes(db, [Entry(table, row_id, app_id, n, origin)])


def record_changes(db: Session, entries: list[Entry]) -> None:
    """Several rows' latest changes in one statement (one entry per row)."""
    if not entries:
        return
    dialect = db.get_bind().dialect.name
    ins = (postgresql if dialect == "postgresql" else sqlite).insert(SyncChange)
    db.execute(
        ins.on_conflict_do_update(
            index_elements=["table_name", "row_id"],
            set_={k: ins.excluded[k] for k in ("n", "application_id", "origin")},
        ),
        [
            dict(table_name=e.table, row_id=e.row_id, n=e.n, application_id=e.app_id,
                 origin=e.origin)
            for e in entries
        ],
    )  # fmt: skip
