"""The engine (SQLite by default, PostgreSQL through psycopg 3), migrations, and the
per-request session dependency.

The hottest reads (who the caller is, one application, the public lists) do not use this
session at all: they run in the event loop (reads.py). For every other request, a request
costs as few round trips and thread hops as its semantics allow:
- A worker lets at most `db_pool_size` requests use the database at once (an asyncio gate
  before the session is made). The others wait in the event loop, holding neither a
  connection nor one of the threadpool's threads, so a full pool can never leave every
  thread blocked on a connection that only a thread could give back.
- On PostgreSQL, GET and HEAD run in autocommit: no BEGIN before the first statement, no
  ROLLBACK at the end, and closing the session needs no round trip (so no thread either).
  Under PostgreSQL's READ COMMITTED every statement takes its own snapshot, so a string
  of reads sees exactly what it would inside a transaction. The one write a GET makes,
  the session's last_seen touch, is a single UPDATE. A GET handler must never make a
  write of more than one statement: it would not be atomic.
- No ping before every checkout (pool_pre_ping: a round trip and ~0.1 ms of CPU on every
  request). A restarted PostgreSQL still costs no request an error: a read that meets a
  dead connection runs once more on a fresh one (`retry_reads` in app.py; the first
  disconnect makes SQLAlchemy drop every older connection of the pool), and a write
  starts with a `SELECT 1` that, on a dead connection, is retried on a fresh one before
  the request's own statements run.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import Request
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from zctui.store.db import sqlite_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str, pool_size: int = 10) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # WAL, synchronous=FULL, foreign keys and BEGIN IMMEDIATE, as the local store.
        return sqlite_engine(Path(parsed.database or "server.sqlite3"))
    if parsed.drivername == "postgresql":  # psycopg 3, not the psycopg2 SQLAlchemy assumes
        parsed = parsed.set(drivername="postgresql+psycopg")
    # No overflow: the gate in get_session keeps requests within the pool. No pre_ping:
    # dead connections are handled per request instead (the module's docstring).
    return create_engine(parsed, pool_size=pool_size, max_overflow=0)


def read_engine(engine: Engine) -> Engine | None:
    """The same pool in autocommit, for GET and HEAD on PostgreSQL (None on SQLite, whose
    engine opens every transaction itself with BEGIN IMMEDIATE)."""
    if engine.dialect.name != "postgresql":
        return None
    return engine.execution_options(isolation_level="AUTOCOMMIT")


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


READS = frozenset({"GET", "HEAD"})
_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _gate(size: int) -> asyncio.Semaphore:
    # One per event loop: a worker has one; the test client makes one per request.
    loop = asyncio.get_running_loop()
    gate = _gates.get(loop)
    if gate is None:
        gate = _gates[loop] = asyncio.Semaphore(size)
    return gate


async def get_session(request: Request) -> AsyncIterator[Session]:
    state = request.app.state
    reads = state.read_engine if request.method in READS else None
    async with _gate(state.settings.db_pool_size):
        session = Session(reads or state.engine, expire_on_commit=False)
        try:
            if reads is None and state.read_engine is not None:
                await run_in_threadpool(_live, session)
            yield session
        finally:
            if reads is not None:
                session.close()  # autocommit: nothing is open, no round trip
            else:
                await run_in_threadpool(session.close)  # ROLLBACK of whatever is left


def _live(session: Session) -> None:
    """Begin a write on PostgreSQL with a live connection: one restarted under it fails
    this `SELECT 1` (SQLAlchemy then drops the pool's older connections) and the second
    try gets a fresh one. Nothing of the request has run yet, so nothing is lost."""
    try:
        session.execute(text("SELECT 1"))
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        session.rollback()
        session.execute(text("SELECT 1"))
