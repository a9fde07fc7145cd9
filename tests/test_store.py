"""The local store: durability settings, one transaction per edit with its outbox row,
tombstones, order, next year's application, and migrations on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from zctui.domain.models import Application, Paper
from zctui.store.db import HEAD, current_revision, head_revision, migrate, sqlite_engine
from zctui.store.repository import Store, StoreError


def _app(store: Store) -> Application:
    person = store.create_person("130902198010100011", "杨丰")
    return store.create_application(person, 2026, series="230.zy")


def test_pragmas_wal_full_sync_foreign_keys(store: Store) -> None:
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_field_edit_writes_row_and_outbox_together(store: Store) -> None:
    app = _app(store)
    basic = store.single("basic_info", app.id)
    before = len(store.outbox())
    assert store.set_field("basic_info", basic.id, "name", "杨丰")
    assert store.get("basic_info", basic.id).name == "杨丰"
    entries = store.outbox()[before:]
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.table_name, entry.row_id, entry.op) == ("basic_info", basic.id, "update")
    assert json.loads(entry.changes) == {"name": [None, "杨丰"]}
    assert entry.application_id == app.id
    assert entry.base_rev == 0


def test_unchanged_value_writes_nothing(store: Store) -> None:
    app = _app(store)
    basic = store.single("basic_info", app.id)
    store.set_field("basic_info", basic.id, "mobile", "13812345678")
    n = len(store.outbox())
    assert not store.set_field("basic_info", basic.id, "mobile", "13812345678")
    assert len(store.outbox()) == n


def test_invalid_text_is_kept_not_refused(store: Store) -> None:
    """Nothing typed is lost: an ID number with a wrong check digit is still saved."""
    app = _app(store)
    basic = store.single("basic_info", app.id)
    store.set_field("basic_info", basic.id, "id_number", "13090219891010001X")
    assert store.get("basic_info", basic.id).id_number == "13090219891010001X"


def test_system_columns_and_unknown_fields_refused(store: Store) -> None:
    app = _app(store)
    basic = store.single("basic_info", app.id)
    for field in ("id", "rev", "application_id", "no_such_field"):
        with pytest.raises(StoreError, match="字段"):
            store.set_field("basic_info", basic.id, field, "x")


def test_single_row_section_made_once(store: Store) -> None:
    app = _app(store)
    a = store.single("current_status", app.id)
    b = store.single("current_status", app.id)
    assert a.id == b.id


def test_r10_1_papers_keep_their_order_and_move(store: Store) -> None:
    """R10.1 "按质量高低依次填报": order is stored and can be changed."""
    app = _app(store)
    ids = [store.add_record("paper", app.id, title=f"论文{i}").id for i in range(3)]
    store.move("paper", ids[2], -1)
    titles = [p.title for p in store.load(app.id).rows("paper")]  # type: ignore[attr-defined]
    assert titles == ["论文0", "论文2", "论文1"]
    store.move("paper", ids[0], -1)  # already first: nothing changes
    assert [p.title for p in store.load(app.id).rows("paper")] == ["论文0", "论文2", "论文1"]  # type: ignore[attr-defined]


def test_delete_is_a_tombstone_and_takes_its_files(store: Store) -> None:
    app = _app(store)
    paper = store.add_record("paper", app.id, title="论文")
    store.attach(
        application_id=app.id, owner_table="paper", owner_id=paper.id, slot="cover",
        sha256="a" * 64, original_name="cover.pdf", size=10,
    )  # fmt: skip
    store.delete("paper", paper.id)
    data = store.load(app.id)
    assert data.rows("paper") == []
    assert data.attachments == []
    row = store.get(Paper, paper.id)
    assert row is not None and row.deleted  # kept for sync
    ops = [(e.table_name, e.op) for e in store.outbox()[-2:]]
    assert ops == [("paper", "delete"), ("attachment", "delete")]


def test_next_year_copies_reusable_records_and_files(store: Store) -> None:
    app = _app(store)
    paper = store.add_record("paper", app.id, title="中医外科临床研究")
    store.attach(
        application_id=app.id, owner_table="paper", owner_id=paper.id, slot="cover",
        sha256="b" * 64, original_name="cover.pdf", size=10,
    )  # fmt: skip
    store.add_record("annual_appraisal", app.id, year="2025", grade="hg")
    status = store.single("current_status", app.id)
    store.set_field("current_status", status.id, "archive_unit", "人才中心")
    nxt = store.start_next_year(app.id, 2027)
    data = store.load(nxt.id)
    assert nxt.year == 2027 and nxt.person_id == app.person_id and nxt.series == "230.zy"
    [copy] = data.rows("paper")
    assert copy.title == "中医外科临床研究" and copy.id != paper.id  # type: ignore[attr-defined]
    assert data.slot_count(copy.id, "cover") == 1
    assert len(data.rows("annual_appraisal")) == 1
    assert "current_status" not in data.singles  # this year's situation is entered anew
    assert len(store.load(app.id).rows("paper")) == 1  # the old year is untouched


def test_one_application_per_person_and_year(store: Store) -> None:
    app = _app(store)
    person = store.persons()[0]
    with pytest.raises(Exception, match="UNIQUE"):
        store.create_application(person, app.year)


def test_file_from_first_version_opens_in_newer(tmp_path: Path) -> None:
    """A user's file made by an older zctui (schema 0001) is migrated at open, data kept."""
    path = tmp_path / "old.sqlite3"
    engine = sqlite_engine(path)
    migrate(engine, "0001")
    assert current_revision(engine) == "0001"
    engine.dispose()
    with sqlite3.connect(path) as raw:
        raw.execute(
            "INSERT INTO person (id, rev, updated_at, deleted, id_number, name) VALUES "
            "('00000000000000000000000000000001', 0, '2025-01-01', 0, '130902198010100011', '杨丰')"
        )
        raw.execute(
            "INSERT INTO application (id, rev, updated_at, deleted, person_id, year, state) "
            "VALUES ('00000000000000000000000000000002', 0, '2025-01-01', 0, "
            "'00000000000000000000000000000001', 2025, 'draft')"
        )
    with Store(path) as store:
        assert current_revision(store.engine) == head_revision()
        [app] = store.applications()
        assert app.year == 2025 and app.catalog_version is None
        assert store.persons()[0].name == "杨丰"


def test_head_constant_is_the_newest_migration() -> None:
    """Opening a file at the newest schema skips Alembic; HEAD must name that schema."""
    assert head_revision() == HEAD


def _no_drift(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def test_migrations_match_models_sqlite(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "m.sqlite3")
    migrate(engine)
    _no_drift(engine)


@pytest.mark.postgres
def test_migrations_and_edits_on_postgresql(pg_engine: Engine) -> None:
    """The same migrations and the same edit path on PostgreSQL (the server's database)."""
    store = Store(":memory:", engine=pg_engine)
    _no_drift(pg_engine)
    assert "outbox" in inspect(pg_engine).get_table_names()
    app = _app(store)
    paper = store.add_record("paper", app.id, title="论文")
    store.set_field("paper", paper.id, "journal", "中医杂志")
    store.delete("paper", paper.id)
    assert [e.op for e in store.outbox() if e.table_name == "paper"] == [
        "insert",
        "update",
        "delete",
    ]
    nxt = store.start_next_year(app.id, 2027)
    assert store.load(nxt.id).application.year == 2027
