"""The TUI connected to a server (issue 6): after login it pulls the application typed on
another computer; the header says whether it is synced; an edit reaches the server; after
the unit opens the application (R12.2) the form turns read-only and an edit made before
the lock arrived is listed on F7 with what the user typed."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from textual.pilot import Pilot
from textual.widgets import Input

from server_world import NEW_PASSWORD, World, this_year
from sync_world import Workspace
from zctui.app import ZctuiApp, create_app
from zctui.demo import build_complete
from zctui.screens.main import MainScreen
from zctui.screens.sync_issues import SyncIssuesScreen
from zctui.server.models import SECTION_TABLES
from zctui.store.blobs import BlobStore
from zctui.sync.engine import SyncReport
from zctui.sync.http_auth import HttpAuthClient
from zctui.widgets.field_row import FieldRow

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


class WireSyncs:
    """`Syncs` over the in-process server (the real transport is tested apart)."""

    def __init__(self, world: World, path: Path, token: str) -> None:
        self.ws = Workspace(path, world.client(), {"Authorization": f"Bearer {token}"})

    def sync(self) -> SyncReport:
        return self.ws.sync()

    def close(self) -> None:
        self.ws.close()


async def _settled(pilot: Pilot[None], app: ZctuiApp) -> None:
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def _retype(pilot: Pilot[None], screen: MainScreen, field: str, text: str) -> None:
    row = screen.query_one(f"#field-{field}", FieldRow)
    row.focus_editor()
    editor = row.query_one(Input)
    await pilot.press("end", *["backspace"] * len(editor.value), *text)


def _server_mobile(world: World, row_id: object) -> str | None:
    t = SECTION_TABLES["basic_info"]
    with Session(world.engine) as db:
        return db.execute(select(t.c.mobile).where(t.c.id == row_id)).scalar()


async def test_tui_pulls_syncs_and_shows_the_unit_s_lock(world: World, tmp_path: Path) -> None:
    me = world.ready("applicant_a")
    laptop = Workspace(tmp_path / "laptop" / "ws.sqlite3", world.client(), me)
    app_row = build_complete(laptop.store, BlobStore(tmp_path / "laptop" / "blobs"), this_year())
    laptop.sync()
    info_id = laptop.store.single("basic_info", app_row.id).id

    path = tmp_path / "tui" / "ws.sqlite3"
    tui = create_app(
        path,
        auth=HttpAuthClient("http://testserver", client=world.client()),
        connect=lambda token: WireSyncs(world, path, token),
    )
    async with tui.run_test(size=(110, 32)) as pilot:
        tui.screen.query_one("#id-number", Input).focus()
        await pilot.press(*world.people["applicant_a"].id_number)
        tui.screen.query_one("#password", Input).focus()
        await pilot.press(*NEW_PASSWORD, "enter")
        await _settled(pilot, tui)
        screen = tui.screen
        assert isinstance(screen, MainScreen)  # the application typed on the laptop
        assert screen.session.application_id == app_row.id
        assert "已同步" in str(screen.sub_title)

        await _retype(pilot, screen, "mobile", "13722223333")
        await pilot.press("ctrl+y")
        await _settled(pilot, tui)
        assert _server_mobile(world, info_id) == "13722223333"

        # The applicant submits elsewhere, the unit opens it; meanwhile another edit here.
        c = world.client()
        assert c.post(f"/applications/{app_row.id}/submit", headers=me).status_code == 200
        admin = world.ready("admin_a")
        assert c.post(f"/applications/{app_row.id}/open", headers=admin).status_code == 200
        await _retype(pilot, screen, "mobile", "13900000000")
        await pilot.press("ctrl+y")
        await _settled(pilot, tui)
        assert _server_mobile(world, info_id) == "13722223333"
        assert "1 项修改被拒绝" in str(screen.sub_title)
        assert screen.session.read_only
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not screen.query(FieldRow):
            await pilot.pause()
        assert all(r.read_only for r in screen.query(FieldRow))

        await pilot.press("f7")
        await pilot.pause()
        issues = tui.screen
        assert isinstance(issues, SyncIssuesScreen)
        mine = str(issues.query_one("#mine").render())
        assert "13900000000" in mine
        assert "R12.2" in str(issues.query_one("#message").render())
        await pilot.press("enter")  # acknowledged: the list empties and closes
        await pilot.pause()
        assert tui.screen is screen
        assert "被拒绝" not in str(screen.sub_title)
