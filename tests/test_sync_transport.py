"""The sync transport over a flaky link (issue 6): compressed bodies both ways, one kept-alive
connection, few header bytes, and retries that ride out resets, lost answers and a busy
server, but never resend what the server refused. Real HTTP: uvicorn in a thread behind
the flaky-link proxy (`flaky_proxy.py`); the server-side checks that do not need a wire
use the ASGI app through TestClient."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import zstandard
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.testclient import TestClient
from pydantic import BaseModel

from flaky_proxy import FlakyProxy, LiveServer, proxy_to, serve
from server_world import DEMO_ID, NEW_PASSWORD, World, settings
from zctui.domain import codec
from zctui.server.app import TOO_LARGE, create_app
from zctui.sync.transport import SyncUnavailable, Transport

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

LIMIT = 100_000  # max_body_bytes of the test app
BIG = {
    "rows": [{"t": "paper", "title": "中药外敷治疗糖尿病足溃疡临床观察", "n": n} for n in range(40)]
}


class Note(BaseModel):
    text: str


@dataclass
class Server:
    """What the test routes saw: how many times each was called, and what to answer."""

    calls: dict[str, int] = field(default_factory=dict)
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    seen: list[Any] = field(default_factory=list)

    def count(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1


Asgi = tuple[TestClient, Server]


def _app(tmp_path: Path) -> tuple[FastAPI, Server]:
    app = create_app(settings(tmp_path, max_body_bytes=LIMIT))
    s = Server()

    @app.post("/t/echo")
    async def echo(request: Request) -> Any:
        s.count("echo")
        body = await request.json()
        s.seen.append(body)
        return body

    @app.post("/t/scripted")
    async def scripted(request: Request) -> Any:
        s.count("scripted")
        status, headers = s.script.pop(0) if s.script else (200, {})
        return JSONResponse({"detail": f"第 {s.calls['scripted']} 次"}, status, headers)

    @app.get("/t/big")
    def big() -> Any:
        return BIG

    @app.get("/t/small")
    def small() -> Any:
        return {"ok": True}

    @app.get("/t/file")
    def file(kind: str) -> Response:
        data = json.dumps(BIG).encode()  # compressible bytes: only the type forbids it
        if kind == "range":
            headers = {"Content-Range": f"bytes 0-{len(data) - 1}/{len(data) * 2}"}
            return Response(data, 206, headers, media_type="application/json")
        return Response(data, media_type=kind)

    return app, s


@pytest.fixture
def wire(tmp_path: Path) -> Iterator[tuple[LiveServer, FlakyProxy, Server]]:
    """The test app on SQLite under uvicorn, behind the proxy."""
    app, s = _app(tmp_path)
    with serve(app) as server, proxy_to(server) as proxy:
        yield server, proxy, s


@pytest.fixture
def asgi(tmp_path: Path) -> Asgi:
    app, s = _app(tmp_path)
    return TestClient(app), s


def _transport(proxy: FlakyProxy, **kw: Any) -> Transport:
    # Retries without the waiting: the schedule is tenacity's, the count is what we check.
    return Transport(proxy.url, token="t" * 43, sleep=lambda _s: None, **kw)


# ---------------------------------------------------------------------- request bodies
@pytest.mark.parametrize("coding", codec.ENCODINGS)
def test_a_compressed_login_is_accepted(world: World, coding: str) -> None:
    """Issue 6: a body in any coding we offer reaches the app as the JSON it was."""
    body = json.dumps({"id_number": DEMO_ID, "password": "Wrong#pass1"}).encode()
    r = world.client().post(
        "/auth/login",
        content=codec.compress(body, coding),
        headers={"Content-Type": "application/json", "Content-Encoding": coding},
    )
    assert r.status_code == 401, r.text  # read, judged: a wrong password, not a bad body
    world.ready("applicant_a")
    r = world.client().post(
        "/auth/login",
        content=codec.compress(
            json.dumps({"id_number": DEMO_ID, "password": NEW_PASSWORD}).encode(), coding
        ),
        headers={"Content-Type": "application/json", "Content-Encoding": coding},
    )
    assert r.status_code == 200, r.text
    assert r.json()["token"]


def test_an_unknown_coding_is_refused_with_the_ones_we_take(
    asgi: Asgi,
) -> None:
    client, s = asgi
    r = client.post("/t/echo", content=b"BZh9...", headers={"Content-Encoding": "bzip2"})
    assert r.status_code == 415
    assert "不支持的压缩格式" in r.json()["detail"] and "zstd" in r.json()["detail"]
    assert "zstd" in r.headers["accept-encoding"]
    assert s.calls == {}


@pytest.mark.parametrize("coding", codec.ENCODINGS)
def test_a_decompression_bomb_is_refused_before_it_unpacks(asgi: Asgi, coding: str) -> None:
    """A few hundred bytes that unpack to 10 MB (the limit is 100 kB): 413, the app never
    called; the same refusal and message as a body that is too big as sent."""
    client, s = asgi
    bomb = codec.compress(b'{"text":"' + b"0" * 10_000_000 + b'"}', coding)
    assert len(bomb) < 20_000
    r = client.post("/t/echo", content=bomb, headers={"Content-Encoding": coding})
    assert r.status_code == 413
    assert r.json()["detail"] == TOO_LARGE.format(limit=LIMIT)
    assert s.calls == {}


def test_a_bomb_that_hides_its_size_is_refused_too(asgi: Asgi) -> None:
    """A zstd frame without its content size in the header is counted as it unpacks."""
    client, s = asgi
    cctx = zstandard.ZstdCompressor(write_content_size=False)
    bomb = cctx.compress(b"0" * 10_000_000)
    assert zstandard.frame_content_size(bomb) == -1
    r = client.post("/t/echo", content=bomb, headers={"Content-Encoding": "zstd"})
    assert r.status_code == 413
    assert s.calls == {}


@pytest.mark.parametrize("coding", ["zstd", "gzip"])
def test_a_cut_off_body_is_refused_not_guessed(asgi: Asgi, coding: str) -> None:
    client, s = asgi
    packed = codec.compress(json.dumps(BIG).encode(), coding)
    r = client.post("/t/echo", content=packed[:-8], headers={"Content-Encoding": coding})
    assert r.status_code == 400
    assert "无法按" in r.json()["detail"]
    assert s.calls == {}


def test_decoded_body_within_the_limit_passes(asgi: Asgi) -> None:
    """The cap is on the decoded size: just under it is read whole."""
    client, s = asgi
    text = "0" * (LIMIT - 20)
    body = json.dumps({"text": text}).encode()
    assert len(body) <= LIMIT
    r = client.post("/t/echo", content=codec.compress(body, "zstd"),
                    headers={"Content-Encoding": "zstd"})  # fmt: skip
    assert r.status_code == 200
    assert s.seen == [{"text": text}]


# ---------------------------------------------------------------------- response bodies
@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("zstd-d1,zstd,gzip", "zstd-d1"),
        ("gzip, zstd", "zstd"),
        ("gzip", "gzip"),
        ("zstd;q=0, gzip;q=0.5", "gzip"),
        ("br", None),
        ("", None),
    ],
)
def test_answers_are_compressed_as_the_client_accepts(
    asgi: Asgi, accept: str, expected: str | None
) -> None:
    client, _ = asgi
    with client.stream("GET", "/t/big", headers={"Accept-Encoding": accept}) as r:
        raw = b"".join(r.iter_raw())
    assert r.headers.get("content-encoding") == expected
    if expected is None:
        assert json.loads(raw) == BIG
        return
    assert r.headers["vary"] == "Accept-Encoding"
    assert int(r.headers["content-length"]) == len(raw) < len(json.dumps(BIG).encode()) / 3
    assert json.loads(codec.decompress(raw, expected, 10**6)) == BIG


@pytest.mark.parametrize(
    "path",
    [
        "/t/small",
        "/t/file?kind=application/octet-stream",
        "/t/file?kind=application/pdf",
        "/t/file?kind=range",
    ],
)
def test_small_answers_and_files_are_sent_as_they_are(asgi: Asgi, path: str) -> None:
    """A tiny body gains nothing; a file or a range must keep its own bytes and offsets
    (a resumed download counts them)."""
    client, _ = asgi
    with client.stream("GET", path, headers={"Accept-Encoding": "zstd-d1,zstd,gzip"}) as r:
        raw = b"".join(r.iter_raw())
    assert "content-encoding" not in r.headers
    assert int(r.headers["content-length"]) == len(raw)
    assert json.loads(raw) in ({"ok": True}, BIG)


# ---------------------------------------------------------------------- the transport
def test_the_transport_round_trips_compressed_bodies(wire: Any) -> None:
    _, proxy, s = wire
    with _transport(proxy) as t:
        text = "中医外科临床工作，" * 40
        r = t.post_json("/t/echo", Note(text=text))
        assert r.status_code == 200
        assert r.json() == {"text": text}
        assert s.seen == [{"text": text}]
        # Sent compressed, answered compressed, both far smaller than the JSON.
        assert t.sent_bytes < len(text.encode()) / 4
        assert t.received_bytes < len(text.encode()) / 4
        assert t.get("/t/big").json() == BIG


def test_many_requests_share_one_connection(wire: Any) -> None:
    _, proxy, _ = wire
    with _transport(proxy) as t:
        for n in range(20):
            assert t.post_json("/t/echo", Note(text=str(n))).status_code == 200
            assert t.get("/t/big").status_code == 200
    assert proxy.accepts == 1
    assert len(proxy.links) == 1 and proxy.links[0].up == proxy.up


def test_request_headers_are_few_bytes(wire: Any) -> None:
    """The whole request minus its body, for a small sync-like POST, in bytes with CRLFs:
    the request line `POST /t/echo HTTP/1.1` (23), `Host: 127.0.0.1:NNNNN` (23),
    `Authorization: Bearer` and a 43-character token (67), `Content-Type: application/json`
    (32), `Content-Length: 12` (20), `Accept-Encoding: zstd-d1,zstd` (31), the blank line
    (2): 198. httpx's own `Accept: */*` (13), `Connection: keep-alive` (24) or User-Agent
    (34) would each take it over 210."""
    _, proxy, _ = wire
    with _transport(proxy) as t:
        t.post_json("/t/echo", Note(text="x"))  # opens the connection
        proxy.reset_counters()
        t.post_json("/t/echo", Note(text="x"))
        body = b'{"text":"x"}'
    headers = proxy.up - len(body)
    assert headers <= 210, headers


def test_a_reset_mid_request_is_retried(wire: Any) -> None:
    """The link drops 100 bytes into the request: the server never got it whole, the
    client sends it again on a new connection."""
    _, proxy, s = wire
    proxy.reset_next_request(after=100)
    with _transport(proxy) as t:
        r = t.post_json("/t/echo", Note(text="第一次提交" * 30))
        assert r.status_code == 200
        assert t.requests == 2
    assert proxy.resets_made == 1
    assert s.calls == {"echo": 1}
    assert proxy.accepts == 2


def test_a_lost_answer_is_asked_for_again(wire: Any) -> None:
    """The server answered (and would have committed) but the answer never arrived: the
    request is sent again, which the sync protocol answers from its record."""
    _, proxy, s = wire
    proxy.drop_next_response()
    with _transport(proxy) as t:
        assert t.post_json("/t/echo", Note(text="x")).status_code == 200
    assert proxy.drops_made == 1
    assert s.calls == {"echo": 2}


def test_busy_server_503_is_retried(wire: Any) -> None:
    _, proxy, s = wire
    s.script = [(503, {}), (503, {}), (200, {})]
    with _transport(proxy) as t:
        r = t.post_json("/t/scripted", Note(text="x"))
    assert r.status_code == 200
    assert s.calls == {"scripted": 3}


def test_429_waits_as_long_as_retry_after_says(wire: Any) -> None:
    _, proxy, s = wire
    s.script = [(429, {"Retry-After": "7"}), (408, {}), (200, {})]
    waits: list[float] = []
    with Transport(proxy.url, sleep=waits.append, backoff=0.5, backoff_max=2) as t:
        assert t.post_json("/t/scripted", Note(text="x")).status_code == 200
    assert s.calls == {"scripted": 3}
    assert waits[0] == 7.0
    assert 0 <= waits[1] <= 2  # jittered backoff, within its cap


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 422])
def test_a_refusal_is_not_retried(wire: Any, status: int) -> None:
    """Another 4xx would be the same answer again: returned at once, for the caller."""
    _, proxy, s = wire
    s.script = [(status, {})]
    with _transport(proxy) as t:
        r = t.post_json("/t/scripted", Note(text="x"))
    assert r.status_code == status
    assert s.calls == {"scripted": 1}


def test_giving_up_says_the_edits_are_kept(wire: Any) -> None:
    _, proxy, s = wire
    s.script = [(503, {})] * 10
    with _transport(proxy, attempts=3) as t, pytest.raises(SyncUnavailable) as err:
        t.post_json("/t/scripted", Note(text="x"))
    assert s.calls == {"scripted": 3}
    assert "修改已保存在本机" in str(err.value) and "503" in str(err.value)


def test_an_unreachable_server_gives_a_chinese_error(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once closed
    with Transport(f"http://127.0.0.1:{port}", attempts=2, sleep=lambda _s: None) as t:
        with pytest.raises(SyncUnavailable) as err:
            t.post_json("/v1/sync", Note(text="x"))
        assert t.requests == 2
    assert f"无法连接服务器 http://127.0.0.1:{port}" in str(err.value)
    assert "联网后会自动同步" in str(err.value)


def test_an_older_server_without_the_dictionary_still_syncs(
    wire: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that does not know `zstd-d1` answers 415; the client sends the body again
    in plain zstd and keeps to it."""
    _, proxy, s = wire
    with _transport(proxy) as t:
        monkeypatch.setattr(codec, "available", lambda: ("zstd", "gzip"))
        text = "中医外科" * 50
        assert t.post_json("/t/echo", Note(text=text)).json() == {"text": text}
        assert t.post_json("/t/echo", Note(text=text)).status_code == 200
        assert t.requests == 3  # 415, then zstd twice
    assert s.seen == [{"text": text}] * 2


