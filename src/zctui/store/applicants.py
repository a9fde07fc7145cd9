"""The unit's applicants as table rows: one query for all applications (or the few a sync
changed), and whole applications loaded in batches for the checklist engine.

A unit admin's workspace holds thousands of applications; asking per application (the
person, the name, the last change) would be thousands of round trips."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, Table, func, select, union_all
from sqlmodel import SQLModel

from zctui.domain.models import (
    LIST_TABLES,
    SINGLE_TABLES,
    Application,
    Attachment,
    BasicInfo,
    Person,
)
from zctui.store.repository import Store

CHUNK = 500  # ids per IN (…): well under SQLite's variable limit


@dataclass(frozen=True)
class ApplicantRow:
    """What the applicants table shows of one application (codes, not labels yet)."""

    application_id: uuid.UUID
    person_id: uuid.UUID
    name: str  # 基本信息's name, else the account's
    id_number: str
    year: int
    unit_name: str | None
    city: str | None
    series: str | None
    title: str | None
    state: str
    last_change: datetime  # the newest updated_at of the application and all its rows


def _t(model: type[SQLModel]) -> Table:
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


def _as_time(value: Any) -> datetime:
    """SQLite hands MAX() over a UNION back as the stored text."""
    if isinstance(value, datetime):
        found = value
    elif isinstance(value, str):
        found = datetime.fromisoformat(value)
    else:
        return datetime.min.replace(tzinfo=UTC)
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def _chunks(ids: Iterable[uuid.UUID]) -> Iterable[list[uuid.UUID]]:
    batch: list[uuid.UUID] = []
    for i in ids:
        batch.append(i)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _section_models() -> list[type[SQLModel]]:
    return [*SINGLE_TABLES.values(), *LIST_TABLES.values(), Attachment]


def applicant_rows(store: Store, ids: Collection[uuid.UUID] | None = None) -> list[ApplicantRow]:
    """Every live application with its person, name and last change, in one query (with
    `ids`: only those, a query per 500)."""
    if ids is not None and not ids:
        return []
    if ids is not None and len(ids) > CHUNK:
        return [r for batch in _chunks(ids) for r in applicant_rows(store, batch)]
    a, p, b = _t(Application), _t(Person), _t(BasicInfo)
    keyed = [(_t(m), _t(m).c.application_id) for m in _section_models()]
    keyed.append((a, a.c.id))
    touched: list[Select[Any]] = []
    for t, key in keyed:
        part = select(key.label("aid"), t.c.updated_at.label("at"))
        touched.append(part if ids is None else part.where(key.in_(list(ids))))
    changes = union_all(*touched).subquery("changes")
    last = (
        select(changes.c.aid, func.max(changes.c.at).label("last_change"))
        .group_by(changes.c.aid)
        .subquery("last")
    )
    q: Select[Any] = (
        select(
            a.c.id,
            a.c.person_id,
            b.c.name.label("info_name"),
            p.c.name,
            p.c.id_number,
            a.c.year,
            a.c.unit_name,
            a.c.city,
            a.c.series,
            a.c.title,
            a.c.state,
            last.c.last_change,
        )
        .join(p, p.c.id == a.c.person_id)
        .outerjoin(b, (b.c.application_id == a.c.id) & b.c.deleted.is_(False))
        .outerjoin(last, last.c.aid == a.c.id)
        .where(a.c.deleted.is_(False))
    )
    if ids is not None:
        q = q.where(a.c.id.in_(list(ids)))
    with store.engine.connect() as conn:
        return [
            ApplicantRow(
                application_id=r.id,
                person_id=r.person_id,
                name=(r.info_name or r.name or "").strip(),
                id_number=r.id_number,
                year=r.year,
                unit_name=r.unit_name,
                city=r.city,
                series=r.series,
                title=r.title,
                state=r.state,
                last_change=_as_time(r.last_change),
            )
            for r in conn.execute(q)
        ]


def find_person(store: Store, id_number: str) -> Person | None:
    """The person with this ID number, if the workspace has them (the account, R1.1)."""
    p = _t(Person)
    with store.engine.connect() as conn:
        found = conn.execute(
            select(p).where(p.c.id_number == id_number.strip().upper(), p.c.deleted.is_(False))
        ).first()
    return Person.model_validate(found._mapping) if found else None


def has_application(store: Store, person_id: uuid.UUID, year: int) -> bool:
    """One application per person per year."""
    a = _t(Application)
    q = select(a.c.id).where(a.c.person_id == person_id, a.c.year == year)
    with store.engine.connect() as conn:
        return conn.execute(q.where(a.c.deleted.is_(False))).first() is not None
