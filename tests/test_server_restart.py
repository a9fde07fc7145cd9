"""A restarted PostgreSQL costs no request an error (issue 5: the pool no longer pings
before every checkout; reads run again on a fresh connection, writes check theirs first).

The restart is simulated by terminating the server's backends: to the pool that is what a
restart looks like (every connection it holds is dead)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from server_world import build_world, settings
from zctui.server.app import create_app
from zctui.server.db import make_engine


@pytest.fixture
def named_engine(pg_engine: Engine) -> Iterator[tuple[Engine, str]]:
    """The production engine (make_engine: no pre-ping) on the test's schema, with an
    application_name that finds its backends."""
    with pg_engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    name = f"zctui-restart-{uuid.uuid4().hex[:8]}"
    url = pg_engine.url.set(query={"options": f"-csearch_path={schema}", "application_name": name})
    engine = make_engine(url.render_as_string(hide_password=False), pool_size=3)
    yield engine, name
    engine.dispose()


def _kill_backends(admin: Engine, name: str) -> int:
    with admin.connect() as conn:
        return len(
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = :name"
                ),
                {"name": name},
            ).all()
        )


@pytest.mark.postgres
def test_issue5_reads_and_writes_survive_a_restarted_database(
    named_engine: tuple[Engine, str],
    pg_engine: Engine,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine, name = named_engine
    app = create_app(settings(tmp_path), engine=engine)
    world = build_world(app, engine, app.state.security)
    h = world.ready("applicant_a")
    c = world.client()
    assert c.get("/auth/me", headers=h).status_code == 200

    assert _kill_backends(pg_engine, name) >= 1  # every pooled connection is now dead
    with caplog.at_level(logging.WARNING, logger="zctui.server"):
        r = c.get("/auth/me", headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "杨丰"
    assert "database connection lost" in caplog.text  # it did meet a dead connection

    assert _kill_backends(pg_engine, name) >= 1
    r = c.post("/applications", json={"year": 2025}, headers=h)  # a write, first thing
    assert r.status_code == 201, r.text
    assert c.get(f"/applications/{r.json()['id']}", headers=h).status_code == 200
