"""The local store: every edit is one SQLite transaction that also writes its outbox row.

A field edit is `set_field(table, row_id, field, value)`: the new value and an outbox entry
(table, row id, {field: [old, new]}, base rev) are committed together with
`synchronous=FULL`, so when the call returns the edit survives a crash or a power cut, and
the sync has what it needs to send it.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, Table, insert, select, update
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from zctui.data.catalog import load_catalog
from zctui.data.forms import load_forms
from zctui.domain.aggregate import ApplicationData, assemble
from zctui.domain.models import (
    LIST_TABLES,
    SINGLE_TABLES,
    TABLES,
    Application,
    Attachment,
    ListRow,
    OutboxEntry,
    Person,
    SectionRow,
    utcnow,
)
from zctui.store.db import migrate, sqlite_engine

M = TypeVar("M", bound=SQLModel)
SYSTEM_COLUMNS = frozenset({"id", "rev", "updated_at", "deleted", "application_id", "person_id"})


class StoreError(ValueError):
    """A request the store refuses (unknown table or field, missing row); message in Chinese."""


def _table(model: type[SQLModel]) -> Table:
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


def _jsonable(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


class Store:
    def __init__(self, path: Path | str, *, engine: Engine | None = None) -> None:
        self.path = Path(path)
        self.engine = engine or sqlite_engine(self.path)
        self._local = threading.local()  # this thread's open batch, if any
        migrate(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def model(table: str | type[SQLModel]) -> type[SQLModel]:
        if isinstance(table, str):
            try:
                return TABLES[table]
            except KeyError:
                raise StoreError(f"没有名为 {table} 的数据表") from None
        return table

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        batch: Connection | None = getattr(self._local, "batch", None)
        if batch is not None:
            yield batch
            return
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Run this thread's writes in one transaction: all of them are saved, or none (one
        fsync for a burst of keystrokes instead of one per key)."""
        with self.engine.begin() as conn:
            self._local.batch = conn
            try:
                yield
            finally:
                self._local.batch = None

    @staticmethod
    def _outbox(
        conn: Connection,
        *,
        table: str,
        row_id: uuid.UUID,
        application_id: uuid.UUID | None,
        op: str,
        changes: dict[str, list[Any]],
        base_rev: int,
    ) -> None:
        conn.execute(
            insert(_table(OutboxEntry)).values(
                mutation_id=uuid.uuid4(),
                table_name=table,
                row_id=row_id,
                application_id=application_id,
                op=op,
                changes=json.dumps(
                    {k: [_jsonable(a), _jsonable(b)] for k, (a, b) in changes.items()},
                    ensure_ascii=False,
                ),
                base_rev=base_rev,
                created_at=utcnow(),
            )
        )

    def _insert(self, conn: Connection, row: SQLModel) -> None:
        table = str(row.__tablename__)
        values = row.model_dump()
        conn.execute(insert(_table(type(row))).values(**values))
        app_id = values.get("application_id") or (row.id if isinstance(row, Application) else None)
        changes = {
            k: [None, v]
            for k, v in values.items()
            if k not in ("id", "rev", "updated_at") and v is not None
        }
        self._outbox(
            conn, table=table, row_id=values["id"], application_id=app_id, op="insert",
            changes=changes, base_rev=0,
        )  # fmt: skip

    # ------------------------------------------------------------------ reads
    def get(self, table: str | type[SQLModel], row_id: uuid.UUID) -> Any:
        model = self.model(table)
        with self.engine.connect() as conn:
            found = conn.execute(select(_table(model)).where(_table(model).c.id == row_id)).first()
        return model.model_validate(found._mapping) if found else None

    def persons(self) -> list[Person]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(_table(Person)).where(_table(Person).c.deleted.is_(False)))
            return [Person.model_validate(r._mapping) for r in rows]

    def applications(self) -> list[Application]:
        t = _table(Application)
        with self.engine.connect() as conn:
            rows = conn.execute(select(t).where(t.c.deleted.is_(False)).order_by(t.c.year))
            return [Application.model_validate(r._mapping) for r in rows]

    def load(self, application_id: uuid.UUID) -> ApplicationData:
        """The whole application, live rows only, lists in order: what the checklist reads."""
        app = self.get(Application, application_id)
        if app is None:
            raise StoreError(f"找不到申报 {application_id}")
        person = self.get(Person, app.person_id)
        rows: list[SQLModel] = []
        attachments: list[Attachment] = []
        with self.engine.connect() as conn:
            models: list[type[SQLModel]] = [*SINGLE_TABLES.values(), *LIST_TABLES.values()]
            models.append(Attachment)
            for model in models:
                t = _table(model)
                q = select(t).where(t.c.application_id == application_id, t.c.deleted.is_(False))
                for r in conn.execute(q):
                    obj = model.model_validate(r._mapping)
                    if isinstance(obj, Attachment):
                        attachments.append(obj)
                    else:
                        rows.append(obj)
        return assemble(app, person, rows, attachments)

    def outbox(self, after: int = 0) -> list[OutboxEntry]:
        t = _table(OutboxEntry)
        with self.engine.connect() as conn:
            rows = conn.execute(select(t).where(t.c.seq > after).order_by(t.c.seq))
            return [OutboxEntry.model_validate(r._mapping) for r in rows]

    def referenced_blobs(self) -> set[str]:
        """The SHA-256 of every blob a live attachment row uses (what blob gc must keep)."""
        t = _table(Attachment)
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.c.sha256).where(t.c.deleted.is_(False)).distinct())
            return {r[0] for r in rows}

    # ------------------------------------------------------------------ writes
    def add(self, row: M) -> M:
        """Insert one new row (a person, an application or a section row) with its outbox entry."""
        with self._tx() as conn:
            self._insert(conn, row)
        return row

    def insert_many(self, table: str | type[SQLModel], rows: Sequence[dict[str, Any]]) -> None:
        """Insert new rows of one table, each with its outbox entry, as `add` would, in two
        executemany statements (a batch import: thousands of rows). Each dict gives `id` and
        the values; the other columns take their defaults."""
        if not rows:
            return
        model = self.model(table)
        t = _table(model)
        name = str(model.__tablename__)
        now = utcnow()
        base = {c.name: None for c in t.c} | {"rev": 0, "updated_at": now, "deleted": False}
        full = [base | values for values in rows]
        entries = []
        for values in full:
            app_id = values.get("application_id") or (
                values["id"] if name == "application" else None
            )
            changes = {
                k: [None, _jsonable(v)]
                for k, v in values.items()
                if k not in ("id", "rev", "updated_at") and v is not None
            }
            entries.append(
                {
                    "mutation_id": uuid.uuid4(), "table_name": name, "row_id": values["id"],
                    "application_id": app_id, "op": "insert", "base_rev": 0, "created_at": now,
                    "changes": json.dumps(changes, ensure_ascii=False), "push_seq": None,
                }
            )  # fmt: skip
        with self._tx() as conn:
            conn.execute(insert(t), full)
            conn.execute(insert(_table(OutboxEntry)), entries)

    def create_person(self, id_number: str, name: str = "") -> Person:
        return self.add(Person(id_number=id_number.strip().upper(), name=name))

    def create_application(self, person: Person, year: int, **settings: Any) -> Application:
        app = Application(
            person_id=person.id, year=year, catalog_version=load_catalog().version, **settings
        )
        return self.add(app)

    def add_record(self, table: str, application_id: uuid.UUID, **values: Any) -> ListRow:
        """Append a row to a list section (it goes last)."""
        model = LIST_TABLES.get(table)
        if model is None:
            raise StoreError(f"{table} 不是列表类的栏目")
        t = _table(model)
        with self._tx() as conn:
            last = conn.execute(
                select(t.c.position)
                .where(t.c.application_id == application_id, t.c.deleted.is_(False))
                .order_by(t.c.position.desc())
                .limit(1)
            ).scalar()
            row = model(application_id=application_id, position=(last or 0) + 1, **values)
            self._insert(conn, row)
        return row

    def single(self, table: str, application_id: uuid.UUID) -> SectionRow:
        """The one row of a single-row section (R3, R4, R11), made empty the first time."""
        model = SINGLE_TABLES.get(table)
        if model is None:
            raise StoreError(f"{table} 不是单行栏目")
        t = _table(model)
        with self._tx() as conn:
            found = conn.execute(
                select(t).where(t.c.application_id == application_id, t.c.deleted.is_(False))
            ).first()
            if found is not None:
                return model.model_validate(found._mapping)
            row = model(application_id=application_id)
            self._insert(conn, row)
            return row

    def set_field(
        self, table: str | type[SQLModel], row_id: uuid.UUID, field: str, value: Any
    ) -> bool:
        """Save one field edit and its outbox entry in one transaction.
        Returns False when the value was already stored (nothing written)."""
        model = self.model(table)
        t = _table(model)
        if field in SYSTEM_COLUMNS or field not in t.c:
            raise StoreError(f"{model.__tablename__} 没有可编辑的字段 {field}")
        with self._tx() as conn:
            found = conn.execute(
                select(t.c[field], t.c.rev, *self._app_col(t)).where(t.c.id == row_id)
            ).first()
            if found is None:
                raise StoreError(f"找不到要修改的记录 {row_id}")
            old, rev = found[0], found[1]
            if old == value:
                return False
            conn.execute(
                update(t).where(t.c.id == row_id).values({field: value, "updated_at": utcnow()})
            )
            self._outbox(
                conn, table=str(model.__tablename__), row_id=row_id,
                application_id=found[2] if len(found) > 2 else row_id, op="update",
                changes={field: [old, value]}, base_rev=rev,
            )  # fmt: skip
        return True

    @staticmethod
    def _app_col(t: Table) -> Sequence[Any]:
        return [t.c.application_id] if "application_id" in t.c else []

    def delete(self, table: str | type[SQLModel], row_id: uuid.UUID) -> None:
        """Tombstone a row (kept for sync; never shown again). Its attachments go with it."""
        model = self.model(table)
        t = _table(model)
        with self._tx() as conn:
            found = conn.execute(select(t.c.rev, *self._app_col(t)).where(t.c.id == row_id)).first()
            if found is None:
                raise StoreError(f"找不到要删除的记录 {row_id}")
            conn.execute(
                update(t).where(t.c.id == row_id).values(deleted=True, updated_at=utcnow())
            )
            app_id = found[1] if len(found) > 1 else row_id
            self._outbox(
                conn, table=str(model.__tablename__), row_id=row_id, application_id=app_id,
                op="delete", changes={"deleted": [False, True]}, base_rev=found[0],
            )  # fmt: skip
            a = _table(Attachment)
            owned = conn.execute(
                select(a.c.id, a.c.rev).where(a.c.owner_id == row_id, a.c.deleted.is_(False))
            ).all()
            for att_id, att_rev in owned:
                conn.execute(
                    update(a).where(a.c.id == att_id).values(deleted=True, updated_at=utcnow())
                )
                self._outbox(
                    conn, table="attachment", row_id=att_id, application_id=app_id, op="delete",
                    changes={"deleted": [False, True]}, base_rev=att_rev,
                )  # fmt: skip

    def move(self, table: str, row_id: uuid.UUID, offset: int) -> None:
        """Move a list row up (-1) or down (+1): order matters (R7.2, R9.1, R10.1)."""
        model = LIST_TABLES.get(table) or (Attachment if table == "attachment" else None)
        if model is None:
            raise StoreError(f"{table} 不是列表类的栏目")
        t = _table(model)
        with self._tx() as conn:
            me = conn.execute(select(t.c.application_id).where(t.c.id == row_id)).first()
            if me is None:
                raise StoreError(f"找不到要移动的记录 {row_id}")
            ids = list(
                conn.execute(
                    select(t.c.id, t.c.position, t.c.rev)
                    .where(t.c.application_id == me[0], t.c.deleted.is_(False))
                    .order_by(t.c.position, t.c.id)
                )
            )
            order = [r[0] for r in ids]
            i = order.index(row_id)
            j = max(0, min(len(order) - 1, i + offset))
            if i == j:
                return
            order.insert(j, order.pop(i))
            old = {r[0]: (r[1], r[2]) for r in ids}
            for pos, rid in enumerate(order, start=1):
                if old[rid][0] != pos:
                    conn.execute(
                        update(t).where(t.c.id == rid).values(position=pos, updated_at=utcnow())
                    )
                    self._outbox(
                        conn, table=table, row_id=rid, application_id=me[0], op="update",
                        changes={"position": [old[rid][0], pos]}, base_rev=old[rid][1],
                    )  # fmt: skip

    def attach(
        self,
        *,
        application_id: uuid.UUID,
        owner_table: str,
        owner_id: uuid.UUID,
        slot: str,
        sha256: str,
        original_name: str,
        size: int,
        pages: int | None = None,
        media_type: str | None = None,
    ) -> Attachment:
        """Record a file (already in the blob store) in a slot of a record."""
        row = Attachment(
            application_id=application_id, owner_table=owner_table, owner_id=owner_id, slot=slot,
            sha256=sha256, original_name=original_name, size=size, pages=pages,
            media_type=media_type,
        )  # fmt: skip
        with self._tx() as conn:
            self._insert(conn, row)
        return row

    # ------------------------------------------------------------------ years
    def start_next_year(self, application_id: uuid.UUID, year: int) -> Application:
        """A new application for the same person and `year`, with the reusable records
        (education, certificates, papers … as marked in forms.yaml) and their files copied."""
        data = self.load(application_id)
        forms = load_forms()
        reusable = {s.table for s in forms.sections if s.reusable}
        src = data.application
        settings = {
            k: getattr(src, k)
            for k in (
                "unit_name",
                "city",
                "category",
                "series",
                "specialty",
                "method",
                "review_mode",
            )
        }
        new_app = Application(
            person_id=src.person_id, year=year, catalog_version=src.catalog_version, **settings
        )
        copies: list[SQLModel] = []
        id_map: dict[uuid.UUID, uuid.UUID] = {}
        rows: Iterable[SectionRow] = [
            *(r for t, r in data.singles.items() if t in reusable),
            *(r for t, rs in data.lists.items() if t in reusable for r in rs),
        ]
        for row in rows:
            values = row.model_dump(exclude={"id", "rev", "updated_at", "application_id"})
            clone = type(row)(application_id=new_app.id, **values)
            id_map[row.id] = clone.id
            copies.append(clone)
        for att in data.attachments:
            if att.owner_id in id_map:
                values = att.model_dump(
                    exclude={"id", "rev", "updated_at", "application_id", "owner_id"}
                )
                copies.append(
                    Attachment(application_id=new_app.id, owner_id=id_map[att.owner_id], **values)
                )
        with self._tx() as conn:
            self._insert(conn, new_app)
            for copy in copies:
                self._insert(conn, copy)
        return new_app
