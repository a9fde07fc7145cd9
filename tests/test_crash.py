"""Nothing reported saved is ever lost: 200 SIGKILLs at random moments while saving.

A forked child saves edits (field edits, new records, deletions) and reports each one on a
pipe only after `Store` returned. The parent kills it with SIGKILL at a random moment, then
checks that every reported edit is in the file with its outbox row, and that SQLite's
integrity check passes. The child's first act in each round is opening the store, so some
kills also land during open.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import time
import uuid
from pathlib import Path

import pytest

from zctui.store.repository import Store

ROUNDS = 200


def _child(path: Path, app_id: uuid.UUID, basic_id: uuid.UUID, round_no: int, wfd: int) -> None:
    rng = random.Random(round_no)
    try:
        store = Store(path)
        os.write(wfd, b"ready\n")
        for n in range(10_000):
            choice = rng.random()
            if choice < 0.6:
                value = f"r{round_no}-e{n}"
                field = rng.choice(["name", "summary", "mobile", "work_phone"])
                os.write(wfd, f"try set {basic_id} {field} {value}\n".encode())
                store.set_field("basic_info", basic_id, field, value)
                os.write(wfd, f"saved set {basic_id} {field} {value}\n".encode())
            elif choice < 0.9:
                row = store.add_record("paper", app_id, title=f"r{round_no}-p{n}")
                os.write(wfd, f"saved add {row.id} title r{round_no}-p{n}\n".encode())
            else:
                rows = store.load(app_id).rows("paper")
                if rows:
                    victim = rng.choice(rows).id
                    store.delete("paper", victim)
                    os.write(wfd, f"saved del {victim} - -\n".encode())
    finally:
        os._exit(0)


@pytest.mark.slow
def test_sigkill_while_saving_loses_nothing_reported(tmp_path: Path) -> None:
    path = tmp_path / "crash.sqlite3"
    with Store(path) as store:
        person = store.create_person("130902198910100016", "杨丰")
        app = store.create_application(person, 2026)
        basic_id = store.single("basic_info", app.id).id

    rng = random.Random(20261126)
    saved: list[tuple[str, str, str, str]] = []
    in_flight: dict[tuple[str, str], str] = {}
    last_saved: dict[tuple[str, str], str] = {}
    killed_mid_edit = 0
    for round_no in range(ROUNDS):
        rfd, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:  # child
            os.close(rfd)
            _child(path, app.id, basic_id, round_no, wfd)
        os.close(wfd)
        chunks = [os.read(rfd, 6)]  # "ready\n": the kill lands while saving, not while the
        # child is still opening the store (which on a loaded machine can take the whole window)
        time.sleep(rng.uniform(0.0, 0.06))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        while chunk := os.read(rfd, 65536):
            chunks.append(chunk)
        os.close(rfd)
        lines = b"".join(chunks).decode().splitlines()
        if lines and lines[-1].startswith("try"):
            killed_mid_edit += 1
        for line in lines:
            parts = line.split(" ")
            if len(parts) != 5:  # "ready", or a line cut by the kill
                continue
            status, op, row, field, value = parts
            if status == "try":
                in_flight[(row, field)] = value
            else:
                saved.append((op, row, field, value))
                if op == "set":
                    last_saved[(row, field)] = value

    assert len(saved) > ROUNDS, "the child should have saved many edits across the rounds"
    assert killed_mid_edit > 0, "some kills should land in the middle of an edit"

    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    with Store(path) as store:
        outbox = store.outbox()
        by_row: dict[str, list[dict[str, list[str | None]]]] = {}
        ops_by_row: dict[str, set[str]] = {}
        for e in outbox:
            by_row.setdefault(e.row_id.hex, []).append(json.loads(e.changes))
            ops_by_row.setdefault(e.row_id.hex, set()).add(e.op)
        basic = store.get("basic_info", basic_id)
        for op, row, field, value in saved:
            key = uuid.UUID(row).hex
            if op == "set":
                assert any(c.get(field, [None, None])[1] == value for c in by_row[key]), (
                    f"saved edit {field}={value} has no outbox row"
                )
            elif op == "add":
                assert store.get("paper", uuid.UUID(row)) is not None, f"saved paper {row} is gone"
                assert "insert" in ops_by_row[key]
            else:
                assert store.get("paper", uuid.UUID(row)).deleted
                assert "delete" in ops_by_row[key]
        # The stored value is the last one reported saved, or the one being saved at the kill.
        for (row, field), value in last_saved.items():
            current = getattr(basic, field)
            assert current in (value, in_flight.get((row, field))), (field, current, value)
