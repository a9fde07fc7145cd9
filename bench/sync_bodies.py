"""Realistic sync bodies (`zctui.domain.sync`) made from the demo workspace, for the byte
bench (`sync_bytes.py`) and the dictionary trainer (`sync_zdict.py`).

Mutations come from the store's outbox folded per row, as the client sends them (an insert
and the edits after it are one insert with the last values). Responses are what the
server answers: results of the pushed mutations (its own `ok` rows are not sent back to a
client), and for a pull, `Change`s carrying every column of a row.
"""

from __future__ import annotations

import json
import random
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zctui.demo import build_demo
from zctui.domain.models import Application
from zctui.domain.sync import Change, Mutation, Result, SyncIn, SyncOut
from zctui.store.repository import Store

YEAR = 2025
CATALOG = 1


@dataclass
class Demo:
    store: Store
    complete: Application
    half_done: Application

    def mutations(self, app: Application, first_seq: int = 1) -> list[Mutation]:
        """The outbox of one application, folded per row, numbered from `first_seq`."""
        groups: dict[uuid.UUID, list[Any]] = {}
        for e in self.store.outbox():
            if e.application_id == app.id or (
                e.table_name == "person" and e.row_id == app.person_id
            ):
                groups.setdefault(e.row_id, []).append(e)
        out = []
        for n, entries in enumerate(groups.values()):
            first = entries[0]
            ch: dict[str, list[Any]] = {}
            for e in entries:
                for name, (old, new) in json.loads(e.changes).items():
                    ch[name] = [ch[name][0] if name in ch else old, new]
            if first.op == "insert":
                ch = {k: [None, v[1]] for k, v in ch.items() if v[1] is not None}
            out.append(
                Mutation(
                    seq=first_seq + n, id=first.mutation_id, t=first.table_name,
                    row=first.row_id, app=first.application_id, op=first.op, ch=ch,
                    base=first.base_rev,
                )
            )  # fmt: skip
        return out

    def rows(self, app: Application) -> list[tuple[str, dict[str, Any]]]:
        """Every row of the application (the person too) as the server's pull sends it."""
        data = self.store.load(app.id)
        rows: list[Any] = [data.person, data.application, *data.singles.values()]
        rows += [r for items in data.lists.values() for r in items]
        rows += data.attachments
        return [(str(r.__tablename__), r.model_dump(mode="json")) for r in rows]


def demo(folder: Path | None = None) -> Demo:
    folder = folder or Path(tempfile.mkdtemp(prefix="zctui-sync-bodies-"))
    complete, half = build_demo(folder / "ws.sqlite3", year=YEAR, force=True)
    return Demo(Store(folder / "ws.sqlite3"), complete, half)


def answer(muts: list[Mutation], cursor: int, changes: list[Change] | None = None) -> SyncOut:
    """The server's answer to a push it applied in full, from change number `cursor` on."""
    results = [Result(seq=m.seq, st="ok", rev=cursor + i + 1) for i, m in enumerate(muts)]
    return SyncOut(
        acked=muts[-1].seq if muts else 0,
        results=results,
        changes=changes or [],
        cursor=cursor + len(muts),
        catalog=CATALOG,
    )


def one_field_edit(d: Demo, client: uuid.UUID) -> tuple[SyncIn, SyncOut]:
    """The applicant corrects the work phone of 基本信息 after the first sync."""
    basic = next(row for t, row in d.rows(d.complete) if t == "basic_info")
    m = Mutation(
        seq=112, id=uuid.uuid4(), t="basic_info", row=uuid.UUID(basic["id"]),
        app=d.complete.id, op="update", ch={"work_phone": [basic["work_phone"], "0317-2123457"]},
        base=2361,
    )  # fmt: skip
    body = SyncIn(client=client, cursor=2380, muts=[m], catalog=CATALOG)
    return body, answer([m], 2404)


def no_change(client: uuid.UUID) -> tuple[SyncIn, SyncOut]:
    body = SyncIn(client=client, cursor=2405, catalog=CATALOG)
    return body, SyncOut(acked=112, cursor=2405, catalog=CATALOG)


