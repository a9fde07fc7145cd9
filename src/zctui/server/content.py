"""An application's content on the server: the domain's section tables, read back as the
domain's objects so the checklist engine runs here exactly as in the TUI (DESIGN)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from zctui.domain import models as domain
from zctui.domain.aggregate import ApplicationData, assemble
from zctui.server import changes
from zctui.server.models import SECTION_TABLES, Application

# The domain class of each synced table but the application (whose server row has more).
CLASSES: dict[str, type[SQLModel]] = {
    "person": domain.Person,
    **domain.SINGLE_TABLES,
    **domain.LIST_TABLES,
    "attachment": domain.Attachment,
}
APP_FIELDS = set(domain.Application.model_fields)


def load(db: Session, app: Application) -> ApplicationData:
    rows: list[SQLModel] = []
    attachments: list[domain.Attachment] = []
    for name, table in SECTION_TABLES.items():
        if name == "person":
            continue
        cls = CLASSES[name]
        for r in db.execute(select(table).where(table.c.application_id == app.id)):
            obj = cls(**r._mapping)
            if isinstance(obj, domain.Attachment):
                attachments.append(obj)
            else:
                rows.append(obj)
    person_row = db.execute(
        select(SECTION_TABLES["person"]).where(SECTION_TABLES["person"].c.id == app.person_id)
    ).first()
    person = domain.Person(**person_row._mapping) if person_row else None
    application = domain.Application(
        **{k: v for k, v in app.model_dump().items() if k in APP_FIELDS}
    )
    return assemble(application, person, rows, attachments)


def person_for(db: Session, id_number: str, name: str) -> uuid.UUID:
    table = SECTION_TABLES["person"]
    found = db.execute(select(table.c.id).where(table.c.id_number == id_number)).scalar()
    if found is not None:
        return uuid.UUID(str(found))
    n = changes.next_change(db)
    person = domain.Person(id_number=id_number, name=name, rev=n)
    db.execute(insert(table).values(**person.model_dump()))
    changes.record_change(db, "person", person.id, None, n)
    return person.id


def put_rows(db: Session, rows: Iterable[SQLModel]) -> None:
    """Store section rows as they are, each with its change number (so a pull finds them)."""
    for row in rows:
        table = SECTION_TABLES[str(row.__tablename__)]
        values: dict[str, Any] = {c.name: getattr(row, c.name) for c in table.columns}
        values["rev"] = n = changes.next_change(db)
        db.execute(insert(table).values(**values))
        changes.record_change(db, table.name, values["id"], values.get("application_id"), n)
