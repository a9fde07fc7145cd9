"""Shared fixtures. Tests that need an outside tool or PostgreSQL skip with a visible reason,
unless ZCTUI_REQUIRE_ALL is set (CI), where that skip is a failure."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from zctui.store.repository import Store

pytest_plugins = ["server_world", "flaky_proxy"]  # server fixtures; the flaky link

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def need(ok: bool, reason: str) -> None:
    """Skip (or, under ZCTUI_REQUIRE_ALL, fail) when a required outside part is missing."""
    if ok:
        return
    if os.environ.get("ZCTUI_REQUIRE_ALL"):
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "ws.sqlite3")
    yield s
    s.close()


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    """A fresh schema in the test PostgreSQL database, dropped afterwards."""
    url = os.environ.get("ZCTUI_TEST_PG_URL", DEFAULT_PG)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        admin = create_engine(url)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # no driver, no server, no database
        need(False, f"PostgreSQL not reachable at {url}: {type(exc).__name__}: {exc}")
        raise  # unreachable: need() skipped or failed
    engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
