"""Issue 6: the catalog is the server's, versioned, pulled when it changes.

The server runs under uvicorn in a thread (the 304's cost is counted on the wire); the
client is `zctui.sync.catalog.pull_catalog` with a plain httpx client, installing into the
user data dir (ZCTUI_DATA_DIR) that `load_catalog()` reads."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
import yaml
from typer.testing import CliRunner

from server_world import settings
from zctui.cli import app as cli
from zctui.data.base import DATA_DIR
from zctui.data.catalog import (
    CATALOG_FILES,
    Catalog,
    downloaded_catalog_dir,
    load_catalog,
    pin_catalog,
)
from zctui.server.app import StartupError, create_app
from zctui.sync.catalog import CatalogPullError, pull_catalog

NEW_TITLE = "首席测试师（省里新增）"


@pytest.fixture(autouse=True)
def client_side(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A client's data dir; `load_catalog()` as a client process sees it (the server in
    this same process pins its own catalog: undone here, and after the test)."""
    monkeypatch.setenv("ZCTUI_DATA_DIR", str(tmp_path / "client"))
    pin_catalog(None)
    yield downloaded_catalog_dir()
    pin_catalog(None)


def newer_catalog(where: Path, bump: int = 1) -> Path:
    """The packaged catalog with version + bump and one new title (a level its series
    lacked, coded by the GB/T 8561 rule)."""
    where.mkdir(parents=True)
    for name in CATALOG_FILES:
        shutil.copy(DATA_DIR / name, where / name)
    data = yaml.safe_load((where / "series.yaml").read_text(encoding="utf-8"))
    data["version"] += bump
    for s in data["series"]:
        missing = sorted({1, 2, 3, 4, 5} - {t["level"] for t in s["titles"]})
        if s["gb"] and missing:
            level = missing[0]
            code = f"{s['gb'][:2]}{level}"
            s["titles"].append({"code": code, "label": NEW_TITLE, "level": level})
            break
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    (where / "series.yaml").write_text(text, encoding="utf-8")
    return where


def titles(catalog: Catalog) -> set[str]:
    return {t.label for s in catalog.series for t in s.titles}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """The server, on a catalog one version newer than the package's: (base URL, version)."""
    catalog_dir = newer_catalog(tmp_path / "served")
    app = create_app(settings(tmp_path / "server", catalog_dir=catalog_dir))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    pin_catalog(None)  # from here on this process plays the client
    yield f"http://127.0.0.1:{port}", app.state.catalog.version
    server.should_exit = True
    thread.join(10)


def test_issue6_newer_catalog_is_pulled_installed_and_used(
    served: tuple[str, int], client_side: Path
) -> None:
    base, version = served
    bundled = load_catalog()
    assert version == bundled.version + 1
    assert NEW_TITLE not in titles(bundled)
    with httpx.Client(base_url=base) as http:
        assert pull_catalog(http, client_side, bundled.version) == version
    assert sorted(p.name for p in client_side.iterdir()) == sorted(CATALOG_FILES)
    now = load_catalog()  # no restart: pull_catalog made the loader look again
    assert now.version == version
    assert NEW_TITLE in titles(now)
    assert not [p for p in client_side.parent.iterdir() if p.name.startswith(".")]  # no debris


