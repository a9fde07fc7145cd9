"""Each role's first screen after a real login to a real server (issues 7 and 8): the title
office lands on its queue and opens a forwarded application in full, read-only, after a
sync; the helpdesk lands on its lookup and syncs nothing (it may change nothing)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from server_world import NEW_PASSWORD, World, live_server, this_year
from sync_world import Workspace
from zctui.app import ZctuiApp, create_app
from zctui.demo import build_complete
from zctui.screens.helpdesk import HelpdeskScreen
from zctui.screens.main import MainScreen
from zctui.screens.office import OfficeScreen
from zctui.store.blobs import BlobStore
from zctui.sync.connect import connector
from zctui.sync.http_auth import HttpAuthClient

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.parametrize("server_engine", ["sqlite"], indirect=True),
]


@pytest.fixture
def served(world: World) -> Iterator[str]:
    with live_server(world.app) as url:
        yield url


def _forwarded(world: World, tmp_path: Path) -> uuid.UUID:
    """杨丰's complete application, synced, submitted, opened and approved by the unit."""
    laptop = Workspace(
        tmp_path / "laptop" / "ws.sqlite3", world.client(), world.ready("applicant_a")
    )
    app = build_complete(laptop.store, BlobStore(tmp_path / "laptop" / "blobs"), this_year())
    laptop.sync()
    laptop.store.set_field("application", app.id, "state", "submitted")
    assert laptop.sync().issues == []
    laptop.close()
    admin = world.ready("admin_a")
    for action in ("open", "approve"):
        r = world.client().post(f"/applications/{app.id}/{action}", headers=admin)
        assert r.status_code == 200, r.text
    return app.id


async def _settled(pilot: Pilot[None], app: ZctuiApp, until: Any) -> None:
    deadline = time.monotonic() + 20
    while not until() and time.monotonic() < deadline:
        await app.workers.wait_for_complete()
        await pilot.pause(0.05)


async def _login(pilot: Pilot[None], tui: ZctuiApp, id_number: str) -> None:
    tui.screen.query_one("#id-number", Input).focus()
    await pilot.press(*id_number)
    tui.screen.query_one("#password", Input).focus()
    await pilot.press(*NEW_PASSWORD, "enter")


def _tui(served: str, path: Path) -> ZctuiApp:
    return create_app(
        path, auth=HttpAuthClient(served), connect=connector(served, path), server_url=served
    )


async def test_r12_the_office_lands_on_its_queue_and_reads_an_application_in_full(
    world: World, served: str, tmp_path: Path
) -> None:
    app_id = _forwarded(world, tmp_path)
    world.ready("office")
    tui = _tui(served, tmp_path / "office" / "ws.sqlite3")
    async with tui.run_test(size=(140, 40)) as pilot:
        await _login(pilot, tui, world.people["office"].id_number)
        await _settled(pilot, tui, lambda: isinstance(tui.screen, OfficeScreen))
        queue = tui.screen
        assert isinstance(queue, OfficeScreen)
        table = queue.query_one(DataTable)
        await _settled(pilot, tui, lambda: table.row_count == 1)
        assert "杨丰" in [str(c) for c in table.get_row_at(0)]
        table.focus()
        await pilot.press("enter")  # a sync, then the whole application
        await _settled(pilot, tui, lambda: isinstance(tui.screen, MainScreen))
        shown = tui.screen
        assert isinstance(shown, MainScreen)
        assert shown.session.application_id == app_id
        assert shown.session.read_only  # the office reads, never edits the content
        await pilot.press("f9")  # back to the queue
        await _settled(pilot, tui, lambda: tui.screen is queue)
        assert tui.screen is queue


async def test_helpdesk_lands_on_the_lookup_and_syncs_nothing(
    world: World, served: str, tmp_path: Path
) -> None:
    world.ready("helpdesk")
    path = tmp_path / "desk" / "ws.sqlite3"
    tui = _tui(served, path)
    async with tui.run_test(size=(140, 40)) as pilot:
        await _login(pilot, tui, world.people["helpdesk"].id_number)
        await _settled(pilot, tui, lambda: isinstance(tui.screen, HelpdeskScreen))
        assert isinstance(tui.screen, HelpdeskScreen)
        assert tui.syncer is None  # read-only by role: no sync loop, no outbox
        assert not tui.check_action("sync", ())  # and Ctrl+Y is not offered
