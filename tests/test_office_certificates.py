"""The title office's end of R12 on the server: certificate numbers (generated from the
configured format, a sequence per year, unique under concurrency), the office's results,
and the public certificate lookup (证书查询) finding what was issued."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from server_world import World, approved, complete_application, settings, this_year
from zctui.cli import app as cli
from zctui.server import certificates, changes
from zctui.server.app import create_app
from zctui.server.settings import ServerSettings


def test_r12_office_flow_end_to_end_to_the_public_lookup(world: World, tmp_path: Path) -> None:
    """A unit-approved application: the office accepts it, records 评审通过, issues the
    certificate without typing a number; the number is the configured format's first of
    the year, and anyone finds the certificate by number and name (证书查询)."""
    ha, hu, ho = (world.ready(k) for k in ("applicant_a", "admin_a", "office"))
    c = world.client()
    app_id = complete_application(world, ha, tmp_path)
    for h, action in ((ha, "submit"), (hu, "open"), (hu, "approve")):
        assert c.post(f"/applications/{app_id}/{action}", headers=h).status_code == 200
    queue = c.get("/applications", params={"state": "unit_approved"}, headers=ho).json()
    assert [a["id"] for a in queue] == [app_id]
    # Out of order: the office cannot pass or issue what it has not accepted.
    for action in ("pass", "issue"):
        r = c.post(f"/applications/{app_id}/{action}", json={}, headers=ho)
        assert r.status_code == 409 and "「单位已通过」" in r.json()["detail"]
    assert c.post(f"/applications/{app_id}/accept", headers=ho).json()["state"] == "office_review"
    assert c.post(f"/applications/{app_id}/pass", headers=ho).json()["state"] == "approved"
    issued = c.post(f"/applications/{app_id}/issue", json={}, headers=ho).json()
    number = f"冀职{this_year()}000001"
    assert issued["state"] == "certificate_issued"
    assert issued["certificate_number"] == number
    assert c.get(f"/applications/{app_id}", headers=ha).json()["certificate_number"] == number
    found = c.post("/public/certificates/lookup", json={"number": number, "name": "杨丰"})
    assert found.status_code == 200
    assert found.json()["number"] == number and found.json()["unit_name"] == "沧州市中西医结合医院"
    trail = c.get(f"/applications/{app_id}/audit", headers=ho).json()
    assert [e["event"] for e in trail][-3:] == [
        "workflow.accept",
        "workflow.pass",
        "workflow.issue",
    ]
    assert {e["actor_role"] for e in trail[-3:]} == {"office"}


def test_r12_office_reject_needs_a_reason_and_the_unit_cannot_judge(
    world: World, tmp_path: Path
) -> None:
    ha, hu, ho = (world.ready(k) for k in ("applicant_a", "admin_a", "office"))
    c = world.client()
    app_id = complete_application(world, ha, tmp_path)
    for h, action in ((ha, "submit"), (hu, "open"), (hu, "approve"), (ho, "accept")):
        assert c.post(f"/applications/{app_id}/{action}", headers=h).status_code == 200
    refused = c.post(f"/applications/{app_id}/pass", headers=hu)
    assert refused.status_code == 403 and "职改办" in refused.json()["detail"]
    no_reason = c.post(f"/applications/{app_id}/reject", json={}, headers=ho)
    assert no_reason.status_code == 422 and "原因" in no_reason.json()["detail"]
    r = c.post(f"/applications/{app_id}/reject", json={"reason": "业绩不符合条件"}, headers=ho)
    assert r.json()["state"] == "rejected"
    trail = c.get(f"/applications/{app_id}/audit", headers=ho).json()
    assert trail[-1]["event"] == "workflow.reject" and trail[-1]["reason"] == "业绩不符合条件"
    # A rejected application gets no certificate, and another city's office sees nothing.
    assert c.post(f"/applications/{app_id}/issue", json={}, headers=ho).status_code == 409
    other = world.ready("other_office")
    assert c.post(f"/applications/{app_id}/issue", json={}, headers=other).status_code == 404


def test_certificate_numbers_count_per_year_and_take_a_typed_number(world: World) -> None:
    ho = world.ready("office")
    c = world.client()
    year = this_year()
    first, typed, third = (
        approved(world, k) for k in ("applicant_a", "applicant_b", "applicant_c")
    )
    # The office types the number the format would make next: the generator skips it.
    typed_number = f"冀职{year}000002"
    r = c.post(
        f"/applications/{typed}/issue", json={"certificate_number": typed_number}, headers=ho
    )
    assert r.json()["certificate_number"] == typed_number
    assert c.post(f"/applications/{first}/issue", headers=ho).json()["certificate_number"] == (
        f"冀职{year}000001"
    )
    assert c.post(f"/applications/{third}/issue", headers=ho).json()["certificate_number"] == (
        f"冀职{year}000003"
    )
    # Another year starts again at 1.
    last = approved(world, "applicant_a", year - 1)
    assert c.post(f"/applications/{last}/issue", headers=ho).json()["certificate_number"] == (
        f"冀职{year - 1}000001"
    )


def test_a_typed_certificate_number_already_used_is_refused(world: World) -> None:
    ho = world.ready("office")
    c = world.client()
    a, b = approved(world, "applicant_a"), approved(world, "applicant_b")
    body = {"certificate_number": "冀职证2025-0001"}
    assert c.post(f"/applications/{a}/issue", json=body, headers=ho).status_code == 200
    again = c.post(f"/applications/{b}/issue", json=body, headers=ho)
    assert again.status_code == 409
    assert "冀职证2025-0001 已被使用" in again.json()["detail"]
    assert c.get(f"/applications/{b}", headers=ho).json()["state"] == "approved"


def test_two_issues_at_once_get_different_numbers(world: World) -> None:
    """Two office users' issue requests in parallel threads: both succeed, numbers differ."""
    ho = world.ready("office")
    ids = [approved(world, k) for k in ("applicant_a", "applicant_b", "applicant_c", "applicant_d")]
    start = threading.Barrier(len(ids))
    numbers: dict[str, str] = {}

    def issue(app_id: str) -> None:
        client = world.client()
        start.wait()
        r = client.post(f"/applications/{app_id}/issue", headers=ho)
        assert r.status_code == 200, r.text
        numbers[app_id] = r.json()["certificate_number"]

    threads = [threading.Thread(target=issue, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(numbers) == len(ids)
    assert sorted(numbers.values()) == [f"冀职{this_year()}{i:06d}" for i in range(1, 5)]


def test_a_second_issuer_waits_for_the_first_on_postgresql(pg_engine: Engine) -> None:
    """The sequence row is locked until the first transaction ends: the second one, started
    meanwhile, gets the next number, never the same one."""
    from zctui.server.db import migrate

    migrate(pg_engine)
    got: list[str] = []
    first = Session(pg_engine)
    changes.next_change(first)
    got.append(certificates.next_number(first, certificates.DEFAULT_FORMAT, 2026))

    def second() -> None:
        with Session(pg_engine) as db:
            changes.next_change(db)
            got.append(certificates.next_number(db, certificates.DEFAULT_FORMAT, 2026))
            db.commit()

    t = threading.Thread(target=second)
    t.start()
    t.join(0.5)
    assert t.is_alive(), "the second issuer must wait for the first to commit"
    first.commit()
    first.close()
    t.join(10)
    assert got == ["冀职2026000001", "冀职2026000002"]


@pytest.mark.parametrize(
    ("fmt", "says"),
    [
        ("冀职{year}", "没有序号 {seq}"),
        ("冀职{year}{name}{seq}", "不认识的项 {name}"),
        ("冀职{seq:06q}", "无法生成编号"),
        ("冀职{year", "写法有误"),
        ("冀" * 40 + "{seq}", "1 到 40 个字符"),
    ],
)
def test_a_bad_certificate_format_stops_the_server(fmt: str, says: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"证书编号格式") as caught:
        ServerSettings(data_dir=tmp_path, certificate_format=fmt)
    assert says in str(caught.value)


def test_zctui_serve_refuses_a_bad_certificate_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: pytest.fail("must not start"))
    monkeypatch.setenv("ZCTUI_SERVER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ZCTUI_SERVER_CERTIFICATE_FORMAT", "冀职{year}")
    r = CliRunner().invoke(cli, ["serve"])
    assert r.exit_code == 2
    assert "ZCTUI_SERVER_CERTIFICATE_FORMAT" in r.output and "没有序号 {seq}" in r.output


def test_a_format_without_year_never_restarts(server_engine: Engine, tmp_path: Path) -> None:
    app = create_app(settings(tmp_path, certificate_format="HB-{seq:04d}"), engine=server_engine)
    from server_world import build_world

    world = build_world(app, server_engine, app.state.security)
    ho = world.ready("office")
    a = approved(world, "applicant_a", this_year())
    b = approved(world, "applicant_b", this_year() - 1)
    c = world.client()
    got = [
        c.post(f"/applications/{i}/issue", headers=ho).json()["certificate_number"] for i in (a, b)
    ]
    assert got == ["HB-0001", "HB-0002"]
