"""The unit's review end to end against the real server in-process (issue 7, R12), on SQLite
and PostgreSQL: the applicant submits from a workspace; the unit admin's queue lists it;
opening it locks it (R12.2: withdrawing is refused, edits synced afterwards come back
`locked`); the admin returns it with reasons per item; the applicant's sync brings the
reasons; the applicant fixes and resubmits; the admin approves; the title office accepts,
passes and issues a certificate that the public lookup finds; the audit trail shows every
step. And the unit's accounts: opening one lets the unit enter that person's data."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from server_world import UNIT_A, World, make_id, this_year
from sync_world import Workspace
from zctui.data.forms import load_forms
from zctui.demo import build_complete
from zctui.domain.models import Application
from zctui.domain.validators import DEFAULT_PASSWORD
from zctui.store.blobs import BlobStore
from zctui.store.outbox import open_issues
from zctui.sync.api import ApiError, ReturnItem, ServerApi
from zctui.widgets.return_reasons import reasons_text


def api_for(world: World, key: str) -> ServerApi:
    token = world.ready(key)["Authorization"].removeprefix("Bearer ")
    return ServerApi("http://testserver", token, client=world.client())


def _state(ws: Workspace, app_id: uuid.UUID) -> Application:
    row = ws.store.get(Application, app_id)
    assert row is not None
    return row


def test_r12_submit_open_return_fix_resubmit_approve_certificate(
    world: World, tmp_path: Path
) -> None:
    me = world.ready("applicant_a")
    laptop = Workspace(tmp_path / "laptop" / "ws.sqlite3", world.client(), me)
    app = build_complete(laptop.store, BlobStore(tmp_path / "laptop" / "blobs"), this_year())
    laptop.sync()
    info = laptop.store.single("basic_info", app.id)

    # The applicant submits in the workspace; the sync carries it (a workflow action).
    laptop.store.set_field("application", app.id, "state", "submitted")
    assert laptop.sync().issues == []
    admin = api_for(world, "admin_a")
    [queued] = admin.applications("submitted")
    assert (queued.id, queued.name, queued.state) == (app.id, "杨丰", "submitted")
    assert queued.submitted_at is not None
    assert admin.applications("submitted") == [queued]  # the other unit's admin sees none
    assert api_for(world, "admin_b").applications("submitted") == []

    # R12.2: once opened, the applicant can no longer withdraw, nor change it by sync.
    assert admin.act(app.id, "open").state == "unit_opened"
    mine = api_for(world, "applicant_a")
    with pytest.raises(ApiError, match="单位审核中") as refused:
        mine.act(app.id, "withdraw")
    assert refused.value.status == 409
    laptop.store.set_field("basic_info", info.id, "mobile", "13900000000")
    report = laptop.sync()
    assert [i.kind for i in report.issues] == ["locked"]
    assert "R12.2" in report.issues[0].message
    assert _state(laptop, app.id).state == "unit_opened"

    # Returned with a reason per item; an empty return is refused with what is expected.
    with pytest.raises(ApiError, match="逐项写明原因"):
        admin.act(app.id, "return")
    items = [
        ReturnItem(section="basic", field="mobile", reason="手机号码不是本人的，请改为本人手机"),
        ReturnItem(section="paper", reason="论文的刊物封面扫描不清楚，请重新上传"),
    ]
    assert admin.act(app.id, "return", items=items).state == "unit_returned"

    # The applicant's sync brings the state and the reasons, section and field by label.
    laptop.sync()
    returned = _state(laptop, app.id)
    assert returned.state == "unit_returned"
    assert returned.return_items == [i.model_dump() for i in items]
    text = reasons_text(load_forms(), returned.return_items or [])
    assert "「个人基本信息」手机号码：手机号码不是本人的" in text
    assert "「论文」：论文的刊物封面扫描不清楚" in text

    # Fixed and submitted again: the reasons are cleared with the new submission.
    laptop.store.set_field("basic_info", info.id, "mobile", "13722223333")
    laptop.store.set_field("application", app.id, "state", "submitted")
    report = laptop.sync()
    assert [i.kind for i in report.issues] == []
    again = admin.application(app.id)
    assert again.state == "submitted" and again.return_items == []
    laptop.sync()
    assert _state(laptop, app.id).return_items == []

    admin.act(app.id, "open")
    assert admin.act(app.id, "approve").state == "unit_approved"
    with pytest.raises(ApiError, match="不能「单位退回」"):  # it has left the unit
        admin.act(app.id, "return", items=items)
    laptop.sync()
    assert _state(laptop, app.id).state == "unit_approved"

    # The title office's half: accepted, passed, a certificate anyone can look up.
    office = api_for(world, "office")
    assert office.act(app.id, "accept").state == "office_review"
    assert office.act(app.id, "pass").state == "approved"
    issued = office.office_action(str(app.id), "issue", certificate_number="冀职证2026-0007")
    assert issued["state"] == "certificate_issued"
    found = world.client().post(
        "/public/certificates/lookup", json={"number": "冀职证2026-0007", "name": "杨丰"}
    )
    assert found.status_code == 200, found.text
    assert found.json()["name"] == "杨丰" and found.json()["unit_name"] == UNIT_A
    laptop.sync()
    assert _state(laptop, app.id).state == "certificate_issued"

    trail = [(a.event, a.from_state, a.to_state) for a in admin.audit(app.id)]
    assert trail[1:] == [
        ("workflow.submit", "draft", "submitted"),
        ("workflow.open", "submitted", "unit_opened"),
        ("workflow.return", "unit_opened", "unit_returned"),
        ("workflow.submit", "unit_returned", "submitted"),
        ("workflow.open", "submitted", "unit_opened"),
        ("workflow.approve", "unit_opened", "unit_approved"),
        ("workflow.accept", "unit_approved", "office_review"),
        ("workflow.pass", "office_review", "approved"),
        ("workflow.issue", "approved", "certificate_issued"),
    ]
    [returned_entry] = [a for a in admin.audit(app.id) if a.event == "workflow.return"]
    assert returned_entry.reason is not None and "手机号码不是本人的" in returned_entry.reason
    assert len(open_issues(laptop.store)) == 1  # the locked edit is kept, not lost
    laptop.close()


def test_r1_3_unit_opens_an_account_then_enters_the_person_s_data(
    world: World, tmp_path: Path
) -> None:
    """A unit admin's rows for someone without an account are refused; once the admin
    opens the account (default password, must change), the same rows sync."""
    admin = api_for(world, "admin_a")
    ident = make_id("19920202", 311)
    unit = Workspace(tmp_path / "unit" / "ws.sqlite3", world.client(), world.ready("admin_a"))
    person = unit.store.create_person(ident, "陈静")
    unit.store.create_application(person, this_year(), series="230.zy", review_mode="review")
    refused = unit.sync().issues
    assert refused and "请先在本单位为其开通帐号" in refused[0].message

    with pytest.raises(ApiError, match="身份证号"):
        admin.create_user("130902199202023119", "陈静")  # a wrong check digit
    made = admin.create_user(ident, "陈静", "13812345678")
    assert made.must_change_password and made.role == "applicant"
    with pytest.raises(ApiError, match="已有帐号"):
        admin.create_user(ident, "陈静")
    assert ident in [u.id_number for u in admin.users()]

    # The refused rows are kept; the same data made again now goes through.
    again = Workspace(tmp_path / "unit2" / "ws.sqlite3", world.client(), world.ready("admin_a"))
    p2 = again.store.create_person(ident, "陈静")
    a2 = again.store.create_application(p2, this_year(), series="230.zy", review_mode="review")
    assert again.sync().issues == []
    assert [a.id for a in admin.applications("draft")] == [a2.id]

    # R1.3: a reset puts the default back; the person must change it at the next login.
    login = world.client().post(
        "/auth/login", json={"id_number": ident, "password": DEFAULT_PASSWORD}
    )
    assert login.status_code == 200 and login.json()["must_change_password"]
    admin.reset_password(made.id)
    with pytest.raises(ApiError, match="只能重置本单位申报人"):
        admin.reset_password(world.people["admin_a"].id)
    with pytest.raises(ApiError, match="找不到该帐号"):
        admin.reset_password(world.people["applicant_b"].id)  # another unit's person
    events = _account_audit(world, made.id)
    assert events == ["account.created", "password.reset"]
    unit.close()
    again.close()


def _account_audit(world: World, account_id: object) -> list[str]:
    from sqlalchemy import select
    from sqlalchemy.orm import Session
    from sqlmodel import col

    from zctui.server.models import Audit

    with Session(world.engine) as db:
        q = (
            select(col(Audit.event))
            .where(col(Audit.subject_id) == account_id)
            .order_by(col(Audit.id))
        )
        return [e for e in db.scalars(q) if e.startswith(("account.", "password."))]
