"""Bytes on the wire of real syncs (issue 6's bench), counted at the flaky-link proxy
(`tests/flaky_proxy.py`) between the client (`SyncEngine` over `Transport`, as `zctui sync`
and the TUI use them) and uvicorn serving the real server on SQLite, logged in as the
demo's applicant:

- first full sync of the complete demo application, without PDFs (goal ≤ 60 KB);
- a one-field edit, on the kept-alive connection (goal ≤ 600 B);
- a sync with no changes (goal ≤ 450 B);
- a 5 MB file uploaded over a link cut three times mid-chunk: bytes sent beyond the file's
  own, per cut (goal ≤ one chunk each).

Request line, headers and bodies both ways, as compressed. Byte counts do not depend on
the machine's speed, so no baseline run is needed beside them.

Run: `.venv/bin/python bench/sync_wire.py` (in `make bench`). Exit 1 when a goal is missed.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from flaky_proxy import FlakyProxy, proxy_to, serve
from server_world import build_world, settings, this_year
from zctui.demo import build_complete
from zctui.server.app import create_app
from zctui.server.db import make_engine
from zctui.store.blobs import BlobStore
from zctui.store.repository import Store
from zctui.sync.blobs import DEFAULT_CHUNK, BlobUploader
from zctui.sync.engine import SyncEngine
from zctui.sync.transport import Transport

GOALS = {
    "first full sync (demo, no PDFs)": 60_000,
    "one-field edit": 600,
    "no-change sync": 450,
    "re-sent per cut, 5 MB upload": DEFAULT_CHUNK,
}


def measure(tmp: Path) -> dict[str, int]:
    engine = make_engine(f"sqlite:///{tmp / 'server.sqlite3'}")
    app = create_app(settings(tmp / "server"), engine=engine)
    world = build_world(app, engine, app.state.security)
    figures: dict[str, int] = {}
    with serve(app) as server, proxy_to(server) as proxy:
        token = world.ready("applicant_a")["Authorization"].removeprefix("Bearer ")
        store = Store(tmp / "ws" / "ws.sqlite3")
        blobs = BlobStore(tmp / "ws" / "blobs")
        demo = build_complete(store, blobs, this_year())
        transport = Transport(proxy.url, token=token)
        sync = SyncEngine(store, transport)

        def bytes_of(run: object) -> int:
            proxy.reset_counters()
            assert callable(run)
            run()
            return proxy.up + proxy.down

        figures["first full sync (demo, no PDFs)"] = bytes_of(sync.sync)
        info = store.single("basic_info", demo.id)
        store.set_field("basic_info", info.id, "mobile", "13912345678")
        figures["one-field edit"] = bytes_of(sync.sync)
        assert proxy.accepts == 0, "the connection was not kept alive"
        figures["no-change sync"] = bytes_of(sync.sync)
        figures["re-sent per cut, 5 MB upload"] = cut_upload(proxy, transport, blobs)
        transport.close()
        store.close()
    engine.dispose()
    return figures


def cut_upload(proxy: FlakyProxy, transport: Transport, blobs: BlobStore) -> int:
    """A 5 MB file, the link reset halfway through a chunk three times; the uploader
    resumes from the server's offset each time. Bytes sent beyond the file, per cut."""
    size = 5 * 1024 * 1024
    sha = blobs.put(os.urandom(size))
    uploader = BlobUploader(transport.http, blobs, backoff=0.01, backoff_max=0.05)
    proxy.reset_counters()
    arm_at = [3, 9, 15]  # after these chunks, the next chunk's request is cut halfway

    def progress(held: int, _size: int) -> None:
        if arm_at and held >= arm_at[0] * DEFAULT_CHUNK:
            arm_at.pop(0)
            proxy.reset_next_request(after=DEFAULT_CHUNK // 2)

    uploader.upload(sha, progress)
    cuts = proxy.resets_made
    assert cuts == 3, f"{cuts} cuts made, 3 asked"
    assert not uploader.missing([sha]), "the upload did not finish"
    return (uploader.bytes_sent - size) // cuts


def main() -> int:
    with tempfile.TemporaryDirectory() as d:
        figures = measure(Path(d))
    missed = False
    print(f"{'sync, bytes on the wire (both ways)':<36} {'bytes':>8} {'goal':>8}")
    for name, value in figures.items():
        goal = GOALS[name]
        ok = value <= goal
        missed |= not ok
        print(f"{name:<36} {value:>8} {goal:>8}  {'met' if ok else 'MISSED'}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