def test_login_over_a_flaky_link(flaky_proxy: FlakyProxy, world: World) -> None:
    """The live server with the accounts (SQLite and PostgreSQL): a reset first try."""
    world.ready("applicant_a")

    class Login(BaseModel):
        id_number: str
        password: str

    flaky_proxy.reset_next_request(after=30)
    with _transport(flaky_proxy) as t:
        r = t.post_json("/auth/login", Login(id_number=DEMO_ID, password=NEW_PASSWORD))
        assert r.status_code == 200
        assert t.requests == 2


# ---------------------------------------------------------------------- the proxy itself
def test_proxy_forwards_bytes_unchanged_and_counts_them(wire: Any) -> None:
    _, proxy, _ = wire
    payload = {"blob": "测试" * 5000}
    data = json.dumps(payload, ensure_ascii=False).encode()
    with httpx.Client(base_url=proxy.url) as c:
        r = c.post("/t/echo", content=data, headers={"Accept-Encoding": "identity"})
    assert r.json() == payload
    body = len(data)
    assert body < proxy.up < body + 300
    assert body < proxy.down < body + 300
    assert proxy.accepts == 1


def test_proxy_caps_bandwidth(wire: Any) -> None:
    """40 kB up at 40 kB/s takes at least about a second (a lower bound: a slow machine
    only makes it longer)."""
    _, proxy, _ = wire
    proxy.bandwidth = 40_000
    with httpx.Client(base_url=proxy.url) as c:
        c.get("/t/small")  # connected
        start = time.perf_counter()
        c.post("/t/echo", json="x" * 40_000)
        took = time.perf_counter() - start
    assert took >= 0.9, took


