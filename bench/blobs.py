"""Attachment upload (issue 6): a 5 MB scan sent by BlobUploader in chunks of 64 KiB,
256 KiB (the default) and 960 KiB, against uvicorn over loopback on SQLite; beside one
plain PUT of the same bytes to a bare endpoint of the same server process (the floor:
no chunking, no digests, no fsync per chunk).

Prints, per chunk size: requests, the bytes on the wire beyond the file itself (request
and response headers), what they add at the applicants' 20 KB/s, and the loopback time as
a multiple of the bare PUT's. Goal: at the default chunk the headers add ≤ 1 % to the
bytes sent (the time on a slow link is the bytes).

Run: `.venv/bin/python bench/blobs.py`. Exit 1 when the goal is missed.
"""

from __future__ import annotations

import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import uvicorn
from fastapi import Request, Response
from sqlalchemy.orm import Session

from zctui.domain.validators import DEFAULT_PASSWORD
from zctui.server import admin
from zctui.server.app import UVICORN_OPTIONS, create_app
from zctui.server.settings import ServerSettings
from zctui.store.blobs import BlobStore
from zctui.sync.blobs import BlobUploader

SIZE = 5 * 1024 * 1024
SLOW_LINK = 20 * 1024  # bytes per second
GOAL_OVERHEAD = 0.01
ID_NUMBER = "130902198010100011"
PASSWORD = "Zc#2024abc!"


def wire_bytes(message: httpx.Request | httpx.Response) -> int:
    """Start line and header lines as HTTP/1.1 sends them."""
    if isinstance(message, httpx.Request):
        start = f"{message.method} {message.url.raw_path.decode()} HTTP/1.1"
    else:
        start = f"HTTP/1.1 {message.status_code} {message.reason_phrase}"
    lines = [start, *(f"{k.decode()}: {v.decode()}" for k, v in message.headers.raw)]
    return sum(len(x) + 2 for x in lines) + 2


def main() -> int:
    tmp = Path(tempfile.mkdtemp())
    settings = ServerSettings(
        data_dir=tmp / "server",
        secret="bench",
        argon2_time_cost=1,
        argon2_memory_cost=1024,
        max_body_bytes=2 * SIZE,  # the bare PUT sends the file whole
    )
    app = create_app(settings)
    raw_dir = tmp / "raw"
    raw_dir.mkdir()

    @app.put("/bench/raw", include_in_schema=False)
    async def raw(request: Request) -> Response:  # the floor: read it, write it once
        with (raw_dir / "scan").open("wb") as fh:
            async for piece in request.stream():
                fh.write(piece)
            fh.flush()
            os.fsync(fh.fileno())
        return Response(status_code=204)

    with Session(app.state.engine) as db:
        admin.create_unit(db, name="沧州市职改办", kind="office", city="沧州市")
        admin.create_unit(db, name="沧州市中西医结合医院", parent="沧州市职改办")
        admin.create_account(
            db, app.state.security, id_number=ID_NUMBER, name="杨丰", role="applicant",
            unit="沧州市中西医结合医院", phone="13831712345",
        )  # fmt: skip
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", **UVICORN_OPTIONS))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    try:
        return run(url, tmp)
    finally:
        server.should_exit = True


def token(url: str) -> str:
    with httpx.Client(base_url=url) as c:
        first = c.post("/auth/login", json={"id_number": ID_NUMBER, "password": DEFAULT_PASSWORD})
        c.post(
            "/auth/password",
            json={"old_password": DEFAULT_PASSWORD, "new_password": PASSWORD},
            headers={"Authorization": f"Bearer {first.json()['token']}"},
        ).raise_for_status()
        again = c.post("/auth/login", json={"id_number": ID_NUMBER, "password": PASSWORD})
        return str(again.json()["token"])


def run(url: str, tmp: Path) -> int:
    auth = {"Authorization": f"Bearer {token(url)}", "User-Agent": "zctui"}
    data = os.urandom(SIZE)
    with httpx.Client(base_url=url, headers=auth) as c:
        bare = []
        for _ in range(3):
            t = time.perf_counter()
            c.put("/bench/raw", content=data).raise_for_status()
            bare.append(time.perf_counter() - t)
    floor = statistics.median(bare)
    print(f"bare PUT of {SIZE / 2**20:.0f} MB: {floor * 1000:.0f} ms (median of 3)")
    ok = True
    for chunk in (64 * 1024, 256 * 1024, 960 * 1024):
        times: list[float] = []
        overheads: list[int] = []
        requests: list[int] = []
        for _ in range(3):
            local = BlobStore(tmp / f"client-{chunk}-{len(times)}")
            sha = local.put(data + chunk.to_bytes(4) + len(times).to_bytes(4))  # a new blob
            counted = {"headers": 0, "requests": 0}

            def count_request(r: httpx.Request, counted: dict[str, int] = counted) -> None:
                counted["headers"] += wire_bytes(r)
                counted["requests"] += 1

            def count_response(r: httpx.Response, counted: dict[str, int] = counted) -> None:
                counted["headers"] += wire_bytes(r) + len(r.read())

            hooks: dict[str, list[Callable[..., object]]] = {
                "request": [count_request],
                "response": [count_response],
            }
            with httpx.Client(base_url=url, headers=auth, event_hooks=hooks) as c:
                del c.headers["Connection"]
                t = time.perf_counter()
                BlobUploader(c, local, chunk_size=chunk).upload(sha)
                times.append(time.perf_counter() - t)
            overheads.append(counted["headers"])
            requests.append(counted["requests"])
        over = statistics.median(overheads)
        share = over / SIZE
        took = statistics.median(times)
        print(
            f"chunk {chunk // 1024:>4} KiB: {statistics.median(requests):.0f} requests, "
            f"{over / 1024:.1f} KiB of headers ({share:.2%}, +{over / SLOW_LINK:.1f} s at "
            f"20 KB/s on {SIZE / SLOW_LINK:.0f} s), loopback {took * 1000:.0f} ms "
            f"= {took / floor:.1f}× bare"
        )
        if chunk == 256 * 1024 and share > GOAL_OVERHEAD:
            ok = False
    print("goal (≤ 1 % header bytes at 256 KiB):", "met" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
