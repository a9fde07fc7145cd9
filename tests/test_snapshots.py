"""SVG snapshots of the main screens at 80×24 and 120×40 (update with --snapshot-update,
after looking at the pictures)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from zctui.app import ZctuiApp, create_app
from zctui.demo import build_demo
from zctui.screens.main import MainScreen
from zctui.widgets.checklist_sidebar import Target

SIZES = [(80, 24), (120, 40)]


def demo_app(tmp_path: Path, which: int) -> ZctuiApp:
    path = tmp_path / "ws.sqlite3"
    apps = build_demo(path, year=2026)
    return create_app(path, application_id=apps[which].id)


def go(target: Target) -> Callable[[Pilot[None]], object]:
    async def run(pilot: Pilot[None]) -> None:
        assert isinstance(pilot.app, ZctuiApp)
        await pilot.app.ready()
        await pilot.pause()
        screen = pilot.app.screen
        assert isinstance(screen, MainScreen)
        while not screen.prebuilt:  # the hidden panes are built in idle moments
            await pilot.pause(0.05)
        await screen._open_and_focus(target)
        await pilot.pause()
        assert screen.session.flush()  # the picture shows 已保存, not a save in flight
        await pilot.wait_for_scheduled_animations()  # scrolling to the focused widget
        focused = pilot.app.focused
        if focused is not None and hasattr(focused, "cursor_blink"):
            focused.cursor_blink = False  # the picture shows the cursor, not a blink phase
        await pilot.pause()

    return run


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_basic_info_complete(
    snap_compare: Callable[..., bool], tmp_path: Path, size: tuple[int, int]
) -> None:
    assert snap_compare(
        demo_app(tmp_path, 0), terminal_size=size, run_before=go(("section", "basic"))
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_settings_half_done_shows_r2_5(
    snap_compare: Callable[..., bool], tmp_path: Path, size: tuple[int, int]
) -> None:
    assert snap_compare(
        demo_app(tmp_path, 1), terminal_size=size, run_before=go(("section", "settings"))
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_paper_list(
    snap_compare: Callable[..., bool], tmp_path: Path, size: tuple[int, int]
) -> None:
    assert snap_compare(
        demo_app(tmp_path, 0), terminal_size=size, run_before=go(("section", "paper"))
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_submit_half_done(
    snap_compare: Callable[..., bool], tmp_path: Path, size: tuple[int, int]
) -> None:
    assert snap_compare(demo_app(tmp_path, 1), terminal_size=size, run_before=go(("step", "12")))
