"""Benchmarks for the foundation: checklist recompute and saved-edit cost.

Prints absolute figures and a ratio to a baseline measured in the same run, since these
machines are noisy:
- checklist recompute on the complete demo (goal ≤ 5 ms), against a baseline that reads
  every field of every row once (the least any checklist must do);
- one saved field edit (row + outbox, own transaction, synchronous=FULL), against the same
  two statements through the bare sqlite3 module with the same pragmas (the fsync floor).

Run: `make bench` (or `.venv/bin/python bench/run.py`). Exit 1 when a goal is missed.
"""

from __future__ import annotations

import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from zctui.data.catalog import load_catalog
from zctui.data.forms import load_forms
from zctui.demo import build_demo
from zctui.domain.aggregate import ApplicationData
from zctui.domain.checklist import run_checklist
from zctui.store.repository import Store

CHECKLIST_GOAL_MS = 5.0


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def touch_every_field(data: ApplicationData) -> int:
    n = 0
    rows = [data.application, *data.singles.values()]
    rows += [r for rs in data.lists.values() for r in rs]
    for row in rows:
        for name in type(row).model_fields:
            n += getattr(row, name) is not None
    return n + len(data.attachments)


def raw_sqlite_edit(path: Path, repeat: int) -> list[float]:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS t (id TEXT PRIMARY KEY, v TEXT, rev INT)")
    conn.execute("CREATE TABLE IF NOT EXISTS o (seq INTEGER PRIMARY KEY, row TEXT, ch TEXT)")
    conn.execute("INSERT OR REPLACE INTO t VALUES ('a', '', 0)")
    out = []
    for i in range(repeat):
        t = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("SELECT v, rev FROM t WHERE id='a'").fetchone()
        conn.execute("UPDATE t SET v=? WHERE id='a'", (f"v{i}",))
        conn.execute("INSERT INTO o (row, ch) VALUES ('a', ?)", (f'{{"v": [null, "v{i}"]}}',))
        conn.execute("COMMIT")
        out.append((time.perf_counter() - t) * 1000)
    conn.close()
    return out


def main() -> int:
    load_catalog(), load_forms()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        done, _ = build_demo(path, year=2026)
        with Store(path) as store:
            data = store.load(done.id)
            assert run_checklist(data).complete, "the complete demo must be complete"
            run_checklist(data)  # warm caches
            check_ms = statistics.median(timed(lambda: run_checklist(data), 300))
            base_ms = statistics.median(timed(lambda: touch_every_field(data), 300))
            load_ms = statistics.median(timed(lambda: store.load(done.id), 50))

            basic_id = store.single("basic_info", done.id).id
            values = iter(f"{uuid.uuid4().hex[:8]}" for _ in range(10_000))
            edit = timed(
                lambda: store.set_field("basic_info", basic_id, "mobile", next(values)), 300
            )
        raw = raw_sqlite_edit(Path(tmp) / "raw.sqlite3", 300)

    edit_ms, raw_ms = statistics.median(edit), statistics.median(raw)
    rows = [
        ("checklist recompute, complete demo", check_ms, f"goal ≤ {CHECKLIST_GOAL_MS} ms"),
        ("  baseline: read every field once", base_ms, f"ratio {check_ms / base_ms:.1f}×"),
        ("load the application from SQLite", load_ms, ""),
        ("saved field edit (row + outbox, FULL sync)", edit_ms, f"p95 {sorted(edit)[284]:.2f} ms"),
        ("  baseline: bare sqlite3, same statements", raw_ms, f"ratio {edit_ms / raw_ms:.1f}×"),
    ]
    for name, ms, note in rows:
        print(f"{name:<46} {ms:8.3f} ms   {note}")
    ok = check_ms <= CHECKLIST_GOAL_MS
    print("checklist goal:", "met" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
