"""The hot path: who the caller is, and the reads every TUI screen polls.

On PostgreSQL these run on psycopg's async connections, in the worker's event loop: no trip
through the threadpool (each costs two thread switches and a GIL handoff, and under load
was the largest single cost of a read) and no ORM (objects built and tracked for every
row). The statements stay SQLAlchemy Core, written once; their PostgreSQL text is compiled
once, and psycopg prepares it on the server after a few uses. The connections are in
autocommit: every statement sees what is committed when it starts (READ COMMITTED), so a
revoked session is refused by the very next request.

On SQLite (the zero-setup default: one office, a few users) the same statements run on the
engine in the threadpool, as every other request does.

A connection that PostgreSQL closed under us (a restart) costs no request an error: the
statement runs once more on a fresh connection, and the other idle ones are dropped too.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, event
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.sql.expression import Select, UpdateBase
from starlette.concurrency import run_in_threadpool

if TYPE_CHECKING:
    from psycopg import AsyncConnection

log = logging.getLogger("zctui.server")
Row = Mapping[Any, Any]  # a row by column name (or label)
_PG = PGDialect_psycopg()


class Query:
    """A Core statement and, compiled on first use, its PostgreSQL text with the defaults
    of its parameters (literals in the statement, expanded IN lists)."""

    def __init__(self, statement: Select[Any] | UpdateBase) -> None:
        self.statement = statement
        self._pg: tuple[str, dict[str, Any]] | None = None

    def pg(self, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        if self._pg is None:
            compiled = self.statement.compile(
                dialect=_PG, compile_kwargs={"render_postcompile": True}
            )
            self._pg = str(compiled), dict(compiled.params)
        sql, defaults = self._pg
        return sql, {**defaults, **params}


class Reads:
    """Run a `Query`: `rows`, `first`, or `write` (one statement, committed alone)."""

    def __init__(self, engine: Engine, size: int) -> None:
        self.engine = engine
        self.pool = _AsyncPool(engine, size) if engine.dialect.name == "postgresql" else None

    async def rows(self, query: Query, **params: Any) -> list[Row]:
        if self.pool is None:
            return await run_in_threadpool(self._sync_rows, query, params)
        return await self.pool.run(query, params, fetch=True)

    async def first(self, query: Query, **params: Any) -> Row | None:
        found = await self.rows(query, **params)
        return found[0] if found else None

    async def write(self, query: Query, **params: Any) -> None:
        if self.pool is None:
            await run_in_threadpool(self._sync_write, query, params)
        else:
            await self.pool.run(query, params, fetch=False)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()

    def _sync_rows(self, query: Query, params: dict[str, Any]) -> list[Row]:
        with self.engine.connect() as conn:
            return list(conn.execute(query.statement, params).mappings())

    def _sync_write(self, query: Query, params: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(query.statement, params)


class _AsyncPool:
    """At most `size` connections per event loop in use at once (the others wait in the
    loop, holding nothing), kept open between requests. A uvicorn worker has one loop; the
    test client makes one per request, which is why the gate is per loop and a connection
    is never used by two loops at once."""

    def __init__(self, engine: Engine, size: int) -> None:
        self.engine = engine
        self.size = size
        self.idle: deque[AsyncConnection[Any]] = deque()
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )
        self._conninfo: dict[str, Any] | None = None
        # Whoever disposes of the engine (a test, the end of the process) closes these too.
        event.listen(engine, "engine_disposed", lambda _engine: self.close())

    def _gate(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates[loop] = asyncio.Semaphore(self.size)
        return gate

    async def run(self, query: Query, params: Mapping[str, Any], *, fetch: bool) -> list[Row]:
        from psycopg import OperationalError

        sql, values = query.pg(params)
        async with self._gate():
            for attempt in (1, 2):
                conn = self.idle.pop() if self.idle else await self._connect()
                try:
                    cur = await conn.execute(sql, values)
                    found: list[Row] = await cur.fetchall() if fetch else []
                except OperationalError:
                    lost = conn.broken
                    conn.pgconn.finish()
                    if not lost or attempt == 2:
                        raise
                    log.warning("database connection lost: the read runs again")
                    self.close()  # its siblings died with it: the retry gets a fresh one
                    continue
                except BaseException:
                    conn.pgconn.finish()  # cancelled or failed mid-statement: not reusable
                    raise
                self.idle.append(conn)
                return found
        raise AssertionError("unreachable")

    async def _connect(self) -> AsyncConnection[Any]:
        from psycopg import AsyncConnection
        from psycopg.rows import dict_row

        if self._conninfo is None:
            self._conninfo = await run_in_threadpool(_conninfo, self.engine)
        conn = await AsyncConnection.connect(
            **self._conninfo, autocommit=True, row_factory=dict_row
        )
        # Times come back in UTC, as SQLAlchemy's UTCDateTime gives them on the other path.
        await conn.execute("SET TIME ZONE 'UTC'")
        return conn

    def close(self) -> None:
        while self.idle:
            self.idle.pop().pgconn.finish()  # no await needed: nothing is in flight


def _conninfo(engine: Engine) -> dict[str, Any]:
    """The engine's own connection parameters (its URL and its connect_args alike), read
    off one of its connections: libpq reports every one set, the password apart."""
    with engine.connect() as conn:
        info = conn.connection.dbapi_connection.info  # type: ignore[union-attr]
        params: dict[str, Any] = info.get_parameters()
        if info.password:
            params["password"] = info.password
        return params
