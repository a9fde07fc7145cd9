"""Public reads (通知公告, 政策文件, 证书查询) and the hygiene of issue 5: capped bodies,
unknown fields refused, no CORS, generic errors, nothing secret in the log."""

from __future__ import annotations

import logging

import pytest

from server_world import NEW_PASSWORD, World
from zctui.domain.validators import DEFAULT_PASSWORD


def test_r1_4_announcements_and_policies(world: World) -> None:
    h = world.ready("office")
    c = world.client()
    for kind, title in (
        ("announcement", "关于2025年度职称申报的通知"),
        ("policy", "冀人社发〔2019〕28号"),
    ):
        assert (
            c.post("/publications", json={"kind": kind, "title": title}, headers=h).status_code
            == 201
        )
    ann = c.get("/public/announcements").json()
    pol = c.get("/public/policies").json()
    assert [a["title"] for a in ann] == ["关于2025年度职称申报的通知"]
    assert [p["title"] for p in pol] == ["冀人社发〔2019〕28号"]
    assert c.post("/publications", json={"kind": "policy", "title": "x"}).status_code == 401


def test_certificate_lookup_unknown_is_404_in_chinese(world: World) -> None:
    r = world.client().post("/public/certificates/lookup", json={"number": "1", "name": "张三"})
    assert r.status_code == 404 and "证书编号" in r.json()["detail"]


def test_body_cap(world: World) -> None:
    limit = world.sec.settings.max_body_bytes
    big = "x" * (limit + 1)
    r = world.client().post(
        "/auth/login", content=big, headers={"content-type": "application/json"}
    )
    assert r.status_code == 413 and str(limit) in r.json()["detail"]

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(limit // 1000 + 2):
            yield b"x" * 1000

    r = world.client().post(
        "/auth/login", content=chunks(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 413


def test_unknown_fields_and_bad_bodies_get_generic_chinese_errors(world: World) -> None:
    c = world.client()
    r = c.post("/auth/login", json={"id_number": "x", "password": "secret#1", "admin": True})
    assert r.status_code == 422
    assert "admin" in r.json()["detail"] and "secret#1" not in r.text
    r = c.post("/auth/login", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "JSON" in r.json()["detail"]
    assert set(c.get("/nowhere").json()) == {"detail"}


def test_no_cors(world: World) -> None:
    r = world.client().options(
        "/auth/login",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in r.headers


def test_log_has_no_passwords_tokens_or_id_numbers(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    id_number = world.people["applicant_a"].id_number
    c = world.client()
    token = c.post(
        "/auth/login", json={"id_number": id_number, "password": DEFAULT_PASSWORD}
    ).json()["token"]
    c.post(
        "/auth/password",
        json={"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
        headers={"Authorization": f"Bearer {token}"},
    )
    c.post("/auth/login", json={"id_number": id_number, "password": "wrong#Pass1"})
    c.post("/public/certificates/lookup", json={"number": "N1", "name": "杨丰"})
    text = caplog.text
    assert "/auth/login" in text  # the log is there …
    for secret in (DEFAULT_PASSWORD, NEW_PASSWORD, "wrong#Pass1", token, id_number, "杨丰"):
        assert secret not in text  # … and holds none of these


def test_nul_in_text_is_refused_not_a_database_error(world: World) -> None:
    # Found by schemathesis: PostgreSQL text cannot hold NUL.
    r = world.client().post("/public/certificates/lookup", json={"number": "\x00", "name": "0"})
    assert r.status_code == 422 and "空字符" in r.json()["detail"]
