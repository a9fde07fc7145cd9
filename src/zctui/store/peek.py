"""A glance at a workspace with the standard library alone, for the first frame: whose
application and which year, read before SQLAlchemy and the catalog have loaded (they take
most of a second). Any trouble means "no glance": the full load reports it properly."""

from __future__ import annotations

import sqlite3
import uuid
from contextlib import closing
from pathlib import Path


def peek_title(path: Path, application_id: uuid.UUID | None = None) -> str | None:
    """`杨丰 · 2026年度` when the workspace opens straight into one application, else None."""
    if not path.is_file():
        return None
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.2)) as db:
            rows = db.execute(
                "SELECT a.id, a.year, p.name FROM application a "
                "LEFT JOIN person p ON p.id = a.person_id AND NOT p.deleted "
                "WHERE NOT a.deleted"
            ).fetchall()
    except sqlite3.Error:
        return None
    if application_id is not None:
        rows = [r for r in rows if r[0] == application_id.hex]
    if len(rows) != 1:
        return None  # a choice to make, or a new application: no one to name yet
    _, year, name = rows[0]
    return f"{name or '（未填姓名）'} · {year}年度"
