"""R12 and DESIGN's workflow on the server: every transition legal and illegal, submission
checked by the checklist engine, and the audit trail of a whole application."""

from __future__ import annotations

import typing
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from server_world import World, complete_application, this_year
from zctui.data.catalog import load_catalog
from zctui.domain.checklist import run_checklist
from zctui.server import content
from zctui.server.models import Application
from zctui.server.schemas import State
from zctui.server.workflow import TRANSITIONS, state_label

# The happy path: (who acts, action, body).
PATH = [
    ("applicant_a", "submit", {}),
    ("admin_a", "open", {}),
    ("admin_a", "approve", {}),
    ("office", "accept", {}),
    ("office", "pass", {}),
    ("office", "issue", {"certificate_number": "冀职证2025-0001"}),
]
ACTOR = {"applicant": "applicant_a", "unit_admin": "admin_a", "office": "office"}


def test_r12_submit_runs_the_checklist_and_lists_what_is_missing(world: World) -> None:
    h = world.ready("applicant_b")
    c = world.client()
    r = c.post("/applications", json={"year": this_year(), "review_mode": "review"}, headers=h)
    assert r.status_code == 201
    app_id = r.json()["id"]
    refused = c.post(f"/applications/{app_id}/submit", headers=h)
    assert refused.status_code == 422
    body = refused.json()
    with Session(world.engine) as db:
        app = db.get(Application, uuid.UUID(app_id))
        assert app is not None
        expected = run_checklist(content.load(db, app)).errors
    assert [m["message"] for m in body["missing"]] == [i.message for i in expected]
    assert str(len(expected)) in body["detail"]
    assert c.get(f"/applications/{app_id}", headers=h).json()["state"] == "draft"


def test_r2_1_unit_comes_from_the_account(world: World) -> None:
    h = world.ready("applicant_b")
    r = world.client().post(
        "/applications",
        json={"year": this_year(), "unit_id": str(world.units["A"])},
        headers=h,
    )
    assert r.status_code == 422  # not a field the applicant may send
    r = world.client().post("/applications", json={"year": this_year()}, headers=h)
    assert r.json()["unit_id"] == str(world.units["B"])
    again = world.client().post("/applications", json={"year": this_year()}, headers=h)
    assert again.status_code == 409 and "每人每年" in again.json()["detail"]


def test_r2_5_self_review_only_where_the_unit_may(world: World) -> None:
    body = {"year": this_year(), "series": "230.zy", "title": "232", "review_mode": "self_review"}
    refused = world.client().post("/applications", json=body, headers=world.ready("applicant_a"))
    assert refused.status_code == 422 and "R2.5" in refused.json()["detail"]
    assert load_catalog().self_review_rule in refused.json()["detail"]  # the guide's words
    # 沧州市人民医院 is on methods.yaml's list for its health series at 正高/副高, not 中级:
    # the same list the checklist reads.
    h = world.ready("applicant_b")
    middle = world.client().post("/applications", json={**body, "title": "233"}, headers=h)
    assert middle.status_code == 422 and "R2.5" in middle.json()["detail"]
    allowed = world.client().post("/applications", json=body, headers=h)
    assert allowed.status_code == 201


def test_r12_every_transition_legal_and_illegal(world: World, tmp_path: Path) -> None:
    heads = {k: world.ready(k) for k in ("applicant_a", "admin_a", "office")}
    c = world.client()
    app_id = complete_application(world, heads["applicant_a"], tmp_path)
    for who, action, body in PATH:
        state = c.get(f"/applications/{app_id}", headers=heads["applicant_a"]).json()["state"]
        for other, t in TRANSITIONS.items():
            if state in t.sources:
                continue
            actor = ACTOR[t.roles[0]]
            r = c.post(f"/applications/{app_id}/{other}", json={}, headers=heads[actor])
            # The office does not see what units have not forwarded yet: not found, not 409.
            assert r.status_code in (404, 409), (state, other, r.text)
            if r.status_code == 409:
                assert state_label(state) in r.json()["detail"]
                assert t.label in r.json()["detail"]
        r = c.post(f"/applications/{app_id}/{action}", json=body, headers=heads[who])
        assert r.status_code == 200, (action, r.text)
        assert r.json()["state"] == TRANSITIONS[action].target
    final = c.get(f"/applications/{app_id}", headers=heads["applicant_a"]).json()["state"]
    assert final == "certificate_issued"
    for action, t in TRANSITIONS.items():  # nothing moves a finished application
        r = c.post(f"/applications/{app_id}/{action}", json={}, headers=heads[ACTOR[t.roles[0]]])
        assert r.status_code == 409


def test_r12_2_withdraw_until_opened_then_locked(world: World, tmp_path: Path) -> None:
    ha, hu = world.ready("applicant_a"), world.ready("admin_a")
    c = world.client()
    app_id = complete_application(world, ha, tmp_path)
    assert c.post(f"/applications/{app_id}/submit", headers=ha).json()["state"] == "submitted"
    assert c.post(f"/applications/{app_id}/withdraw", headers=ha).json()["state"] == "draft"
    c.post(f"/applications/{app_id}/submit", headers=ha)
    assert c.post(f"/applications/{app_id}/open", headers=hu).json()["state"] == "unit_opened"
    refused = c.post(f"/applications/{app_id}/withdraw", headers=ha)
    assert refused.status_code == 409 and "单位审核中" in refused.json()["detail"]


