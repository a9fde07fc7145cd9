"""`zctui sync` (issue 6) against the real server over HTTP: the first run logs in (the
password from ZCTUI_PASSWORD, as a script would give it) and pushes the workspace; the next
run reuses the saved session; an edit after the unit opened the application (R12.2) is
listed as refused and the exit code says something needs the user."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flaky_proxy import LiveServer
from server_world import NEW_PASSWORD, World, this_year
from zctui.cli import app as cli
from zctui.demo import build_complete
from zctui.store.blobs import BlobStore
from zctui.store.repository import Store

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_zctui_sync_pushes_reuses_its_session_and_lists_refused_edits(
    world: World, world_server: LiveServer, tmp_path: Path
) -> None:
    world.ready("applicant_a")  # the account has left its default password
    db = tmp_path / "ws" / "ws.sqlite3"
    with Store(db) as store:
        app = build_complete(store, BlobStore(db.parent / "blobs"), this_year())
        info_id = store.single("basic_info", app.id).id
    ident = world.people["applicant_a"].id_number
    run = CliRunner().invoke
    first = run(
        cli,
        ["--db", str(db), "sync", "--server", world_server.url, "--id-number", ident],
        env={"ZCTUI_PASSWORD": NEW_PASSWORD},
    )
    assert first.exit_code == 0, first.output
    assert "上传" in first.output and "下载" in first.output
    session = db.parent / ".zctui-session"
    assert stat.S_IMODE(session.stat().st_mode) == 0o600  # the token, for its owner only
    admin = world.ready("admin_a")
    listed = world.client().get("/applications", headers=admin).json()
    assert [a["id"] for a in listed] == [str(app.id)]

    me = world.ready("applicant_a")
    c = world.client()
    assert c.post(f"/applications/{app.id}/submit", headers=me).status_code == 200
    assert c.post(f"/applications/{app.id}/open", headers=admin).status_code == 200
    with Store(db) as store:
        store.set_field("basic_info", info_id, "mobile", "13900000000")
    again = run(cli, ["--db", str(db), "sync", "--server", world_server.url])  # no password
    assert again.exit_code == 1, again.output
    assert "已锁定" in again.output and "F7" in again.output


def test_zctui_sync_without_a_server_says_how_to_name_one(tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["--db", str(tmp_path / "ws.sqlite3"), "sync"])
    assert r.exit_code == 2
    assert "--server" in r.output and "ZCTUI_SERVER_URL" in r.output
