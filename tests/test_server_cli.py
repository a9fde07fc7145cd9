"""`zctui admin` and the HTTP login client, against the real server (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from server_world import NEW_PASSWORD, UNIT_A, World, build_world, make_id
from zctui.cli import app as cli
from zctui.domain.validators import DEFAULT_PASSWORD
from zctui.sync.auth import AuthError
from zctui.sync.http_auth import HttpAuthClient


def test_r1_2_http_auth_client_against_the_server(world: World) -> None:
    person = world.people["applicant_a"]
    auth = HttpAuthClient("http://testserver", client=world.client())
    first = auth.login(person.id_number, DEFAULT_PASSWORD)
    assert first.must_change_password and first.name == person.name
    with pytest.raises(AuthError, match="不能继续使用初始密码"):
        auth.change_password(first.token, DEFAULT_PASSWORD, DEFAULT_PASSWORD)
    auth.change_password(first.token, DEFAULT_PASSWORD, NEW_PASSWORD)
    with pytest.raises(AuthError, match="身份证号或密码错误"):
        auth.login(person.id_number, DEFAULT_PASSWORD)
    assert auth.login(person.id_number, NEW_PASSWORD).must_change_password is False


def test_http_auth_client_unreachable() -> None:
    auth = HttpAuthClient("http://127.0.0.1:9", timeout=0.5)
    with pytest.raises(AuthError, match="连接不上服务器"):
        auth.login(make_id(), "x")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_admin_cli_units_users_import_reset(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'admin.sqlite3'}"
    else:
        engine = request.getfixturevalue("pg_engine")
        with engine.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar()
        # The test's fresh schema, selected through libpq's options in the URL.
        base = engine.url.render_as_string(hide_password=False)
        url = f"{base}?options=-csearch_path%3D{schema}"
    run = CliRunner().invoke
    db = ["--db", url]
    r = run(cli, ["admin", "unit", "沧州市职改办", "--kind", "office", "--city", "沧州市", *db])
    assert r.exit_code == 0, r.output
    r = run(cli, ["admin", "unit", UNIT_A, "--parent", "沧州市职改办", "--uscc", "bad", *db])
    assert r.exit_code == 2 and "统一社会信用代码" in r.output
    assert run(cli, ["admin", "unit", UNIT_A, "--parent", "沧州市职改办", *db]).exit_code == 0
    ok_id, dup_id = make_id("19900101", 11), make_id("19900101", 13)
    csv = tmp_path / "people.csv"
    csv.write_text(
        f"身份证号,姓名,手机\n{ok_id},甲,13800000000\n{dup_id},乙,\n{dup_id},丙,\n123,丁,\n,戊,\n"
        f"{make_id('19900101', 19)},己,1380000\n",
        encoding="utf-8",
    )
    r = run(cli, ["admin", "import", str(csv), "--unit", UNIT_A, *db])
    assert r.exit_code == 1
    assert "导入 2 个帐号，4 行有问题" in r.output
    for line in ("第 4 行", "第 5 行", "第 6 行"):
        assert line in r.output
    assert "第 7 行：手机号码应为 11 位数字" in r.output  # R3.1's validator, its own words
    r = run(cli, ["admin", "user", make_id("19800101", 15), "管理员", "--role", "unit_admin",
                  "--unit", UNIT_A, *db])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert run(cli, ["admin", "reset-password", ok_id, *db]).exit_code == 0
    r = run(cli, ["admin", "reset-password", make_id("19800101", 17), *db])
    assert r.exit_code == 2 and "找不到" in r.output


def test_issue5_serve_blobs_dir_is_where_attachments_are_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`zctui serve --blobs DIR`: an uploaded attachment lands in DIR (in the store's
    ab/cd/ layout), not in the data directory; the uploads under way are kept there too."""
    import uvicorn

    ran: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: ran.update(app=app, **kw))
    monkeypatch.setenv("ZCTUI_SERVER_DATA_DIR", str(tmp_path / "data"))
    for name, value in (("TIME_COST", "1"), ("MEMORY_COST", "1024"), ("PARALLELISM", "1")):
        monkeypatch.setenv(f"ZCTUI_SERVER_ARGON2_{name}", value)  # cheap hashes for the test
    blobs = tmp_path / "附件库"
    db = f"sqlite:///{tmp_path / 'serve.sqlite3'}"
    r = CliRunner().invoke(cli, ["serve", "--db", db, "--blobs", str(blobs), "--port", "8123"])
    assert r.exit_code == 0, r.output
    assert ran["port"] == 8123 and ran["server_header"] is False
    app = ran["app"]
    world = build_world(app, app.state.engine, app.state.security)
    headers = world.ready("applicant_a")
    data = b"%PDF-1.4 scanned certificate"
    sha = hashlib.sha256(data).hexdigest()
    r = world.client().patch(
        f"/v1/blobs/{sha}/upload",
        content=data,
        headers={
            **headers,
            "Upload-Offset": "0",
            "Upload-Length": str(len(data)),
            "Chunk-SHA256": sha,
            "Content-Type": "application/octet-stream",
        },
    )
    assert r.status_code == 201, r.text
    assert (blobs / sha[:2] / sha[2:4] / sha).read_bytes() == data
    assert not (tmp_path / "data" / "blobs").exists()