def test_r12_return_with_reasons_per_item_then_resubmit(world: World, tmp_path: Path) -> None:
    ha, hu = world.ready("applicant_a"), world.ready("admin_a")
    c = world.client()
    app_id = complete_application(world, ha, tmp_path)
    c.post(f"/applications/{app_id}/submit", headers=ha)
    c.post(f"/applications/{app_id}/open", headers=hu)
    no_reason = c.post(f"/applications/{app_id}/return", json={}, headers=hu)
    assert no_reason.status_code == 422 and "逐项" in no_reason.json()["detail"]
    items = [
        {"section": "paper", "field": "retrieval_url", "reason": "检索链接打不开"},
        {"section": "basic_info", "field": "summary", "reason": "工作总结摘要超过 17 行"},
    ]
    r = c.post(f"/applications/{app_id}/return", json={"items": items}, headers=hu)
    assert r.status_code == 200
    assert r.json()["state"] == "unit_returned"
    mine = c.get(f"/applications/{app_id}", headers=ha).json()
    assert mine["return_items"] == items
    again = c.post(f"/applications/{app_id}/submit", headers=ha).json()
    assert again["state"] == "submitted" and again["return_items"] == []


def test_r12_reject_needs_a_reason(world: World, tmp_path: Path) -> None:
    ha, hu, ho = world.ready("applicant_a"), world.ready("admin_a"), world.ready("office")
    c = world.client()
    app_id = complete_application(world, ha, tmp_path)
    for h, action in ((ha, "submit"), (hu, "open"), (hu, "approve"), (ho, "accept")):
        assert c.post(f"/applications/{app_id}/{action}", headers=h).status_code == 200
    assert c.post(f"/applications/{app_id}/reject", json={}, headers=ho).status_code == 422
    r = c.post(f"/applications/{app_id}/reject", json={"reason": "论文不符合要求"}, headers=ho)
    assert r.json()["state"] == "rejected"
    assert c.post(f"/applications/{app_id}/issue", json={"certificate_number": "X1"}, headers=ho
                  ).status_code == 409  # fmt: skip


def test_r12_audit_trail_of_a_whole_application(world: World, tmp_path: Path) -> None:
    heads = {k: world.ready(k) for k in ("applicant_a", "admin_a", "office", "helpdesk")}
    c = world.client()
    app_id = complete_application(world, heads["applicant_a"], tmp_path)
    for who, action, body in PATH:
        c.post(f"/applications/{app_id}/{action}", json=body, headers=heads[who])
    trail = c.get(f"/applications/{app_id}/audit", headers=heads["helpdesk"]).json()
    steps = [(e["event"], e["from_state"], e["to_state"]) for e in trail]
    expected = [("application.created", None, "draft")] + [
        (f"workflow.{a}", TRANSITIONS[a].sources[0], TRANSITIONS[a].target) for _, a, _ in PATH
    ]
    assert steps == expected
    roles = [e["actor_role"] for e in trail[1:]]
    assert roles == [TRANSITIONS[a].roles[0] for _, a, _ in PATH]
    assert all(e["actor_id"] for e in trail)
    # The certificate can be looked up by number and name, and shows only its own fields.
    number = PATH[-1][2]["certificate_number"]
    found = c.post("/public/certificates/lookup", json={"number": number, "name": "杨丰"}).json()
    assert found["number"] == number and "id_number" not in found
    wrong = c.post("/public/certificates/lookup", json={"number": number, "name": "李四"})
    assert wrong.status_code == 404


@pytest.mark.parametrize("statement", ["UPDATE audit SET reason = 'x'", "DELETE FROM audit"])
def test_audit_is_append_only_in_the_database(world: World, statement: str) -> None:
    world.ready("applicant_a")  # writes login events
    with Session(world.engine) as db, pytest.raises(Exception, match="append-only"):
        db.execute(text(statement))
        db.commit()


def test_two_admins_opening_at_once_make_one_transition(world: World, tmp_path: Path) -> None:
    ha, hu = world.ready("applicant_a"), world.ready("admin_a")
    c = world.client()
    app_id = complete_application(world, ha, tmp_path)
    c.post(f"/applications/{app_id}/submit", headers=ha)
    results = [c.post(f"/applications/{app_id}/open", headers=hu).status_code for _ in range(2)]
    assert sorted(results) == [200, 409]


def test_r12_states_are_values_yaml_workflow_states() -> None:
    """The API's State, the transitions and the TUI's labels name the same states."""
    codes = [i.code for i in load_catalog().values("workflow_state").items]
    assert list(typing.get_args(State)) == codes
    for t in TRANSITIONS.values():
        assert t.target in codes, t
        assert set(t.sources) <= set(codes), t
    assert state_label("draft") == "填报中"  # values.yaml's label, not a second list