def test_proxy_adds_latency_each_way(wire: Any) -> None:
    _, proxy, _ = wire
    proxy.latency = 0.2
    with httpx.Client(base_url=proxy.url) as c:
        c.get("/t/small")
        start = time.perf_counter()
        c.get("/t/small")
        took = time.perf_counter() - start
    assert took >= 0.39, took


def test_proxy_reset_cuts_the_request(wire: Any) -> None:
    _, proxy, s = wire
    proxy.reset_next_request(after=10)
    with httpx.Client(base_url=proxy.url) as c, pytest.raises(httpx.TransportError):
        c.post("/t/echo", json={"text": "x"})
    assert proxy.resets_made == 1
    assert proxy.up == 10
    assert s.calls == {}


def test_proxy_drop_loses_the_answer_after_the_server_acted(wire: Any) -> None:
    _, proxy, s = wire
    proxy.drop_next_response()
    with httpx.Client(base_url=proxy.url) as c, pytest.raises(httpx.TransportError):
        c.post("/t/echo", json={"text": "x"})
    assert s.calls == {"echo": 1}
    assert proxy.drops_made == 1 and proxy.down == 0


def test_randomised_faults_are_ridden_out(wire: Any) -> None:
    """A third of the requests reset at a random byte and a third of the answers lost
    (seeded): every request still gets its answer."""
    _, proxy, s = wire
    proxy.randomise(6, reset=0.3, drop=0.3)
    with _transport(proxy, attempts=30) as t:
        for n in range(20):
            assert t.post_json("/t/echo", Note(text=f"第 {n} 项" * 10)).json() == {
                "text": f"第 {n} 项" * 10
            }
    assert proxy.resets_made > 0 and proxy.drops_made > 0
    assert t.requests == 20 + proxy.resets_made + proxy.drops_made
    assert [b["text"] for b in s.seen][-1] == "第 19 项" * 10
