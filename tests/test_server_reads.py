"""The fast read path (issue 5's p99 goal, server/reads.py): the caller, one application and
the public lists are read in the event loop (async psycopg on PostgreSQL, the threadpool on
SQLite) with Core statements. They must answer exactly what the ORM path answers, scoped
the same way, and a revocation must still end a session at its very next request."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from server_world import NEW_PASSWORD, World, complete_application


def _listed(world: World, h: dict[str, str], app_id: str) -> dict[str, Any] | None:
    found = [a for a in world.client().get("/applications", headers=h).json() if a["id"] == app_id]
    return found[0] if found else None


def test_issue5_one_application_reads_as_the_list_shows_it_for_every_role(
    world: World, tmp_path: Path
) -> None:
    """Same fields, same masking (helpdesk), same scope (the office only once forwarded)."""
    heads = {k: world.ready(k) for k in ("applicant_a", "admin_a", "admin_b", "helpdesk", "office")}
    app_id = complete_application(world, heads["applicant_a"], tmp_path)
    c = world.client()

    def check(sees: set[str]) -> None:
        for who, h in heads.items():
            one = c.get(f"/applications/{app_id}", headers=h)
            if who in sees:
                assert one.status_code == 200, (who, one.text)
                assert one.json() == _listed(world, h, app_id), who
            else:
                assert one.status_code == 404, who
                assert _listed(world, h, app_id) is None, who

    check({"applicant_a", "admin_a", "helpdesk"})
    shown = c.get(f"/applications/{app_id}", headers=heads["helpdesk"]).json()
    assert "*" in shown["id_number"]  # masked for the helpdesk
    assert "*" not in c.get(f"/applications/{app_id}", headers=heads["admin_a"]).json()["id_number"]

    for step, who in (("submit", "applicant_a"), ("open", "admin_a"), ("approve", "admin_a")):
        assert c.post(f"/applications/{app_id}/{step}", headers=heads[who]).status_code == 200
    check({"applicant_a", "admin_a", "helpdesk", "office"})  # forwarded: the office sees it
    assert c.get(f"/applications/{app_id}", headers=heads["office"]).json()["submitted_at"]


def test_r1_2_a_password_change_ends_other_sessions_at_their_next_read(
    world: World, tmp_path: Path
) -> None:
    """Revocation is immediate on the fast path too: nothing about the session is cached."""
    other = world.ready("applicant_a")
    app_id = complete_application(world, other, tmp_path)
    c = world.client()
    assert c.get(f"/applications/{app_id}", headers=other).status_code == 200
    mine = world.ready("applicant_a")  # a second session of the same person
    r = c.post(
        "/auth/password",
        json={"old_password": NEW_PASSWORD, "new_password": "Zc#2025xyz!"},
        headers=mine,
    )
    assert r.status_code == 204, r.text
    for path in ("/auth/me", f"/applications/{app_id}"):
        assert c.get(path, headers=other).status_code == 401, path
        assert c.get(path, headers=mine).status_code == 401, path


def test_issue5_public_lists_read_on_the_fast_path(world: World) -> None:
    office = world.ready("office")
    c = world.client()
    for kind, path in (("announcement", "/public/announcements"), ("policy", "/public/policies")):
        body = {"kind": kind, "title": f"关于{kind}的通知", "body": "正文", "city": "沧州市"}
        assert c.post("/publications", json=body, headers=office).status_code == 201
        shown = c.get(path).json()
        assert [(p["kind"], p["title"]) for p in shown] == [(kind, body["title"])]
        assert shown[0]["published_at"].endswith(("Z", "+00:00"))  # UTC, on both databases


def test_issue5_a_worker_freezes_what_startup_made(world: World) -> None:
    """So a full garbage collection does not stall every request in flight (bench/server.py)."""
    try:
        with TestClient(world.app) as c:  # runs the lifespan, as uvicorn does per worker
            assert gc.get_freeze_count() > 10_000
            assert c.get("/public/announcements").status_code == 200
    finally:
        gc.unfreeze()