def full_push(d: Demo, client: uuid.UUID) -> tuple[SyncIn, SyncOut]:
    """The first sync of the complete application: every row, no file bytes."""
    muts = d.mutations(d.complete)
    return SyncIn(client=client, muts=muts, catalog=CATALOG), answer(muts, 0)


def pull_one_row(d: Demo, client: uuid.UUID) -> tuple[SyncIn, SyncOut]:
    """Another computer changed 基本信息 (the longest single row, with the 个人总结)."""
    t, row = next((t, row) for t, row in d.rows(d.complete) if t == "basic_info")
    change = Change(t=t, rev=2406, row={**row, "rev": 2406})
    body = SyncIn(client=client, cursor=2405, catalog=CATALOG)
    return body, SyncOut(acked=112, changes=[change], cursor=2406, catalog=CATALOG)


# ---------------------------------------------------------------------- training samples
def training_samples(d: Demo, seed: int = 6) -> list[bytes]:
    """Bodies for the dictionary, from the half-done application only (the complete one is
    held out for the bench), with fresh UUIDs and hashes in each (they are random on the
    wire too: a dictionary must not learn them). Both ways of writing a body: the client's
    (defaults left out) and FastAPI's (every field)."""
    rng = random.Random(seed)
    app = d.half_done
    muts = d.mutations(app)
    rows = d.rows(app)
    out: list[SyncIn | SyncOut] = []
    values = [v for _, row in rows for v in row.values() if isinstance(v, str) and len(v) < 40]
    for _ in range(3):
        client = _uuid(rng)
        cursor = rng.randint(1, 50_000)
        for m in muts:
            out.append(SyncIn(client=client, cursor=cursor, muts=[_fresh(m, rng)], catalog=CATALOG))
        batch = [_fresh(m, rng) for m in muts]
        out.append(SyncIn(client=client, cursor=cursor, muts=batch, catalog=CATALOG))
        out.append(answer(batch, cursor))
        for t, row in rows:
            for name, old in row.items():
                if name in ("id", "application_id", "rev", "updated_at", "deleted"):
                    continue
                m = Mutation(
                    seq=rng.randint(1, 3000), id=_uuid(rng), t=t, row=_uuid(rng),
                    app=_uuid(rng), op="update", ch={name: [old, rng.choice(values)]},
                    base=rng.randint(1, cursor),
                )  # fmt: skip
                out.append(SyncIn(client=client, cursor=cursor, muts=[m], catalog=CATALOG))
                out.append(answer([m], cursor + rng.randint(0, 40)))
            change = Change(t=t, rev=cursor + 1, row=_fresh_row(row, rng))
            out.append(SyncOut(acked=rng.randint(0, 3000), changes=[change], cursor=cursor + 1))
        out.append(SyncIn(client=client, cursor=cursor, catalog=CATALOG))
        out.append(SyncOut(acked=rng.randint(0, 3000), cursor=cursor, catalog=CATALOG))
    bodies = []
    for body in out:
        bodies.append(body.model_dump_json(exclude_defaults=True).encode())
        bodies.append(body.model_dump_json().encode())
    return bodies


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _fresh(m: Mutation, rng: random.Random) -> Mutation:
    ch = {k: [old, _fresh_value(new, rng)] for k, (old, new) in m.ch.items()}
    return m.model_copy(update={"id": _uuid(rng), "row": _uuid(rng), "app": _uuid(rng), "ch": ch})


def _fresh_row(row: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    return {k: _fresh_value(v, rng) for k, v in row.items()}


def _fresh_value(value: Any, rng: random.Random) -> Any:
    if not isinstance(value, str):
        return value
    try:
        uuid.UUID(value)
        return str(_uuid(rng))
    except ValueError:
        pass
    if len(value) == 64 and all(c in "0123456789abcdef" for c in value):
        return f"{rng.getrandbits(256):064x}"
    return value
