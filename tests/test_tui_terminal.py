"""Terminal matters: Chinese input methods, slow links, the command palette."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from textual import events
from textual._xterm_parser import XTermParser
from textual.widgets import Input

from zctui.app import create_app
from zctui.demo import build_demo
from zctui.screens.main import MainScreen

COMMIT = "有很大差别的申报材料"  # one IME commit of ten characters


def test_kitty_protocol_off_before_textual_loads() -> None:
    """An IME commit of 5+ characters is garbled under the kitty protocol: zctui turns it
    off before Textual is imported, unless ZCTUI_KITTY_KEYS=1 asks for it."""
    code = (
        "import os, zctui, textual.constants as c; "
        "print(os.environ.get('TEXTUAL_DISABLE_KITTY_KEY'), c.DISABLE_KITTY_KEY)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXTUAL_", "ZCTUI_"))}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["1", "True"]
    on = subprocess.run(
        [sys.executable, "-c", code], env={**env, "ZCTUI_KITTY_KEYS": "1"},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert on.stdout.split() == ["None", "False"]


def test_long_ime_commit_arrives_intact() -> None:
    """Without the kitty protocol the terminal sends the commit as plain UTF-8: every
    character reaches the app as its own key, in order, nothing else."""
    keys = [m for m in XTermParser().feed(COMMIT) if isinstance(m, events.Key)]
    assert "".join(k.character or "" for k in keys) == COMMIT


async def test_ime_commit_typed_into_a_field(tmp_path: Path) -> None:
    path = tmp_path / "ws.sqlite3"
    _, half = build_demo(path, year=2026)
    app = create_app(path, application_id=half.id)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, MainScreen)
        await screen._open_and_focus(("section", "status"))
        await pilot.press(*COMMIT)
        await pilot.pause()
        focused = app.focused
        assert isinstance(focused, Input) and focused.value == COMMIT


async def test_low_bandwidth_mode_keeps_the_cursor_still(tmp_path: Path) -> None:
    path = tmp_path / "ws.sqlite3"
    _, half = build_demo(path, year=2026)
    app = create_app(path, application_id=half.id, low_bandwidth=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        focused = app.focused
        assert isinstance(focused, Input)
        assert focused.cursor_blink is False
        assert app.animation_level == "none"
    app = create_app(path, application_id=half.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.focused, Input) and app.focused.cursor_blink is True


def test_low_bandwidth_is_the_default_over_ssh(tmp_path: Path) -> None:
    """Over SSH (SSH_CONNECTION set) zctui starts with a lower frame rate and no animation."""
    code = (
        "import os, zctui.cli as c, zctui.app as a\n"
        "class Fake:\n"
        "    def __init__(self, *args, low_bandwidth, **kw): self.low = low_bandwidth\n"
        "    def run(self): print(self.low, os.environ.get('TEXTUAL_FPS'))\n"
        "a.create_app = Fake\n"
        f"c.run_tui(c.Settings(db='{tmp_path / 'x.sqlite3'}'), None)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXTUAL_", "SSH_"))}
    ssh = subprocess.run([sys.executable, "-c", code], env={**env, "SSH_CONNECTION": "1 2 3 4"},
                         capture_output=True, text=True, check=True)  # fmt: skip
    assert ssh.stdout.split() == ["True", "15"]
    local = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert local.stdout.split() == ["False", "None"]


async def test_command_palette_reaches_sections_by_pinyin(tmp_path: Path) -> None:
    path = tmp_path / "ws.sqlite3"
    done, _ = build_demo(path, year=2026)
    app = create_app(path, application_id=done.id)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"lw")  # 论文
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.3)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        assert screen.current == ("section", "paper")