def test_issue6_unchanged_catalog_is_a_bodiless_304(
    served: tuple[str, int], client_side: Path
) -> None:
    """The check a client makes on every sync costs ~150 bytes when nothing changed."""
    base, version = served
    with httpx.Client(base_url=base) as http:
        full = http.get("/v1/catalog")
        assert full.status_code == 200 and full.headers["etag"] == f'"{version}"'
        assert pull_catalog(http, client_side, version) == version  # nothing fetched
    assert not client_side.exists()  # and nothing installed
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(
            f'GET /v1/catalog HTTP/1.1\r\nHost: x\r\nIf-None-Match: "{version}"\r\n'
            "Connection: close\r\n\r\n".encode()
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 304")
    assert answer.endswith(b"\r\n\r\n")  # headers only
    assert len(answer) < 250 < len(full.content) // 100  # here: 138 bytes vs 61 KB


def _server_sending(body: bytes) -> httpx.Client:
    """A server that sends this body as its catalog: ours refuses to serve a broken one."""
    return httpx.Client(
        base_url="http://catalog.test",
        transport=httpx.MockTransport(lambda _req: httpx.Response(200, content=body)),
    )


def test_issue6_broken_or_partial_catalog_is_refused_and_the_old_stays(
    served: tuple[str, int], client_side: Path, tmp_path: Path
) -> None:
    base, version = served
    with httpx.Client(base_url=base) as http:
        pull_catalog(http, client_side, None)
    installed = {p.name: p.read_bytes() for p in client_side.iterdir()}

    broken_dir = newer_catalog(tmp_path / "broken", bump=2)
    files = {n: (broken_dir / n).read_text(encoding="utf-8") for n in CATALOG_FILES}
    files["series.yaml"] = files["series.yaml"].replace("level: 1", "level: 2", 1)
    broken = json.dumps({"version": version + 1, "files": files}).encode()
    with pytest.raises(CatalogPullError, match=r"有错误，没有安装，继续使用现有目录：series\.yaml"):
        pull_catalog(_server_sending(broken), client_side, version)
    with pytest.raises(CatalogPullError, match="无法识别"):
        pull_catalog(_server_sending(broken[: len(broken) // 2]), client_side, version)
    escape = json.dumps({"version": version + 1, "files": {**files, "../evil.yaml": "x"}})
    with pytest.raises(CatalogPullError, match="文件应当正好是"):
        pull_catalog(_server_sending(escape.encode()), client_side, version)
    assert not (client_side.parent / "evil.yaml").exists()

    assert {p.name: p.read_bytes() for p in client_side.iterdir()} == installed
    assert not [p for p in client_side.parent.iterdir() if p.name.startswith(".")]
    kept = load_catalog()
    assert kept.version == version and NEW_TITLE in titles(kept)


def test_issue6_a_broken_downloaded_catalog_falls_back_to_the_packaged_one(
    client_side: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Damaged on disk after installing (not by pull_catalog): the packaged one, and why."""
    newer_catalog(client_side)
    (client_side / "values.yaml").write_text("value_lists: [", encoding="utf-8")
    with caplog.at_level("WARNING", logger="zctui.catalog"):
        assert load_catalog().version == load_catalog(DATA_DIR).version
    assert "下载的职称目录" in caplog.text and "改用程序自带的目录" in caplog.text


def test_issue6_server_with_a_broken_catalog_does_not_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = newer_catalog(tmp_path / "broken")
    text = (broken / "methods.yaml").read_text(encoding="utf-8")
    (broken / "methods.yaml").write_text(text.replace("self_review_rule:", "rule:"), "utf-8")
    monkeypatch.setenv("ZCTUI_SERVER_CATALOG_DIR", str(broken))
    with pytest.raises(StartupError) as err:
        create_app(settings(tmp_path))
    assert "服务器的职称目录" in str(err.value) and "没有启动" in str(err.value)
    assert "methods.yaml" in str(err.value)  # which file, from the loader

    r = CliRunner().invoke(cli, ["serve", "--db", f"sqlite:///{tmp_path / 's.sqlite3'}"])
    assert r.exit_code == 2
    assert "服务器的职称目录" in r.output and "methods.yaml" in r.output


def test_issue6_a_sync_that_sees_a_newer_catalog_version_pulls_it(
    served: tuple[str, int], client_side: Path, tmp_path: Path
) -> None:
    """The sync loop's part: `SyncOut.catalog` names a version other than the one in use,
    so the workspace's syncer pulls it; the same version again costs nothing."""
    from zctui.sync.connect import ServerSync

    base, version = served
    syncer = ServerSync(base, "no-login-needed-for-the-catalog", tmp_path / "ws" / "ws.sqlite3")
    try:
        syncer._catalog(version)
        assert load_catalog().version == version
        assert NEW_TITLE in titles(load_catalog())
        asked = syncer.transport.http.get  # the same version: no request at all
        syncer.transport.http.get = None  # type: ignore[assignment,method-assign]
        syncer._catalog(version)
        syncer.transport.http.get = asked  # type: ignore[method-assign]
    finally:
        syncer.close()
