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
from zctui.server.models import SECTION_TABLES, Application

_CLASSES: dict[str, type[SQLModel]] = {
    "person": domain.Person,
    **domain.SINGLE_TABLES,
    **domain.LIST_TABLES,
    "attachment": domain.Attachment,
}
_APP_FIELDS = set(domain.Application.model_fields)


def load(db: Session, app: Application) -> ApplicationData:
    rows: list[SQLModel] = []
    attachments: list[domain.Attachment] = []
    for name, table in SECTION_TABLES.items():
        if name == "person":
            continue
        cls = _CLASSES[name]
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
        **{k: v for k, v in app.model_dump().items() if k in _APP_FIELDS}
    )
    return assemble(application, person, rows, attachments)


def person_for(db: Session, id_number: str, name: str) -> uuid.UUID:
    table = SECTION_TABLES["person"]
    found = db.execute(select(table.c.id).where(table.c.id_number == id_number)).scalar()
    if found is not None:
        return uuid.UUID(str(found))
    person = domain.Person(id_number=id_number, name=name)
    db.execute(insert(table).values(**person.model_dump()))
    return person.id


def put_rows(db: Session, rows: Iterable[SQLModel]) -> None:
    """Store section rows as they are (the sync issue's push will build on this)."""
    for row in rows:
        table = SECTION_TABLES[str(row.__tablename__)]
        values: dict[str, Any] = {c.name: getattr(row, c.name) for c in table.columns}
        db.execute(insert(table).values(**values))
