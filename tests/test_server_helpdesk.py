"""The helpdesk (issue 8) on SQLite and PostgreSQL: a person found by full ID number, by
name and by pinyin initials; their application read masked, with the step they are on and
each missing item's rule and guide words; every lookup audited without the full ID number;
and no write of any kind accepted from a helpdesk token."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from server_world import DEMO_ID, World, complete_application, this_year
from zctui.domain.sync import SYNC_PATH
from zctui.server.models import SECTION_TABLES, Application, Audit

BASIC = SECTION_TABLES["basic_info"]


@pytest.fixture
def half_done(world: World, tmp_path: Path) -> tuple[World, dict[str, str], str]:
    """杨丰's complete application with 政治面貌 (R3.1, step 3) taken away on the server."""
    app_id = complete_application(world, world.ready("applicant_a"), tmp_path)
    with Session(world.engine) as db:
        db.execute(update(BASIC).where(BASIC.c.application_id == uuid.UUID(app_id))
                   .values(politics=None))  # fmt: skip
        db.commit()
    return world, world.ready("helpdesk"), app_id


def _audits(world: World, event: str) -> list[Audit]:
    with Session(world.engine) as db:
        return list(
            db.scalars(select(Audit).where(col(Audit.event) == event).order_by(col(Audit.id)))
        )


def test_lookup_by_full_id_number_masked_with_step_and_audit(
    half_done: tuple[World, dict[str, str], str],
) -> None:
    world, desk, app_id = half_done
    r = world.client().get("/helpdesk/people", params={"q": DEMO_ID.lower()}, headers=desk)
    assert r.status_code == 200, r.text
    body = r.json()
    assert DEMO_ID not in r.text and "13831712345" not in r.text
    (person,) = body["people"]
    assert person["name"] == "杨丰"
    assert person["id_number"] == "130902********0011"
    assert person["phone"] == "138****2345"
    (app,) = person["applications"]
    assert app["id"] == app_id and app["state"] == "draft" and app["year"] == this_year()
    assert app["step"] == {"number": 3, "title": "录入基础信息", "rule": "R3"}
    assert app["missing"] == 1
    (entry,) = _audits(world, "helpdesk.lookup")
    assert entry.actor_role == "helpdesk" and entry.reason == "id_number"
    assert entry.subject_id == world.people["applicant_a"].id
    assert entry.detail == {"query": "130902********0011", "found": 1}


def test_lookup_by_name_and_by_pinyin_initials(
    half_done: tuple[World, dict[str, str], str],
) -> None:
    world, desk, _ = half_done
    c = world.client()
    by_name = c.get("/helpdesk/people", params={"q": "杨丰"}, headers=desk).json()
    by_surname = c.get("/helpdesk/people", params={"q": "杨"}, headers=desk).json()
    by_pinyin = c.get("/helpdesk/people", params={"q": "YF"}, headers=desk).json()
    for found in (by_name, by_surname, by_pinyin):
        assert [p["name"] for p in found["people"]] == ["杨丰"], found
    wang = c.get("/helpdesk/people", params={"q": "wf"}, headers=desk).json()
    assert [p["name"] for p in wang["people"]] == ["王芳"]
    assert wang["people"][0]["applications"] == []  # an account, no application yet
    # Only applicants are looked up: 张主任 (a unit admin) is not among them.
    assert c.get("/helpdesk/people", params={"q": "张"}, headers=desk).json()["people"] == []
    audits = _audits(world, "helpdesk.lookup")
    assert [(a.reason, a.detail["query"]) for a in audits] == [
        ("name", "杨丰"),
        ("name", "杨"),
        ("pinyin", "YF"),
        ("pinyin", "wf"),
        ("name", "张"),
    ]


def test_partial_id_numbers_and_junk_are_refused_in_chinese(
    half_done: tuple[World, dict[str, str], str],
) -> None:
    world, desk, _ = half_done
    c = world.client()
    for q, words in ((DEMO_ID[:10], "完整的身份证号"), ("y", "至少输入2个"),
                     ("杨%", "不要夹杂其他符号")):  # fmt: skip
        r = c.get("/helpdesk/people", params={"q": q}, headers=desk)
        assert r.status_code == 422 and words in r.json()["detail"], (q, r.text)
    assert _audits(world, "helpdesk.lookup") == []


def test_only_the_helpdesk_looks_up(half_done: tuple[World, dict[str, str], str]) -> None:
    world, _, app_id = half_done
    c = world.client()
    for key in ("applicant_a", "admin_a", "office"):
        h = world.ready(key)
        assert c.get("/helpdesk/people", params={"q": "杨丰"}, headers=h).status_code == 403
        assert c.get(f"/helpdesk/applications/{app_id}", headers=h).status_code == 403
    assert c.get("/helpdesk/people", params={"q": "杨丰"}).status_code == 401


