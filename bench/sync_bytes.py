"""Bytes on the wire for a sync round trip, per coding (identity, gzip, zstd, zstd-d1),
counted at the flaky-link proxy (`tests/flaky_proxy.py`) between the client transport
(`zctui.sync.transport`) and uvicorn serving the real `create_app` stack (BodyLimit,
AccessLog, Compression) on SQLite.

What crosses: request line and headers (Host, Authorization with a real-length token,
Content-Type/-Length, the codings) and the answer's status line and headers, bodies as
compressed. Every case runs on a connection opened before it (kept alive): no handshake.

The server's `/v1/sync` is built elsewhere (issue 6), so the bodies go to an echo route of
this bench's own at `/v1/echo` (as long a path as `/v1/sync`), which checks the request
arrived intact and answers the `SyncOut` the real endpoint would give, serialised as
FastAPI does (`response_model=SyncOut`). This measures the transport and the codings, not
the sync logic. The bodies (`sync_bodies.py`):
- one-field edit: a `SyncIn` with one update of 基本信息 and its `SyncOut` (goal ≤ 600 B);
- no-change sync: cursor only, answered with nothing new (goal ≤ 450 B);
- pull of one changed row: 基本信息 with its 个人总结, changed on another computer;
- first full push of the complete demo application, files excluded (goal ≤ 60 KB), also
  timed over a 20 KB/s link with 50 ms latency each way.

Before that, where compression starts to pay: for realistic bodies of 60–400 bytes, the
bytes each coding saves after its own header (`Content-Encoding`, and `Vary` on answers).

"default" is the transport as the client uses it: every coding offered, the server picks
(zstd-d1), and from the second request on only that one is asked for.

Run: `PYTHONPATH=src .venv/bin/python bench/sync_bytes.py` (in `make bench`). Exit 1 when
a goal is missed by the default.
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request

import sync_bodies
from zctui.domain import codec
from zctui.domain.sync import Mutation, Result, SyncIn, SyncOut
from zctui.server.app import create_app
from zctui.server.settings import ServerSettings
from zctui.sync.transport import Transport

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from flaky_proxy import FlakyProxy, proxy_to, serve

GOALS = {"one-field edit": 600, "no-change sync": 450, "first full push": 60_000}
# Each coding alone, and the transport's default (every coding offered, the server picks).
CODINGS: dict[str, tuple[str, ...] | None] = {
    "identity": (),
    "gzip": ("gzip",),
    "zstd": ("zstd",),
    codec.DICT_TOKEN: (codec.DICT_TOKEN,),
    "default": None,
}
TOKEN = "x" * 43  # secrets.token_urlsafe(32), as the server issues
ECHO = "/v1/echo"


def threshold(d: sync_bodies.Demo) -> None:
    """Saved bytes per coding, header included, for bodies around the threshold."""
    client = uuid.uuid4()
    bodies: list[tuple[str, bytes]] = []
    none_in, none_out = sync_bodies.no_change(client)
    bodies.append(("no-change ↑", none_in.model_dump_json(exclude_defaults=True).encode()))
    bodies.append(("no-change ↓", none_out.model_dump_json().encode()))
    for k in (1, 2, 3):
        muts = [
            Mutation(seq=100 + i, id=uuid.uuid4(), t="paper", row=uuid.uuid4(), op="update")
            for i in range(k)
        ]
        out = SyncOut(
            acked=100 + k,
            results=[Result(seq=m.seq, st="ok", rev=5000 + i) for i, m in enumerate(muts)],
            cursor=5000 + k,
        )
        bodies.append((f"{k} result(s) ↓", out.model_dump_json().encode()))
    edit_in, _ = sync_bodies.one_field_edit(d, client)
    for value in ("1", "0317-2123457", "中医外科临床" * 4):
        m = edit_in.muts[0].model_copy(update={"ch": {"work_phone": ["", value]}})
        body = edit_in.model_copy(update={"muts": [m]})
        bodies.append(
            (f"edit {len(value)} chars ↑", body.model_dump_json(exclude_defaults=True).encode())
        )
    bodies.sort(key=lambda b: len(b[1]))
    print("Where compression pays: bytes saved (negative: lost), its headers included")
    codings = codec.available()[::-1]
    print(f"{'body':>22} {'raw':>5} " + " ".join(f"{c:>8}" for c in codings))
    for name, data in bodies:
        saved = []
        for coding in codings:
            header = len(f"content-encoding: {coding}\r\n")
            if "↓" in name:
                header += len("vary: Accept-Encoding\r\n")
            saved.append(len(data) - len(codec.compress(data, coding)) - header)
        print(f"{name:>22} {len(data):>5} " + " ".join(f"{s:>8}" for s in saved))
    print(f"(thresholds in use, bytes: {codec.MIN_SIZE})\n")


class Wire:
    def __init__(self, proxy: FlakyProxy, app: Any) -> None:
        self.proxy, self.app = proxy, app

    def round_trip(self, t: Transport, body: SyncIn, answer: SyncOut) -> tuple[int, int, float]:
        self.app.state.bench_case = (body, answer)
        t.post_json(ECHO, body)  # opens the connection (or finds it open)
        self.proxy.reset_counters()
        start = time.perf_counter()
        r = t.post_json(ECHO, body)
        took = time.perf_counter() - start
        assert r.status_code == 200, r.text
        assert SyncOut.model_validate_json(r.content) == answer
        assert self.proxy.accepts == 0, "the connection was not kept alive"
        return self.proxy.up, self.proxy.down, took


def main() -> int:
    d = sync_bodies.demo()
    threshold(d)
    tmp = Path(tempfile.mkdtemp(prefix="zctui-sync-bytes-"))
    app = create_app(ServerSettings(data_dir=tmp, secret="bench"))

    @app.post(ECHO, response_model=SyncOut)
    def echo(body: SyncIn, request: Request) -> Any:
        expected, answer = request.app.state.bench_case
        if body.model_dump() != expected.model_dump():
            raise HTTPException(500, "bench: the body did not arrive intact")
        return answer

    client = uuid.uuid4()
    cases = {
        "one-field edit": sync_bodies.one_field_edit(d, client),
        "no-change sync": sync_bodies.no_change(client),
        "pull of one row": sync_bodies.pull_one_row(d, client),
        "first full push": sync_bodies.full_push(d, client),
    }
    missed = []
    with serve(app) as server, proxy_to(server) as proxy:
        wire = Wire(proxy, app)
        print(f"{'case':>16} {'coding':>8} {'↑ wire':>7} {'↓ wire':>7} {'total':>7} "
              f"{'body ↑':>7} {'body ↓':>7}  goal")  # fmt: skip
        for case, (body, answer) in cases.items():
            for coding, tokens in CODINGS.items():
                app.state.bench_case = (body, answer)
                with Transport(proxy.url, token=TOKEN, encodings=tokens) as t:
                    t.post_json(ECHO, body)  # warm: this coding's first answer
                    sent, received = t.sent_bytes, t.received_bytes
                    up, down, _ = wire.round_trip(t, body, answer)
                    body_up = (t.sent_bytes - sent) // 2
                    body_down = (t.received_bytes - received) // 2
                goal = GOALS.get(case)
                verdict = ""
                if goal is not None:
                    ok = up + down <= goal
                    verdict = f"≤ {goal} {'ok' if ok else 'MISSED'}"
                    if not ok and coding == "default":
                        missed.append(f"{case} {coding}")
                print(f"{case:>16} {coding:>8} {up:>7} {down:>7} {up + down:>7} "
                      f"{body_up:>7} {body_down:>7}  {verdict}")  # fmt: skip
        print("\nFirst full push over a 20 KB/s link, 50 ms each way:")
        body, answer = cases["first full push"]
        proxy.bandwidth, proxy.latency = 20_000, 0.05
        for coding, tokens in CODINGS.items():
            with Transport(proxy.url, token=TOKEN, encodings=tokens) as t:
                up, down, took = wire.round_trip(t, body, answer)
            print(f"{coding:>8} {up + down:>7} B  {took:5.2f} s")
        proxy.calm()
    if missed:
        print(f"goal missed: {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
