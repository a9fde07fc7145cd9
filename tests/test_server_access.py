"""Access by role and unit (issue 5): role × own/other unit × endpoint. Scope comes from the
session, never from the request; the helpdesk reads everything masked and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from server_world import DEMO_ID, UNIT_A, World, complete_application, make_id, this_year

ROLES = ["applicant_a", "applicant_b", "admin_a", "admin_b", "helpdesk", "office", "other_office"]
# Who sees unit A's application, per state it is in: the owner and unit A's admin always,
# the helpdesk always, the city office once unit A forwarded it, nobody else ever.
SEES_DRAFT = {"applicant_a", "admin_a", "helpdesk"}
SEES_FORWARDED = SEES_DRAFT | {"office"}


@pytest.fixture
def setup(world: World, tmp_path: Path) -> tuple[World, dict[str, dict[str, str]], str]:
    heads = {k: world.ready(k) for k in ROLES}
    app_id = complete_application(world, heads["applicant_a"], tmp_path)
    return world, heads, app_id


def _reads(world: World, h: dict[str, str], app_id: str) -> set[int]:
    c = world.client()
    codes = {
        c.get(f"/applications/{app_id}", headers=h).status_code,
        c.get(f"/applications/{app_id}/checklist", headers=h).status_code,
        c.get(f"/applications/{app_id}/audit", headers=h).status_code,
    }
    listed = {a["id"] for a in c.get("/applications", headers=h).json()}
    codes.add(200 if app_id in listed else 404)
    return codes


def test_access_matrix_reads(setup: tuple[World, dict[str, dict[str, str]], str]) -> None:
    world, heads, app_id = setup
    c = world.client()
    for state_step, who, sees in (
        (None, None, SEES_DRAFT),
        ("submit", "applicant_a", SEES_DRAFT),
        ("open", "admin_a", SEES_DRAFT),
        ("approve", "admin_a", SEES_FORWARDED),
    ):
        if state_step and who:
            assert (
                c.post(f"/applications/{app_id}/{state_step}", headers=heads[who]).status_code
                == 200
            )
        for role in ROLES:
            expected = {200} if role in sees else {404}
            assert _reads(world, heads[role], app_id) == expected, (state_step, role)


def test_access_matrix_writes(setup: tuple[World, dict[str, dict[str, str]], str]) -> None:
    world, heads, app_id = setup
    c = world.client()
    c.post(f"/applications/{app_id}/submit", headers=heads["applicant_a"])
    # Other unit's admin and a stranger applicant cannot touch it; the helpdesk never writes.
    for role, code in (("admin_b", 404), ("applicant_b", 404), ("helpdesk", 403)):
        r = c.post(f"/applications/{app_id}/open", headers=heads[role])
        assert r.status_code == code, role
    # The owner cannot do the unit's step, with a reason.
    own = c.post(f"/applications/{app_id}/open", headers=heads["applicant_a"])
    assert own.status_code == 403 and "单位管理员" in own.json()["detail"]
    assert c.get(f"/applications/{app_id}", headers=heads["admin_a"]).json()["state"] == "submitted"


def test_helpdesk_sees_masked_id_and_phone(
    setup: tuple[World, dict[str, dict[str, str]], str],
) -> None:
    world, heads, app_id = setup
    c = world.client()
    app = c.get(f"/applications/{app_id}", headers=heads["helpdesk"]).json()
    assert app["id_number"] == "130902********0011"
    listed = c.get("/users", headers=heads["helpdesk"])
    users = listed.json()
    assert len(users) == len(world.people)
    assert not any(p.id_number in listed.text for p in world.people.values())
    assert all(u["phone"] == "138****2345" for u in users)
    full = c.get(f"/applications/{app_id}", headers=heads["admin_a"]).json()
    assert full["id_number"] == DEMO_ID
    for path, body in (("/users", {"id_number": DEMO_ID, "name": "x"}),
                       ("/publications", {"kind": "policy", "title": "x"})):  # fmt: skip
        assert c.post(path, json=body, headers=heads["helpdesk"]).status_code == 403


def test_users_scoped_by_unit(setup: tuple[World, dict[str, dict[str, str]], str]) -> None:
    world, heads, _ = setup
    c = world.client()
    ids = {k: str(p.id) for k, p in world.people.items()}
    seen_a = {u["id"] for u in c.get("/users", headers=heads["admin_a"]).json()}
    assert seen_a == {ids["applicant_a"], ids["admin_a"]}
    seen_app = {u["id"] for u in c.get("/users", headers=heads["applicant_b"]).json()}
    assert seen_app == {ids["applicant_b"]}
    seen_office = {u["id"] for u in c.get("/users", headers=heads["office"]).json()}
    assert ids["other_office"] not in seen_office and ids["applicant_b"] in seen_office
    # The office's units: its whole tree, three levels deep, and nothing of another city.
    units = {u["id"] for u in c.get("/units", headers=heads["office"]).json()}
    assert units == {str(world.units[k]) for k in ("office", "dept", "A", "B")}
    units_a = {u["id"] for u in c.get("/units", headers=heads["admin_a"]).json()}
    assert units_a == {str(world.units["A"])}
    # Resets: own unit's applicants only; other units' accounts are not even found.
    reset = "/users/{}/reset-password"
    assert c.post(reset.format(ids["applicant_b"]), headers=heads["admin_a"]).status_code == 404
    assert c.post(reset.format(ids["admin_a"]), headers=heads["admin_a"]).status_code == 403
    assert c.post(reset.format(ids["applicant_a"]), headers=heads["helpdesk"]).status_code == 403
    assert c.post(reset.format(ids["applicant_a"]), headers=heads["applicant_a"]).status_code == 403
    assert c.post(reset.format(ids["admin_b"]), headers=heads["office"]).status_code == 204


def test_unit_admin_creates_applicants_in_its_own_unit_only(
    setup: tuple[World, dict[str, dict[str, str]], str],
) -> None:
    from server_world import make_id

    world, heads, _ = setup
    c = world.client()
    new = {"id_number": make_id("19930303", 321), "name": "新人"}
    spoof = c.post(
        "/users", json={**new, "unit_id": str(world.units["B"])}, headers=heads["admin_a"]
    )
    assert spoof.status_code == 422  # a unit is never taken from the request
    made = c.post("/users", json=new, headers=heads["admin_a"])
    assert made.status_code == 201
    assert made.json()["unit_id"] == str(world.units["A"])
    assert made.json()["must_change_password"] is True
    assert c.post("/users", json=new, headers=heads["admin_a"]).status_code == 409
    bad = c.post(
        "/users", json={**new, "id_number": new["id_number"][:-1] + "0"}, headers=heads["admin_a"]
    )
    assert bad.status_code == 422  # a wrong check digit, refused before any lookup
    for role in ("applicant_a", "office", "helpdesk"):
        assert c.post("/users", json=new, headers=heads[role]).status_code == 403


def test_only_applicants_create_applications(
    setup: tuple[World, dict[str, dict[str, str]], str],
) -> None:
    world, heads, _ = setup
    for role in ("admin_a", "office", "helpdesk"):
        r = world.client().post("/applications", json={"year": this_year()}, headers=heads[role])
        assert r.status_code == 403


def test_r3_1_phone_numbers_are_validated(world: World) -> None:
    """The TUI's 手机号码 validator guards the API and zctui admin too."""
    from sqlalchemy.orm import Session

    from zctui.server import admin

    h = world.ready("admin_a")
    bad = {"id_number": make_id("19940404", 141), "name": "电话", "phone": "1381234567x"}
    r = world.client().post("/users", json=bad, headers=h)
    assert r.status_code == 422
    assert "手机号码只能包含数字" in r.json()["detail"]
    ok = world.client().post("/users", json={**bad, "phone": " 13912345678 "}, headers=h)
    assert ok.status_code == 201, ok.text
    assert ok.json()["phone"] == "13912345678"
    with Session(world.engine) as db, pytest.raises(admin.AdminError, match="第 2 位应为 3–9"):
        admin.create_account(
            db, world.sec, id_number=make_id("19940404", 143), name="电话二",
            unit=UNIT_A, phone="12912345678",
        )  # fmt: skip
