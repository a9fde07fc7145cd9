"""The engine (SQLite by default, PostgreSQL through psycopg 3), migrations, and the
per-request session dependency."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import Request
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlmodel import Session

from zctui.store.db import sqlite_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # WAL, synchronous=FULL, foreign keys and BEGIN IMMEDIATE, as the local store.
        return sqlite_engine(Path(parsed.database or "server.sqlite3"))
    if parsed.drivername == "postgresql":  # psycopg 3, not the psycopg2 SQLAlchemy assumes
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, pool_size=20, max_overflow=20, pool_pre_ping=True)


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """One set of migrations for SQLite and PostgreSQL."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def get_session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield session
