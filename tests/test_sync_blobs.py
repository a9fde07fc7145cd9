"""Attachments' bytes over the wire (issue 6): resumable chunked upload, ranged download,
against the real server under uvicorn on 127.0.0.1 (SQLite and PostgreSQL), through a TCP
relay that counts the bytes each way and cuts connections like a flaky 20 KB/s link."""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from server_world import World, build_world, live_server, settings, this_year
from zctui.domain import models as domain
from zctui.server import content
from zctui.server.app import create_app
from zctui.store.blobs import BlobStore
from zctui.sync.blobs import DEFAULT_CHUNK, BlobTransferError, BlobUploader, PushOutcome

MB = 1024 * 1024


class Relay:
    """A TCP relay in front of the server. Counts payload bytes up (client → server) and
    down; `cut_up_at` / `cut_down_at` close the connection carrying the byte that reaches
    that total (mid-request or mid-response); `link_down` refuses every new connection."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.up = self.down = 0
        self.cut_up_at: int | None = None
        self.cut_down_at: int | None = None
        self.down_after_cut = False
        self.link_down = False
        self.cuts = 0
        self.seen: list[bytes] = []  # what went up, to look at the requests
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.listener.close()

    def reset(self) -> None:
        with self.lock:
            self.up = self.down = 0
            self.seen.clear()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            if self.link_down:
                conn.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target))
            for src, dst, way in ((conn, upstream, "up"), (upstream, conn, "down")):
                threading.Thread(
                    target=self._pump, args=(src, dst, way, (conn, upstream)), daemon=True
                ).start()

    def _pump(self, src: socket.socket, dst: socket.socket, way: str, pair: Any) -> None:
        try:
            while data := src.recv(65536):
                cut = False
                with self.lock:
                    limit = self.cut_up_at if way == "up" else self.cut_down_at
                    count = self.up if way == "up" else self.down
                    if limit is not None and count + len(data) >= limit:
                        data = data[: max(limit - count, 0)]
                        cut = True
                        self.cuts += 1
                        self.cut_up_at = self.cut_down_at = None
                        self.link_down = self.down_after_cut
                    if way == "up":
                        self.up += len(data)
                        self.seen.append(data)
                    else:
                        self.down += len(data)
                if data:
                    dst.sendall(data)
                if cut:
                    return
        except OSError:
            pass
        finally:
            for s in pair:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()


@pytest.fixture
def bw(server_engine: Engine, tmp_path: Path) -> World:
    s = settings(tmp_path / "server", max_blob_bytes=8 * MB)
    app = create_app(s, engine=server_engine)
    return build_world(app, server_engine, app.state.security)


@pytest.fixture
def relay(bw: World) -> Iterator[Relay]:
    with live_server(bw.app) as url:
        r = Relay(int(url.rpartition(":")[2]))
        yield r
        r.close()


def http(url: str, headers: dict[str, str]) -> httpx.Client:
    """The client the app's transport hands over: base URL, token, a short User-Agent, and
    no `Connection: keep-alive` (HTTP/1.1's default anyway): every request pays for its
    headers on a 20 KB/s link."""
    c = httpx.Client(base_url=url, headers={**headers, "User-Agent": "zctui"}, timeout=10)
    del c.headers["Connection"]
    return c


def local_blob(tmp_path: Path, size: int, name: str = "client-blobs") -> tuple[BlobStore, str]:
    store = BlobStore(tmp_path / name)
    return store, store.put(os.urandom(size))


def server_store(bw: World) -> BlobStore:
    store: BlobStore = bw.app.state.blobs.store
    return store


def upload_offset(c: Any, sha: str, headers: dict[str, str]) -> int:
    r = c.head(f"/v1/blobs/{sha}/upload", headers=headers)
    assert r.status_code == 200, r.text
    return int(r.headers["Upload-Offset"])


def test_issue6_a_5mb_upload_cut_three_times_resends_at_most_a_chunk_each_time(
    bw: World, relay: Relay, tmp_path: Path
) -> None:
    """Issue 6: a 5 MB scan, its connection cut mid-chunk three times: twice the link stays
    down and the app is restarted (a new uploader, a new HTTP client, the same local store),
    once the uploader resumes by itself. It finishes having re-sent at most one chunk per
    cut, and the server's blob is the file."""
    headers = bw.ready("applicant_a")
    blobs, sha = local_blob(tmp_path, 5 * MB)
    size = 5 * MB
    sent = 0
    held: list[int] = []
    progress: list[tuple[int, int]] = []
    for n, cut_at in enumerate((int(1.3 * MB), int(2.6 * MB), int(3.9 * MB))):
        relay.cut_up_at = cut_at  # bytes up since the start: mid-chunk
        last = n == 2
        relay.down_after_cut = not last
        relay.link_down = False
        with http(relay.url, headers) as c:
            up = BlobUploader(c, blobs, give_up_after=30 if last else 0.5, backoff=0.05)
            if last:
                up.upload(sha, lambda done, total: progress.append((done, total)))
                assert progress[-1] == (size, size)
            else:
                with pytest.raises(BlobTransferError, match="稍后再同步会从断点继续") as err:
                    up.upload(sha)
                assert err.value.retryable
            sent += up.bytes_sent
        if not last:
            relay.link_down = False
            with http(relay.url, headers) as c:
                held.append(upload_offset(c, sha, headers))
    assert relay.cuts == 3
    assert 0 < held[0] < held[1] < size  # each restart resumed where the server stopped
    assert sent <= size + 3 * DEFAULT_CHUNK
    # On the wire, request headers included (about 30 requests of a few hundred bytes).
    assert relay.up <= size + 3 * DEFAULT_CHUNK + 64 * 1024
    assert server_store(bw).read(sha) == blobs.read(sha)
    assert not any((bw.app.state.blobs.partials).rglob(sha + "*"))  # the partial is gone


def test_issue6_a_blob_the_server_has_costs_one_small_exchange(
    bw: World, relay: Relay, tmp_path: Path
) -> None:
    """Issue 6: asking about a blob the server already has costs under 500 bytes on the
    wire, request and response together; push then sends nothing."""
    headers = bw.ready("applicant_a")
    blobs, sha = local_blob(tmp_path, 300 * 1024)
    with http(relay.url, headers) as c:
        up = BlobUploader(c, blobs)
        assert up.missing([sha]) == {sha}
        up.upload(sha)
        relay.reset()
        assert up.missing([sha]) == set()
        exchange = relay.up + relay.down
        print(f"missing() for one stored blob: {relay.up} B up + {relay.down} B down")
        assert exchange < 500
        before = up.bytes_sent
        assert up.push([sha]) == {sha: PushOutcome("present")}
        assert up.bytes_sent == before


def test_issue6_push_reports_each_blob(bw: World, relay: Relay, tmp_path: Path) -> None:
    """push: one blob the server has, one it lacks, one missing locally and one that is no
    digest at all (they cannot be sent, and say why in Chinese); the others are not held up."""
    headers = bw.ready("applicant_a")
    blobs, have = local_blob(tmp_path, 10_000)
    lack = blobs.put(os.urandom(600_000))
    gone = hashlib.sha256(b"deleted").hexdigest()
    server_store(bw).put(blobs.read(have))
    with http(relay.url, headers) as c:
        seen: list[tuple[str, int, int]] = []
        out = BlobUploader(c, blobs).push(
            [have, lack, gone, "C:/scan.pdf"], lambda s, d, t: seen.append((s, d, t))
        )
    assert out[have] == PushOutcome("present")
    assert out[lack] == PushOutcome("uploaded")
    assert out[gone].status == "failed" and "请重新添加该附件" in (out[gone].message or "")
    assert "应为 64 位小写十六进制" in (out["C:/scan.pdf"].message or "")
    assert seen[-1] == (lack, 600_000, 600_000)
    assert server_store(bw).read(lack) == blobs.read(lack)


def chunk_headers(offset: int, length: int, chunk: bytes, digest: str | None = None) -> dict:
    return {
        "Upload-Offset": str(offset),
        "Upload-Length": str(length),
        "Chunk-SHA256": digest or hashlib.sha256(chunk).hexdigest(),
        "Content-Type": "application/octet-stream",
    }


def test_issue6_the_server_refuses_bad_chunks_and_keeps_its_offset(bw: World) -> None:
    """A damaged chunk (422), a chunk at the wrong offset (409 with the server's offset), a
    file that does not hash to its name (refused, the partial deleted), a file over the
    size cap (413): each in Chinese, saying what is expected; nothing refused is kept."""
    h = bw.ready("applicant_a")
    c = bw.client()
    data = os.urandom(300_000)
    sha = hashlib.sha256(data).hexdigest()
    url = f"/v1/blobs/{sha}/upload"
    first, rest = data[:100_000], data[100_000:]
    r = c.patch(url, content=first, headers={**h, **chunk_headers(0, len(data), first)})
    assert r.status_code == 204 and r.headers["Upload-Offset"] == "100000"
    # Damaged on the way: its digest does not match.
    bad = bytes([rest[0] ^ 1]) + rest[1:]
    r = c.patch(url, content=bad, headers={**h, **chunk_headers(100_000, len(data), rest)})
    assert r.status_code == 422 and "请重新发送这一段" in r.json()["detail"]
    assert upload_offset(c, sha, h) == 100_000
    # From the wrong place: the server says where it stands.
    r = c.patch(url, content=rest, headers={**h, **chunk_headers(0, len(data), rest)})
    assert r.status_code == 409
    assert r.headers["Upload-Offset"] == "100000"
    assert "请从第 100000 字节继续上传" in r.json()["detail"]
    # A length other than the first chunk's.
    r = c.patch(url, content=rest, headers={**h, **chunk_headers(100_000, 400_000, rest)})
    assert r.status_code == 422 and "文件大小与之前上传的部分不一致" in r.json()["detail"]
    # Every chunk right, but the whole is not the file named: refused, the partial gone.
    other = hashlib.sha256(b"another file").hexdigest()
    wrong = f"/v1/blobs/{other}/upload"
    for at, piece in ((0, first), (100_000, rest)):
        r = c.patch(wrong, content=piece, headers={**h, **chunk_headers(at, len(data), piece)})
    assert r.status_code == 422 and r.json()["detail"].startswith("文件校验失败")
    assert "请重新上传" in r.json()["detail"]
    assert upload_offset(c, other, h) == 0
    assert not server_store(bw).has(other)
    assert not any(bw.app.state.blobs.partials.rglob(other + "*"))
    # Over the cap (8 MB here): refused from the headers, before anything is stored.
    big = f"/v1/blobs/{hashlib.sha256(b'big').hexdigest()}/upload"
    r = c.patch(big, content=first, headers={**h, **chunk_headers(0, 8 * MB + 1, first)})
    assert r.status_code == 413 and "文件过大：8.0 MB，每个附件最大 8.0 MB" in r.json()["detail"]
    # The original upload still finishes.
    r = c.patch(url, content=rest, headers={**h, **chunk_headers(100_000, len(data), rest)})
    assert r.status_code == 201 and r.headers["Upload-Complete"] == "1"
    assert server_store(bw).read(sha) == data
    r = c.head(url, headers=h)
    assert r.headers["Upload-Complete"] == "1" and r.headers["Upload-Offset"] == "300000"


def test_issue6_the_client_says_why_the_server_refused(
    bw: World, relay: Relay, tmp_path: Path
) -> None:
    """The uploader passes the server's refusal on (a file over the cap), and an upload to a
    server that cannot be reached gives up after its bounded time, in Chinese."""
    h = bw.ready("applicant_a")
    blobs, sha = local_blob(tmp_path, 9 * MB)
    with http(relay.url, h) as c, pytest.raises(BlobTransferError, match="文件过大") as err:
        BlobUploader(c, blobs).upload(sha)
    assert not err.value.retryable
    relay.link_down = True
    waits: list[float] = []
    with http(relay.url, h) as c, pytest.raises(BlobTransferError, match="网络一直没有恢复"):
        BlobUploader(c, blobs, give_up_after=0.3, backoff=0.01, sleep=waits.append).upload(sha)
    assert len(waits) >= 2 and all(0 <= w <= 30 for w in waits)


def test_issue6_busy_server_answers_are_waited_out(bw: World, tmp_path: Path) -> None:
    """503 and 429 are waited out with a growing, jittered backoff, then the upload goes on
    from the server's offset."""
    h = bw.ready("applicant_a")
    blobs, sha = local_blob(tmp_path, 700_000)
    busy = iter([503, 429, 503])
    real = httpx.HTTPTransport()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "PATCH" and request.headers["Upload-Offset"] == str(DEFAULT_CHUNK):
            status = next(busy, None)
            if status is not None:
                request.read()
                return httpx.Response(status)
        return real.handle_request(request)

    waits: list[float] = []
    with live_server(bw.app) as url:
        transport = httpx.MockTransport(handler)
        with httpx.Client(base_url=url, headers=h, transport=transport) as c:
            up = BlobUploader(c, blobs, backoff=0.01, sleep=waits.append)
            up.upload(sha)
    assert len(waits) == 3
    assert server_store(bw).read(sha) == blobs.read(sha)


def attach(bw: World, app_id: str, sha: str, size: int) -> None:
    """An attachment row naming the blob, as the sync push will store it."""
    aid = uuid.UUID(app_id)
    row = domain.Attachment(
        application_id=aid, owner_table="application", owner_id=aid, slot="scan",
        sha256=sha, original_name="扫描件.pdf", size=size,
    )  # fmt: skip
    with Session(bw.engine) as db:
        content.put_rows(db, [row])
        db.commit()


def open_application(bw: World, headers: dict[str, str]) -> str:
    r = bw.client().post("/applications", json={"year": this_year()}, headers=headers)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_issue6_download_resumes_with_ranges_and_only_for_those_who_may_see(
    bw: World, relay: Relay, tmp_path: Path
) -> None:
    """Download: cut mid-way, it resumes with a Range from what it has, and keeps the file
    only when it hashes to its name. Only those who may see an application whose attachment
    names the blob get it: another applicant gets the same 404 as for an absent blob."""
    ha = bw.ready("applicant_a")
    blobs, sha = local_blob(tmp_path, 2 * MB)
    with http(relay.url, ha) as c:
        BlobUploader(c, blobs).upload(sha)
    hb, admin_a, admin_b = bw.ready("applicant_b"), bw.ready("admin_a"), bw.ready("admin_b")
    with http(relay.url, ha) as c:
        assert c.get(f"/v1/blobs/{sha}").status_code == 404  # no attachment names it yet
    attach(bw, open_application(bw, ha), sha, 2 * MB)

    mine = BlobStore(tmp_path / "downloaded")
    relay.reset()
    relay.cut_down_at = MB  # mid-file
    with http(relay.url, ha) as c:
        down = BlobUploader(c, mine, backoff=0.01)
        down.download(sha, mine)
    assert relay.cuts == 1
    assert mine.read(sha) == blobs.read(sha)
    lines = [line.lower() for part in relay.seen for line in part.split(b"\r\n")]
    assert any(line.startswith(b"range: bytes=") for line in lines)  # it resumed
    assert down.bytes_received <= 2 * MB + 64 * 1024 * 2  # what was cut, not sent twice
    assert not list((tmp_path / "downloaded").glob(".tmp-*"))

    with http(relay.url, ha) as c:
        r = c.get(f"/v1/blobs/{sha}", headers={"Range": "bytes=100-199"})
        assert r.status_code == 206 and r.content == blobs.read(sha)[100:200]
        assert r.headers["Content-Range"] == f"bytes 100-199/{2 * MB}"
        assert r.headers["ETag"] == f'"{sha}"'
        r = c.get(f"/v1/blobs/{sha}", headers={"Range": "bytes=-10"})
        assert r.status_code == 206 and r.content == blobs.read(sha)[-10:]
        r = c.get(f"/v1/blobs/{sha}", headers={"Range": f"bytes={2 * MB}-"})
        assert r.status_code == 416 and r.headers["Content-Range"] == f"bytes */{2 * MB}"
        assert "文件共 2097152 字节" in r.json()["detail"]
        r = c.head(f"/v1/blobs/{sha}")
        assert r.status_code == 200 and r.headers["Content-Length"] == str(2 * MB)
        assert c.get(f"/v1/blobs/{sha}", headers={"If-None-Match": f'"{sha}"'}).status_code == 304
    absent = hashlib.sha256(b"nobody has this").hexdigest()
    for who in (hb, admin_b):
        with http(relay.url, who) as c:
            theirs = c.get(f"/v1/blobs/{sha}")
            nothing = c.get(f"/v1/blobs/{absent}")
            assert theirs.status_code == nothing.status_code == 404
            assert theirs.json() == nothing.json() == {"detail": "找不到该附件，或您无权查看"}
    with http(relay.url, admin_a) as c:  # the applicant's unit sees it
        assert c.get(f"/v1/blobs/{sha}").content == blobs.read(sha)
    with http(relay.url, hb) as c, pytest.raises(BlobTransferError, match="您无权查看"):
        BlobUploader(c, BlobStore(tmp_path / "b")).download(sha, BlobStore(tmp_path / "b"))


def test_issue6_only_writing_roles_upload(bw: World, tmp_path: Path) -> None:
    """Helpdesk and office accounts read; they cannot upload or ask what is missing (403,
    in Chinese)."""
    data = b"%PDF-1.4 scan"
    sha = hashlib.sha256(data).hexdigest()
    c = bw.client()
    for who in ("helpdesk", "office"):
        h = bw.ready(who)
        r = c.patch(
            f"/v1/blobs/{sha}/upload", content=data, headers={**h, **chunk_headers(0, 13, data)}
        )
        assert r.status_code == 403 and r.json()["detail"] == "您的帐号无权执行此操作"
        assert c.head(f"/v1/blobs/{sha}/upload", headers=h).status_code == 403
        r = c.post("/v1/blobs/missing", json={"sha256": [sha]}, headers=h)
        assert r.status_code == 403
    assert not server_store(bw).has(sha)
    assert c.post("/v1/blobs/missing", json={"sha256": [sha]}).status_code == 401


def test_issue6_simultaneous_chunks_for_one_upload_do_not_interleave(
    bw: World, relay: Relay
) -> None:
    """The same first chunk sent eight times at once (retries racing their originals): one
    is appended, the others are told where the server stands (409); never twice."""
    h = bw.ready("applicant_a")
    data = os.urandom(600_000)
    sha = hashlib.sha256(data).hexdigest()
    first = data[:300_000]
    start = threading.Barrier(8)
    statuses: list[int] = []

    def send() -> None:
        with http(relay.url, h) as c:
            start.wait()
            r = c.patch(
                f"/v1/blobs/{sha}/upload", content=first, headers=chunk_headers(0, 600_000, first)
            )
            statuses.append(r.status_code)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(statuses) == [204] + [409] * 7
    with http(relay.url, h) as c:
        assert upload_offset(c, sha, h) == 300_000


def test_issue6_a_slow_download_holds_no_database_slot(bw: World, tmp_path: Path) -> None:
    """A download to a reader who stops reading (a 20 KB/s link) must not keep a database
    slot: with a pool of one, other requests are answered meanwhile."""
    bw.app.state.settings.db_pool_size = 1
    ha = bw.ready("applicant_a")
    data = os.urandom(20 * MB)  # more than the socket buffers hold: the stream stalls
    sha = server_store(bw).put(data)
    attach(bw, open_application(bw, ha), sha, len(data))
    with (
        live_server(bw.app) as url,
        http(url, ha) as reader,
        http(url, ha) as other,
        reader.stream("GET", f"/v1/blobs/{sha}") as r,
    ):
        assert r.status_code == 200
        next(r.iter_bytes(64 * 1024))  # then stop reading
        other.timeout = httpx.Timeout(5)
        assert other.post("/v1/blobs/missing", json={"sha256": [sha]}).json() == {"missing": []}
        assert other.get(f"/v1/blobs/{sha}", headers={"Range": "bytes=0-9"}).content == (data[:10])
