"""zctui on a unit's shared SSH host (issue 8, docs/ssh.md): the server URL from a config
file or the environment, a workspace per user in their own data directory, and no user
opening a workspace file that is someone else's or that others may write. Two TUIs at once,
as two users, against one live server, in real terminals."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import need
from flaky_proxy import LiveServer
from server_world import NEW_PASSWORD, World, complete_application, this_year
from tmux_user import UserTerminal, log_in
from zctui.cli import app as cli
from zctui.config import Settings
from zctui.store.ownership import WorkspaceRefused, check_workspace
from zctui.store.repository import Store

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def no_host_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A user's config directory of the test's own; the host's /etc file left out."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("ZCTUI_SYSTEM_CONFIG", "0")
    for name in ("ZCTUI_CONFIG", "ZCTUI_SERVER_URL", "ZCTUI_DB", "ZCTUI_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "config" / "zctui" / "config.toml"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- the server URL from config
def test_server_url_from_the_user_s_config_file_and_the_environment_wins(
    no_host_config: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _write(no_host_config, 'server_url = "https://zc.example.cn"\ndata_dir = "~/zctui-data"\n')
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    s = Settings()
    assert s.server_url == "https://zc.example.cn"
    assert s.store_path == tmp_path / "home" / "zctui-data" / "workspace.sqlite3"  # ~ is yours
    monkeypatch.setenv("ZCTUI_SERVER_URL", "http://127.0.0.1:9")
    assert Settings().server_url == "http://127.0.0.1:9"
    assert Settings(server_url="http://cli").server_url == "http://cli"  # --server wins all


def test_zctui_config_names_a_file_over_the_user_s(
    no_host_config: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _write(no_host_config, 'server_url = "https://mine.example.cn"\n')
    host = _write(tmp_path / "host.toml", 'server_url = "https://unit.example.cn"\n')
    monkeypatch.setenv("ZCTUI_CONFIG", str(host))
    assert Settings().server_url == "https://unit.example.cn"


def test_a_broken_config_file_is_named_in_chinese(no_host_config: Path) -> None:
    _write(no_host_config, "server_url = \n")
    r = CliRunner().invoke(cli, ["check"])
    assert r.exit_code == 2
    assert str(no_host_config) in r.output and "TOML" in r.output and "server_url" in r.output


# ---------------------------------------------------------------- a workspace per user
def test_a_new_workspace_is_its_owner_s_alone(tmp_path: Path) -> None:
    path = tmp_path / "data" / "zctui" / "workspace.sqlite3"
    with Store(path) as store:
        store.create_person("130902198010100011", "杨丰")
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for f in path.parent.glob("workspace.sqlite3*"):  # with -wal and -shm
        assert stat.S_IMODE(f.stat().st_mode) & 0o077 == 0, f


def test_a_workspace_others_may_write_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "ws" / "workspace.sqlite3"
    Store(path).close()
    path.chmod(0o666)
    r = CliRunner().invoke(cli, ["--db", str(path)])
    assert r.exit_code == 2
    assert "其他用户也能修改" in r.output and f"chmod 600 {path}" in r.output
    with pytest.raises(WorkspaceRefused):
        Store(path)  # every way in refuses, not only the TUI's


def test_a_workspace_of_another_user_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ws" / "workspace.sqlite3"
    Store(path).close()
    # As another user would see it: same file, a different effective uid.
    monkeypatch.setattr("zctui.store.ownership.os.geteuid", lambda: os.getuid() + 4242)
    with pytest.raises(WorkspaceRefused, match="属于另一个用户"):
        check_workspace(path)


def test_a_workspace_in_a_folder_anyone_may_write_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o777)
    with pytest.raises(WorkspaceRefused, match="chmod 700"):
        Store(folder / "workspace.sqlite3")
    folder.chmod(0o1777)  # /tmp-like, sticky: others cannot swap a file they do not own
    Store(folder / "workspace.sqlite3").close()


# ---------------------------------------------------------------- two users, one host
def _people_in(workspace: Path) -> list[str]:
    with sqlite3.connect(f"file:{workspace}?mode=ro", uri=True) as db:
        return [r[0] for r in db.execute("SELECT name FROM person ORDER BY name")]


def _applications_in(workspace: Path) -> list[str]:
    with sqlite3.connect(f"file:{workspace}?mode=ro", uri=True) as db:
        return [str(r[0]).replace("-", "") for r in db.execute("SELECT id FROM application")]


@pytest.mark.slow
@pytest.mark.parametrize("server_engine", ["sqlite"], indirect=True)
def test_two_users_on_one_host_two_tuis_at_once_one_server(
    world: World, world_server: LiveServer, tmp_path: Path
) -> None:
    """Two TUIs at the same time, as two users of a unit's host: each in their own HOME, so
    each has a workspace of their own; one finds the server in the host's config file
    (ZCTUI_CONFIG, as /etc/zctui/config.toml would), the other in the environment. Both log
    in and sync; each workspace holds its owner's application only, readable by them alone."""
    need(shutil.which("tmux") is not None, "tmux not installed")
    # 杨丰 has the guide's complete application on the server; 王芳 has started one.
    yang = world.ready("applicant_a")
    yang_app = complete_application(world, yang, tmp_path / "seed").replace("-", "")
    wang = world.ready("applicant_b")
    r = world.client().post("/applications", json={"year": this_year()}, headers=wang)
    assert r.status_code == 201, r.text

    host_config = _write(tmp_path / "etc" / "config.toml", f'server_url = "{world_server.url}"\n')
    homes = {"a": tmp_path / "home-a", "b": tmp_path / "home-b"}
    quiet = {"ZCTUI_SYSTEM_CONFIG": "0"}
    a = UserTerminal("unit-a", homes["a"], ZCTUI_CONFIG=str(host_config), **quiet)
    b = UserTerminal("unit-b", homes["b"], ZCTUI_SERVER_URL=world_server.url, **quiet)
    try:
        a.start()
        b.start()  # both running before either logs in
        log_in(a, world.people["applicant_a"].id_number, NEW_PASSWORD)
        log_in(b, world.people["applicant_b"].id_number, NEW_PASSWORD)
        a.wait(lambda: "杨丰" in a.screen() and "已同步" in a.screen(), "杨丰 synced", 60)
        b.wait(lambda: "王芳" in b.screen() and "已同步" in b.screen(), "王芳 synced", 60)
        a.press("C-q")
        b.press("C-q")
        a.wait(lambda: a.dead() == "0", "zctui to end (a)", 20)
        b.wait(lambda: b.dead() == "0", "zctui to end (b)", 20)
    finally:
        a.kill()
        b.kill()

    spaces = {k: h / ".local" / "share" / "zctui" / "workspace.sqlite3" for k, h in homes.items()}
    assert _people_in(spaces["a"]) == ["杨丰"]
    assert _people_in(spaces["b"]) == ["王芳"]
    for path in spaces.values():
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700  # no one else gets in
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0
    # What each pulled is the server's own application of that person.
    assert _applications_in(spaces["a"]) == [yang_app]
    assert _applications_in(spaces["b"]) == [r.json()["id"].replace("-", "")]
