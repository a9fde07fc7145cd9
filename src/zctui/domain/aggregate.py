"""An application with all its sections, as read from a store: what the checklist reads."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlmodel import SQLModel

from zctui.domain.models import (
    Application,
    Attachment,
    ListRow,
    Person,
    SectionRow,
)


@dataclass
class ApplicationData:
    application: Application
    person: Person | None = None
    singles: dict[str, SectionRow] = field(default_factory=dict)
    lists: dict[str, list[ListRow]] = field(default_factory=dict)
    attachments: list[Attachment] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._slots: dict[tuple[uuid.UUID, str], int] | None = None

    def files_changed(self) -> None:
        self._slots = None

    def rows(self, table: str) -> list[ListRow]:
        return self.lists.get(table, [])

    def single(self, table: str) -> SQLModel | None:
        if table == "application":
            return self.application
        return self.singles.get(table)

    def slot_count(self, owner_id: uuid.UUID, slot: str) -> int:
        """How many files are attached in one slot of one record."""
        if self._slots is None:
            counts: dict[tuple[uuid.UUID, str], int] = defaultdict(int)
            for a in self.attachments:
                if not a.deleted:
                    counts[(a.owner_id, a.slot)] += 1
            self._slots = dict(counts)
        return self._slots.get((owner_id, slot), 0)

    def files_in(self, owner_id: uuid.UUID, slot: str) -> list[Attachment]:
        return [
            a
            for a in self.attachments
            if a.owner_id == owner_id and a.slot == slot and not a.deleted
        ]


def assemble(
    application: Application,
    person: Person | None,
    rows: Iterable[SQLModel],
    attachments: Iterable[Attachment],
) -> ApplicationData:
    """Group live rows by table; list rows in their order (`position`)."""
    data = ApplicationData(application=application, person=person)
    for row in rows:
        if getattr(row, "deleted", False):
            continue
        table = str(row.__tablename__)
        if isinstance(row, ListRow):
            data.lists.setdefault(table, []).append(row)
        elif isinstance(row, SectionRow):
            data.singles[table] = row
    for items in data.lists.values():
        items.sort(key=lambda r: (r.position, str(r.id)))
    data.attachments = [a for a in attachments if not a.deleted]
    return data
