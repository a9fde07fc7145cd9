"""The helpdesk lookup (issue 8) over many applicants: by full ID number (an indexed
equality, the baseline), by name (an indexed prefix) and by pinyin initials (the names read
and matched in Python: initials are not stored), on SQLite, through the HTTP API.

Run: `.venv/bin/python bench/helpdesk.py [N] [--profile]` (N applicant accounts, default
20000; --profile shows where a pinyin lookup spends its time).
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import insert
from sqlalchemy.orm import Session
from stdnum.cn import ric

from zctui.server import admin
from zctui.server.app import create_app
from zctui.server.db import make_engine
from zctui.server.models import Account
from zctui.server.settings import ServerSettings

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"
PASSWORD = "Zc#2024abc!"


def ident(n: int) -> str:
    """A valid ID number per n: a birth day and a sequence number."""
    born = date(1960, 1, 1) + timedelta(days=n % 15_000)
    body = f"130902{born:%Y%m%d}{n // 15_000 % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def main(n: int) -> None:
    rnd = random.Random(8)
    with tempfile.TemporaryDirectory() as tmp:
        settings = ServerSettings(data_dir=Path(tmp), secret="bench", argon2_time_cost=1,
                                  argon2_memory_cost=1024, argon2_parallelism=1)  # fmt: skip
        engine = make_engine(f"sqlite:///{Path(tmp) / 'server.sqlite3'}")
        app = create_app(settings, engine=engine)
        sec = app.state.security
        with Session(engine) as db:
            office = admin.create_unit(db, name="沧州市职改办", kind="office", city="沧州市")
            unit = admin.create_unit(db, name="沧州市人民医院", parent=office.name)
            desk = admin.create_account(db, sec, id_number=ident(999_999), name="刘热线",
                                        role="helpdesk", unit=None)  # fmt: skip
            desk.password_hash = sec.hash(PASSWORD)
            desk.must_change, desk.default_set_at = False, None
            db.add(desk)
            rows, seen = [], set()
            for i in range(n):
                number = ident(i)
                if number in seen:
                    continue
                seen.add(number)
                name = rnd.choice(SURNAMES) + "".join(rnd.choices(GIVEN, k=rnd.randint(1, 2)))
                rows.append({"id": uuid.uuid4(), "id_number": number, "name": name,
                             "role": "applicant", "unit_id": unit.id,
                             "password_hash": "x"})  # fmt: skip
            db.execute(insert(Account), rows)
            db.commit()
            desk_id, desk_uuid = desk.id_number, desk.id
        c = TestClient(app)
        token = c.post("/auth/login", json={"id_number": desk_id, "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['token']}"}
        some = rows[len(rows) // 2]
        cases = {"full ID number (baseline)": some["id_number"], "name": some["name"],
                 "pinyin initials": "wf"}  # fmt: skip
        print(f"{len(rows)} applicants on SQLite; median of 15 lookups each, after one warm-up")
        base = None
        for label, q in cases.items():
            c.get("/helpdesk/people", params={"q": q}, headers=headers)
            times = []
            for _ in range(15):
                t = time.perf_counter()
                r = c.get("/helpdesk/people", params={"q": q}, headers=headers)
                times.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200, r.text
            med = statistics.median(times)
            base = base or med
            found = len(r.json()["people"])
            print(f"  {label:28} {med:8.1f} ms  ×{med / base:5.1f}  ({found} found)")
        if "--profile" in sys.argv:  # the handler itself, in this thread
            import cProfile
            import pstats

            from zctui.server.routers import helpdesk

            with Session(engine) as db:
                caller = type("C", (), {"account": db.get(Account, desk_uuid), "address": "-"})
                prof = cProfile.Profile()
                prof.runcall(helpdesk.lookup, db, caller, "wf")  # type: ignore[arg-type]
                pstats.Stats(prof).sort_stats("cumtime").print_stats(25)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 20_000)
