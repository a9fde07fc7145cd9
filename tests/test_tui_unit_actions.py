"""The unit administrator's keys on the applicants table (issue 7): F6 opens the annual
appraisal grid for exactly the people the filter shows, F8 the batch import, Ctrl+O the
overview table (一览表). Letters stay free for the filter."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from unit_world import Unit, fill_unit
from zctui.app import ZctuiApp, create_app
from zctui.screens.applicants import ApplicantsScreen
from zctui.screens.grid import GridScreen
from zctui.screens.import_screen import ImportScreen
from zctui.screens.overview_export import OverviewExportScreen
from zctui.store.repository import Store

SIZE = (140, 30)


@pytest.fixture
def unit(tmp_path: Path) -> tuple[Path, Unit]:
    path = tmp_path / "ws.sqlite3"
    with Store(path) as store:
        unit = fill_unit(store, 40)
    return path, unit


async def _table(pilot: Pilot[None], app: ZctuiApp) -> ApplicantsScreen:
    screen = app.screen
    assert isinstance(screen, ApplicantsScreen)
    for _ in range(300):
        if screen.loaded:
            break
        await pilot.pause(0.02)
    await pilot.pause()
    return screen


async def test_f6_opens_the_r8_1_grid_for_the_people_the_filter_shows(
    unit: tuple[Path, Unit],
) -> None:
    """R8.1: filtering by zs (张三…) and pressing F6 puts only 张三 in the appraisal grid; Esc comes
    back to the table with the filter kept."""
    path, u = unit
    app = create_app(path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _table(pilot, app)
        await pilot.press("z", "s")
        await pilot.pause(0.2)
        shown = screen.table.keys
        assert u.zhang_san in shown and len(shown) < 40
        await pilot.press("f6")
        await pilot.pause()
        grid = app.screen
        assert isinstance(grid, GridScreen)
        assert grid.application_ids == shown
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        assert screen.table.filter_text == "zs"


async def test_f8_opens_the_import_and_ctrl_o_the_overview_export(
    unit: tuple[Path, Unit],
) -> None:
    path, _ = unit
    app = create_app(path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _table(pilot, app)
        screen.table.focus()
        await pilot.press("f8")
        await pilot.pause()
        assert isinstance(app.screen, ImportScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, OverviewExportScreen)
