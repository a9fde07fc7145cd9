"""`zctui demo --server` (issue 8): the whole system in one command. What each demo login
finds on the server, and that the demo stops cleanly: no thread, no port, no folder left.
The same in a real terminal, started and ended as a person would, and by SIGTERM."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import need
from tmux_user import UserTerminal, log_in
from zctui.cli.demo_server import LOGINS, demo_server, logins_text
from zctui.domain.validators import DEFAULT_PASSWORD

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _login(http: httpx.Client, name: str) -> tuple[dict[str, object], dict[str, str]]:
    login = next(x for x in LOGINS if x.name == name)
    r = http.post("/auth/login", json={"id_number": login.id_number, "password": login.password})
    assert r.status_code == 200, r.text
    body = r.json()
    return body, {"Authorization": f"Bearer {body['token']}"}


def _missing(checklist: dict[str, Any]) -> list[str]:
    """The rule ids of what the server's checklist finds missing."""
    return [
        item["rule"]
        for step in checklist["steps"]
        for section in step["sections"]
        for item in section["items"]
        if item["severity"] == "error"
    ]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_demo_server_has_a_login_of_each_kind_and_stops_cleanly_r1_2() -> None:
    before = set(threading.enumerate())
    with demo_server() as demo:
        port = int(demo.url.rsplit(":", 1)[1])
        root = demo.root
        assert _listening(port)
        assert demo.url.startswith("http://127.0.0.1:")  # loopback only
        shown = logins_text(demo)
        for login in LOGINS:  # every login is printed: ID number and password
            assert login.id_number in shown and login.password in shown
        with httpx.Client(base_url=demo.url) as http:
            # R1.2: the applicant on the default password must change it first.
            first, _ = _login(http, "李静")
            assert first["must_change_password"] is True
            assert next(x for x in LOGINS if x.name == "李静").password == DEFAULT_PASSWORD
            # The complete application is on the server, submitted, nothing missing.
            body, yang = _login(http, "杨丰")
            assert body["must_change_password"] is False
            mine = http.get("/applications", headers=yang).json()
            assert [a["state"] for a in mine] == ["submitted"]
            check = http.get(f"/applications/{demo.applications['杨丰']}/checklist", headers=yang)
            assert _missing(check.json()) == []
            # The unit admin sees the hospital's submitted application, to review.
            _, unit = _login(http, "张主任")
            assert [a["name"] for a in http.get("/applications", headers=unit).json()] == ["杨丰"]
            # The helpdesk sees both, ID numbers masked; the half-done one has gaps.
            _, desk = _login(http, "刘热线")
            seen = {a["name"]: a for a in http.get("/applications", headers=desk).json()}
            assert set(seen) == {"杨丰", "李静"}
            assert "*" in seen["李静"]["id_number"]
            half = http.get(f"/applications/{demo.applications['李静']}/checklist", headers=desk)
            assert "R2.5" in _missing(half.json())  # 自主评审 not open to the company
            # The office sees applications once a unit has approved them: none yet.
            body, office = _login(http, "孙处长")
            assert body["role"] == "office"
            assert http.get("/applications", headers=office).json() == []
    assert not _listening(port)
    with socket.socket() as s:  # the port is free again for anyone
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
    assert not [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not root.exists()


def test_a_taken_port_is_said_in_chinese(tmp_path: Path) -> None:
    from zctui.server.app import StartupError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with (
            pytest.raises(StartupError, match=f"端口 {port} 已被占用"),
            demo_server(tmp_path, port=port),
        ):
            pass


def _processes_with(marker: str, *, pids: bool = False) -> list[str]:
    """Processes whose command line has `marker` (tmux's own, which holds the pane's
    command as text, aside), as "pid argv…" when `pids`."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                argv = (proc / "cmdline").read_bytes().split(b"\0")
                line = b" ".join(argv).decode(errors="replace")
                if marker in line and Path(argv[0].decode(errors="replace")).name != "tmux":
                    found.append(f"{proc.name} {line}" if pids else line)
    return found


def _start_demo(t: UserTerminal) -> tuple[int, Path, str]:
    """`zctui demo --server --port P` in the terminal, up to its first prompt: the port, the
    data folder it names, the screen."""
    need(shutil.which("tmux") is not None, "tmux not installed")
    with socket.socket() as s:  # a port that was free a moment ago
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    t.start("demo", "--server", "--port", str(port))
    shown = t.wait_for("按回车打开终端界面", timeout=90)
    assert f"http://127.0.0.1:{port}" in shown
    found = re.search(r"数据在 (\S+?)，", shown)
    assert found, shown
    root = Path(found[1])
    assert root.is_dir() and _listening(port)
    return port, root, shown


def _stopped_cleanly(t: UserTerminal, port: int, root: Path) -> None:
    """The demo has ended and left nothing: checked while the terminal is still open (its
    hang-up would end a stray process and hide it)."""
    t.wait(lambda: t.dead() is not None, "the demo to end", 60)
    assert "演示服务器已停止" in t.history()
    assert _processes_with(f"--port {port}") == []
    assert not _listening(port)
    assert not root.exists()


@pytest.mark.slow
def test_zctui_demo_server_in_a_terminal_starts_and_stops_cleanly_r1_2(tmp_path: Path) -> None:
    """`zctui demo --server --port P` as a person runs it: the logins printed, Enter opens
    the TUI against the demo server, 李静 on 88888888 is asked to change it (R1.2), Ctrl+Q
    and q end it; then nothing is left: no process, nothing on the port, no data folder."""
    t = UserTerminal("demo", tmp_path / "home", ZCTUI_SYSTEM_CONFIG="0")
    try:
        port, root, shown = _start_demo(t)
        for login in LOGINS:
            assert login.id_number in shown and login.password in shown
        t.press("Enter")
        log_in(t, "130921198803150026", DEFAULT_PASSWORD)
        t.wait_for("首次登录须修改默认密码", timeout=30)
        t.press("C-q")
        t.wait_for("输入 q 回车：退出", timeout=30)
        t.type("q")
        t.press("Enter")
        _stopped_cleanly(t, port, root)
        assert t.dead() == "0", t.history()
    finally:
        t.kill()


@pytest.mark.slow
def test_zctui_demo_server_stops_cleanly_on_sigterm_too(tmp_path: Path) -> None:
    """A demo ended from outside (SIGTERM, as `kill` or a closing session sends it) while it
    waits at its prompt stops its server the same way: no process, no port, no folder."""
    t = UserTerminal("demo-term", tmp_path / "home", ZCTUI_SYSTEM_CONFIG="0")
    try:
        port, root, _ = _start_demo(t)
        found_pids = [line.split() for line in _processes_with(f"--port {port}", pids=True)]
        # the python running the demo (not the shell tmux started it from)
        pids = [int(f[0]) for f in found_pids if Path(f[1]).name.startswith("python")]
        assert len(pids) == 1, found_pids
        os.kill(pids[0], signal.SIGTERM)
        _stopped_cleanly(t, port, root)
    finally:
        t.kill()


def test_the_readme_lists_the_demo_s_logins_as_the_demo_makes_them() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    for login in LOGINS:
        row = f"| {login.role_label} | {login.name} | {login.id_number} | {login.password} |"
        assert row in readme, row
