"""`zctui web` (issue 8): the TUI in a browser. The real command serves it with textual-serve;
Debian's Chromium, headless, opens the page; the login screen's text reaches the page's
terminal and is shown, and a screenshot is saved beside the test's files."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from conftest import need
from flaky_proxy import LiveServer
from headless_chromium import Page, chromium, open_page
from tmux_user import SRC

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            pytest.fail(f"zctui web exited ({proc.returncode}):\n{out}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail(f"zctui web did not listen on {port} within {timeout}s")


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
@pytest.mark.parametrize("server_engine", ["sqlite"], indirect=True)
def test_zctui_web_shows_the_login_screen_in_headless_chromium(
    world_server: LiveServer, tmp_path: Path
) -> None:
    binary = chromium()
    need(binary is not None, "chromium not installed (Debian: apt-get install chromium)")
    assert binary is not None
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": SRC, "HOME": str(tmp_path / "home")}
    env["ZCTUI_SYSTEM_CONFIG"] = "0"
    workspace = tmp_path / "ws" / "workspace.sqlite3"
    cmd = [sys.executable, "-c", "from zctui.cli import main; main()", "--db", str(workspace),
           "--server", world_server.url, "web", "--port", str(port)]  # fmt: skip
    web = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    shot = tmp_path / "login.png"
    try:
        _wait_listening(port, web)

        async def look(page: Page) -> dict[str, Any]:
            text = await page.wait_for_text("个人登录", timeout=90)
            await asyncio.sleep(1.0)  # the terminal fades in (0.3 s) before the picture
            shown = await page.evaluate("document.body.classList.contains('-first-byte')")
            await page.screenshot(shot)
            return {"text": text, "shown": shown}

        seen = asyncio.run(
            open_page(binary, tmp_path / "chromium", f"http://127.0.0.1:{port}/", look)
        )
    finally:
        web.send_signal(signal.SIGTERM)  # textual-serve stops, and with it each tab's zctui
        try:
            web.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(web.pid, signal.SIGKILL)
            web.wait()
    # The login screen (R1.1) reached the browser's terminal, and the terminal is showing.
    assert "河北省专业技术职称申报评审信息系统 · 个人登录" in seen["text"]
    assert "身份证号" in seen["text"] and "密码" in seen["text"]
    assert seen["shown"] is True
    with Image.open(shot) as img:  # a real picture, not a blank page
        assert img.width == 1280 and img.height > 400
        colours = img.convert("RGB").getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 8, f"the screenshot {shot} looks blank"
    assert web.returncode is not None
    # The browser's zctui went with the server: nothing left in the process group.
    end = time.monotonic() + 10
    while _group_alive(web.pid) and time.monotonic() < end:
        time.sleep(0.1)
    assert not _group_alive(web.pid)