def test_r3_1_view_shows_masked_fields_the_step_and_missing_items_with_guide(
    half_done: tuple[World, dict[str, str], str],
) -> None:
    """The missing 政治面貌 (R3.1) with the checklist's message and the guide's words."""
    world, desk, app_id = half_done
    r = world.client().get(f"/helpdesk/applications/{app_id}", headers=desk)
    assert r.status_code == 200, r.text
    assert DEMO_ID not in r.text and "13831712345" not in r.text
    view = r.json()
    assert view["application"]["id_number"] == "130902********0011"
    assert view["application"]["name"] == "杨丰"
    assert view["mobile"] is not None and "****" in view["mobile"]
    assert view["step"] == {"number": 3, "title": "录入基础信息", "rule": "R3"}
    items = [i for s in view["checklist"]["steps"] for sec in s["sections"] for i in sec["items"]
             if i["severity"] == "error"]  # fmt: skip
    assert [(i["rule"], i["section"], i["field"], i["message"]) for i in items] == [
        ("R3.1", "basic", "politics", "请选择政治面貌")
    ]
    assert items[0]["guide"] == "手动选择民族和政治面貌。"
    (entry,) = _audits(world, "helpdesk.view")
    assert str(entry.application_id) == app_id
    assert entry.subject_id == world.people["applicant_a"].id
    missing = world.client().get(f"/helpdesk/applications/{uuid.uuid4()}", headers=desk)
    assert missing.status_code == 404 and "找不到" in missing.json()["detail"]


def test_a_complete_application_has_no_current_step(world: World, tmp_path: Path) -> None:
    app_id = complete_application(world, world.ready("applicant_a"), tmp_path)
    view = world.client().get(f"/helpdesk/applications/{app_id}", headers=world.ready("helpdesk"))
    assert view.json()["step"] is None


# --------------------------------------------------------------------- nothing written
def _write_requests(app_id: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    """(method, path, body) for every write, each with a body that passes validation, so
    the refusal tested is the role's and not a 422."""
    sha = "0" * 64
    out: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", "/users", {"id_number": "130902199001010019", "name": "新人"}),
        ("POST", f"/users/{uuid.uuid4()}/reset-password", None),
        ("POST", "/applications", {"year": this_year()}),
        ("POST", "/publications", {"kind": "announcement", "title": "通知"}),
        ("POST", "/v1/blobs/missing", {"sha256": [sha]}),
        ("HEAD", f"/v1/blobs/{sha}/upload", None),
        ("PATCH", f"/v1/blobs/{sha}/upload", None),
        ("POST", SYNC_PATH, {
            "client": str(uuid.uuid4()), "cursor": 0,
            "muts": [{"seq": 1, "t": "basic_info", "row": str(uuid.uuid4()), "op": "update",
                      "ch": {"politics": [None, "13"]}, "base": 0}],
        }),
    ]  # fmt: skip
    for action in ("submit", "withdraw", "open", "return", "approve", "accept", "pass",
                   "reject", "issue"):  # fmt: skip
        body = {"reason": "x", "items": [{"section": "basic", "reason": "x"}],
                "certificate_number": "CZ-1"}  # fmt: skip
        out.append(("POST", f"/applications/{app_id}/{action}", body))
    return out


# Writes that are the caller's own (log in, change one's own password, log out) or reads by
# POST (a certificate lookup keeps number and name out of access logs).
NOT_WRITES = {"/auth/login", "/auth/password", "/auth/logout", "/public/certificates/lookup"}


def test_helpdesk_cannot_change_anything(half_done: tuple[World, dict[str, str], str]) -> None:
    """Every write route refuses a helpdesk token (403 with a reason), sync pushes too, and
    the guard covers routes added later: any write route not listed must refuse as well."""
    world, desk, app_id = half_done
    c = world.client()
    listed = _write_requests(app_id)
    for method, path, body in listed:
        r = c.request(method, path, json=body, headers=desk)
        assert r.status_code == 403, (method, path, r.status_code, r.text)
        if method != "HEAD":
            assert r.json()["detail"], (method, path)
    templates = {(m, p.split("/{")[0]) for m, p, _ in listed}
    for route in world.app.routes:
        if not isinstance(route, APIRoute) or route.path in NOT_WRITES:
            continue
        for method in (route.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}:
            if (method, route.path.split("/{")[0]) in templates:
                continue
            path = route.path.replace("{app_id}", app_id).replace("{", "x").replace("}", "")
            r = c.request(method, path, json={}, headers=desk)
            assert not r.is_success, (method, route.path, r.status_code)
    # Nothing moved: the application, its content, and no workflow step in the audit.
    with Session(world.engine) as db:
        app = db.get(Application, uuid.UUID(app_id))
        assert app is not None and app.state == "draft" and not app.deleted
        politics = db.execute(select(BASIC.c.politics)).scalar()
        assert politics is None
        steps = db.scalars(
            select(Audit).where(
                col(Audit.actor_role) == "helpdesk", col(Audit.event).startswith("workflow.")
            )
        ).all()
        assert steps == []
