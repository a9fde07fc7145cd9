"""A tmux terminal (test_e2e_tmux.Terminal) running the zctui under test as one user of a
host: their own HOME, and so their own data and config directories."""

from __future__ import annotations

import sys
from pathlib import Path

import zctui
from test_e2e_tmux import Terminal

SRC = str(Path(zctui.__file__).parents[1])  # the code under test, not an installed copy


class UserTerminal(Terminal):
    """A terminal logged in as one user of the host: their own HOME (so their own data
    and config directories), the source under test, and extra environment."""

    def __init__(self, name: str, home: Path, **env: str) -> None:
        super().__init__(name)
        home.mkdir(parents=True, exist_ok=True)
        self.env.update(HOME=str(home), PYTHONPATH=SRC, **env)

    def start(self, *argv: str, program: tuple[str, ...] = ()) -> None:
        code = "from zctui.cli import main; main()"
        super().start(*argv, program=program or (sys.executable, "-c", code))


def log_in(t: Terminal, id_number: str, password: str) -> None:
    t.wait_for("个人登录", timeout=30)
    t.wait_focus("身份证号")
    t.type(id_number)
    t.press("Enter")
    t.wait_focus("密码")
    t.type(password)
    t.press("Enter")
