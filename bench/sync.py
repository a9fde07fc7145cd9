"""The sync endpoint's cost on PostgreSQL (issue 6), in process (httpx against the ASGI
app: the wire is not what is measured here), beside a plain read of the same application
in the same run (`GET /applications/{id}`: session, access query, one row) as the baseline.

Prints p50/p95 per request and the JSON bytes of each body for: a sync with nothing to do,
a one-field edit, a batch of 500 edits, and a pull of 2000 rows. DESIGN's bar: a no-change
sync and a one-field edit each well under a kilobyte on the wire (before compression here).

Run: `.venv/bin/python bench/sync.py [--repeat 50]` (ZCTUI_TEST_PG_URL overrides the database).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from zctui.domain.sync import SYNC_PATH
from zctui.server import admin
from zctui.server.app import create_app
from zctui.server.models import Account
from zctui.server.settings import ServerSettings

PG = os.environ.get("ZCTUI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PASSWORD = "Bench#2024pw"
IDENT = "130902198010100011"


def ms(samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=20) if len(samples) > 1 else samples * 19
    return f"p50 {statistics.median(samples) * 1000:7.1f} ms  p95 {q[18] * 1000:7.1f} ms"


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=50)
    a = p.parse_args()
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    root = create_engine(PG)
    with root.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(PG, connect_args={"options": f"-csearch_path={schema}"})
    try:
        settings = ServerSettings(db_url=PG, data_dir=Path(tempfile.mkdtemp()), secret="b",
                                  argon2_time_cost=1, argon2_memory_cost=1024)  # fmt: skip
        app = create_app(settings, engine=engine)
        with Session(engine) as db:
            admin.create_unit(db, name="沧州市职改办", kind="office", city="沧州市")
            admin.create_unit(db, name="沧州市人民医院", parent="沧州市职改办")
            acc = admin.create_account(db, app.state.security, id_number=IDENT, name="杨丰",
                                       role="applicant", unit="沧州市人民医院")  # fmt: skip
            db.get(Account, acc.id).password_hash = app.state.security.hash(PASSWORD)  # type: ignore[union-attr]
            db.get(Account, acc.id).must_change = False  # type: ignore[union-attr]
            db.commit()
        http = TestClient(app)
        token = http.post("/auth/login", json={"id_number": IDENT, "password": PASSWORD})
        h = {"Authorization": f"Bearer {token.json()['token']}"}
        client, seq = str(uuid.uuid4()), 0
        person, app_id = str(uuid.uuid4()), str(uuid.uuid4())

        def mut(t: str, row: str, op: str, ch: dict[str, Any], base: int = 0) -> dict[str, Any]:
            nonlocal seq
            seq += 1
            return {"seq": seq, "id": str(uuid.uuid4()), "t": t, "row": row, "op": op,
                    "ch": ch, "app": app_id, "base": base}  # fmt: skip

        def sync(muts: list[dict[str, Any]], cursor: int, page: int = 500) -> tuple[Any, float]:
            body = {"client": client, "cursor": cursor, "muts": muts, "page": page}
            t0 = time.perf_counter()
            r = http.post(SYNC_PATH, json=body, headers=h)
            took = time.perf_counter() - t0
            assert r.status_code == 200, r.text
            return r, took

        r, _ = sync([mut("person", person, "insert", {"id_number": [None, IDENT]}),
                     mut("application", app_id, "insert",
                         {"person_id": [None, person], "year": [None, 2025]})], 0)  # fmt: skip
        cursor = r.json()["cursor"]
        basic = str(uuid.uuid4())
        r, _ = sync(
            [mut("basic_info", basic, "insert", {"application_id": [None, app_id]})], cursor
        )
        rev, cursor = r.json()["results"][0]["rev"], r.json()["cursor"]

        base_t = []
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            http.get(f"/applications/{app_id}", headers=h)
            base_t.append(time.perf_counter() - t0)
        idle_t, idle_bytes = [], 0
        for _ in range(a.repeat):
            r, took = sync([], cursor)
            idle_t.append(took)
            idle_bytes = len(r.content)
        idle_req = len(json.dumps({"client": client, "cursor": cursor, "muts": [], "page": 500}))
        edit_t, edit_req, edit_resp, old = [], 0, 0, None
        for i in range(a.repeat):
            m = mut("basic_info", basic, "update", {"summary": [old, f"第{i}稿"]}, rev)
            edit_req = len(json.dumps({"client": client, "cursor": cursor, "muts": [m]}))
            r, took = sync([m], cursor)
            edit_t.append(took)
            edit_resp = len(r.content)
            rev, cursor, old = r.json()["results"][0]["rev"], r.json()["cursor"], f"第{i}稿"
        batch_t = []
        for _ in range(max(a.repeat // 10, 3)):
            rows = [str(uuid.uuid4()) for _ in range(500)]
            paper = {"application_id": [None, app_id], "title": [None, "论文" * 10]}
            muts = [mut("paper", x, "insert", paper) for x in rows]
            _, took = sync(muts, cursor)
            batch_t.append(took)
        pull_t, pull_bytes = [], 0
        for _ in range(max(a.repeat // 10, 3)):
            other = client
            client = str(uuid.uuid4())  # a new workspace: pulls everything
            r, took = sync([], 0, page=2000)
            client = other
            pull_t.append(took)
            pull_bytes = len(r.content)
        print("PostgreSQL, in process;", a.repeat, "repeats")
        print(f"baseline GET /applications/{{id}}   {ms(base_t)}")
        print(f"sync, nothing to do               {ms(idle_t)}  request {idle_req} B, "
              f"answer {idle_bytes} B")  # fmt: skip
        print(f"sync, one-field edit              {ms(edit_t)}  request {edit_req} B, "
              f"answer {edit_resp} B")  # fmt: skip
        per = statistics.median(batch_t) / 500 * 1000
        print(f"sync, 500 inserts in one request  {ms(batch_t)}  ({per:.2f} ms a mutation)")
        print(f"sync, pull of 2000 rows           {ms(pull_t)}  answer {pull_bytes // 1024} KiB")
        ratio = statistics.median(idle_t) / statistics.median(base_t)
        print(f"no-change sync / baseline read: {ratio:.2f}×")
        return 0
    finally:
        engine.dispose()
        with root.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        root.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
