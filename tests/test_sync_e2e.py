"""Sync end to end (issue 6): local workspaces against the real server (in process, on
SQLite and PostgreSQL). What a user would check: what I typed offline is on the server
and on my other computer; the unit's lock refuses my edits but keeps them; the same field
changed in two places is shown to me, disjoint edits merge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server_world import DEMO_ID, World, this_year
from sync_world import Workspace
from zctui.demo import build_complete
from zctui.store import outbox
from zctui.store.blobs import BlobStore

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _ws(world: World, tmp_path: Path, name: str, key: str = "applicant_a") -> Workspace:
    return Workspace(tmp_path / name / "ws.sqlite3", world.client(), world.ready(key))


def test_an_application_made_offline_reaches_the_server_and_a_second_computer(
    world: World, tmp_path: Path
) -> None:
    """The guide's complete example typed offline; one sync puts it on the server (the
    unit admin sees it, the server's checklist finds nothing missing), a second workspace
    of the same applicant pulls an identical copy."""
    laptop = _ws(world, tmp_path, "laptop")
    app = build_complete(laptop.store, BlobStore(tmp_path / "laptop" / "blobs"), this_year())
    report = laptop.sync()
    assert report.issues == []
    assert outbox.pending_count(laptop.store) == 0
    admin = world.ready("admin_a")
    listed = world.client().get("/applications", headers=admin).json()
    assert [a["id"] for a in listed] == [str(app.id)]
    assert listed[0]["id_number"] == DEMO_ID
    checklist = world.client().get(f"/applications/{app.id}/checklist", headers=admin).json()
    statuses = {step["number"]: step["status"] for step in checklist["steps"]}
    assert set(statuses.values()) <= {"complete", "not_applicable"}, statuses

    desk = Workspace(tmp_path / "desk" / "ws.sqlite3", world.client(), world.ready("applicant_a"))
    desk.sync()
    assert desk.snapshot() == laptop.snapshot()
    again = desk.sync()  # nothing new: nothing pushed, nothing pulled
    assert (again.pushed, again.pulled) == (0, 0)


def test_disjoint_edits_merge_and_the_same_field_is_a_conflict_shown_to_the_user(
    world: World, tmp_path: Path
) -> None:
    one, two = _ws(world, tmp_path, "one"), _ws(world, tmp_path, "two")
    app = build_complete(one.store, BlobStore(tmp_path / "one" / "blobs"), this_year())
    one.sync()
    two.sync()
    info = one.store.single("basic_info", app.id)
    one.store.set_field("basic_info", info.id, "mobile", "13911112222")
    two.store.set_field("basic_info", info.id, "work_phone", "0317-7654321")
    one.store.set_field("basic_info", info.id, "summary", "我的简介")
    two.store.set_field("basic_info", info.id, "summary", "另一台电脑上的简介")
    assert one.sync().issues == []
    report = two.sync()
    (issue,) = report.issues
    assert issue.kind == "conflict"
    assert json.loads(issue.mine) == {"summary": "另一台电脑上的简介"}
    assert json.loads(issue.theirs or "{}")["summary"] == "我的简介"
    one.sync()
    for ws in (one, two):
        row = ws.store.get("basic_info", info.id)
        assert (row.mobile, row.work_phone, row.summary) == (
            "13911112222",
            "0317-7654321",
            "我的简介",
        )
    assert one.snapshot() == two.snapshot()


def test_after_the_unit_opens_it_edits_are_refused_kept_and_shown_r12_2(
    world: World, tmp_path: Path
) -> None:
    ws = _ws(world, tmp_path, "ws")
    app = build_complete(ws.store, BlobStore(tmp_path / "ws" / "blobs"), this_year())
    ws.sync()
    me = ws.wire.headers
    assert world.client().post(f"/applications/{app.id}/submit", headers=me).status_code == 200
    admin = world.ready("admin_a")
    assert world.client().post(f"/applications/{app.id}/open", headers=admin).status_code == 200
    info = ws.store.single("basic_info", app.id)
    before = ws.store.get("basic_info", info.id).mobile
    ws.store.set_field("basic_info", info.id, "mobile", "13900000000")
    report = ws.sync()
    (issue,) = report.issues
    assert issue.kind == "locked"
    assert json.loads(issue.mine) == {"mobile": "13900000000"}
    assert "R12.2" in issue.message
    assert ws.store.get("basic_info", info.id).mobile == before  # what the unit reviews
    assert ws.store.get("application", app.id).state == "unit_opened"
    assert [i.id for i in outbox.open_issues(ws.store, app.id)] == [issue.id]
    server = world.client().get(f"/applications/{app.id}", headers=admin).json()
    assert server["state"] == "unit_opened"


def test_a_submission_made_offline_is_the_workflow_s_submit_on_sync_r12(
    world: World, tmp_path: Path
) -> None:
    """R12: 提交 pressed offline is queued; on sync the server runs its own checklist and
    takes the workflow's submit. An incomplete application is refused with what is missing
    and stays a draft here too; 撤回 works until the unit opens it (R12.2)."""
    ws = _ws(world, tmp_path, "ws")
    app = build_complete(ws.store, BlobStore(tmp_path / "ws" / "blobs"), this_year())
    info = ws.store.single("basic_info", app.id)
    ws.store.set_field("basic_info", info.id, "mobile", None)  # now something is missing
    ws.store.set_field("application", app.id, "state", "submitted")
    (issue,) = ws.sync().issues
    assert issue.kind == "refused"
    assert "缺项" in issue.message and "R3" in issue.message
    assert ws.store.get("application", app.id).state == "draft"

    ws.store.set_field("basic_info", info.id, "mobile", "13831712345")
    ws.store.set_field("application", app.id, "state", "submitted")
    assert ws.sync().issues == []
    admin = world.ready("admin_a")
    server = world.client().get(f"/applications/{app.id}", headers=admin).json()
    assert server["state"] == "submitted"
    trail = world.client().get(f"/applications/{app.id}/audit", headers=admin).json()
    assert [e["event"] for e in trail][-1] == "workflow.submit"

    ws.store.set_field("application", app.id, "state", "draft")  # 撤回, offline
    assert ws.sync().issues == []
    server = world.client().get(f"/applications/{app.id}", headers=admin).json()
    assert server["state"] == "draft"

    ws.store.set_field("application", app.id, "state", "submitted")
    ws.sync()
    assert world.client().post(f"/applications/{app.id}/open", headers=admin).status_code == 200
    ws.store.set_field("application", app.id, "state", "draft")  # too late to withdraw
    (late,) = ws.sync().issues
    assert late.kind in ("locked", "refused")
    assert ws.store.get("application", app.id).state == "unit_opened"
