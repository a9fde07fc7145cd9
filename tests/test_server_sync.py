"""The server side of sync (issue 6; the protocol is domain/sync.py), on SQLite and
PostgreSQL: exactly-once push, change numbers and paged pulls, merges and conflicts, the
R12.2 lock, who may push and pull what, person aliases, bootstrap."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session
from sqlmodel import col

from server_world import DEMO_ID, UNIT_A, World, complete_application, this_year
from zctui.domain.sync import SNAPSHOT_PATH, SYNC_PATH
from zctui.server import changes
from zctui.server.db import migrate
from zctui.server.models import SECTION_TABLES, Audit, SyncChange, SyncCounter

BASIC = SECTION_TABLES["basic_info"]
MOBILE = "13831712345"


@dataclass
class Client:
    """One local store of one account: numbers its mutations and keeps its cursor."""

    world: World
    headers: dict[str, str]
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    seq: int = 0
    cursor: int = 0

    def mut(self, t: str, row: Any, op: str, ch: dict[str, Any], app: Any = None,
            base: int = 0) -> dict[str, Any]:  # fmt: skip
        self.seq += 1
        return {"seq": self.seq, "id": str(uuid.uuid4()), "t": t, "row": str(row), "op": op,
                "ch": ch, "app": str(app) if app else None, "base": base}  # fmt: skip

    def post(self, muts: list[dict[str, Any]] = (), **extra: Any) -> Any:  # type: ignore[assignment]
        body = {"client": str(self.id), "cursor": self.cursor, "muts": list(muts), **extra}
        return self.world.client().post(SYNC_PATH, json=body, headers=self.headers)

    def sync(self, *muts: dict[str, Any], **extra: Any) -> dict[str, Any]:
        r = self.post(list(muts), **extra)
        assert r.status_code == 200, r.text
        out: dict[str, Any] = r.json()
        self.cursor = out["cursor"]
        return out

    def pull_all(self, page: int = 500) -> list[dict[str, Any]]:
        """Pull until nothing is left, as the client does."""
        rows: list[dict[str, Any]] = []
        while True:
            out = self.sync(page=page)
            rows += out["changes"]
            if not out["more"]:
                return rows


def insert(values: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [None, v] for k, v in values.items()}


def start(world: World, key: str = "applicant_a", id_number: str = DEMO_ID,
          name: str = "杨丰") -> tuple[Client, uuid.UUID, uuid.UUID]:  # fmt: skip
    """An applicant's new workspace syncs its person, application and 基本信息 row."""
    c = Client(world, world.ready(key))
    person, app, basic = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    out = c.sync(
        c.mut("person", person, "insert", insert({"id_number": id_number, "name": name})),
        c.mut("application", app, "insert",
              insert({"person_id": str(person), "year": this_year(), "state": "draft",
                      "series": "230.zy", "title": "232"}), app),
        c.mut("basic_info", basic, "insert",
              insert({"application_id": str(app), "name": name, "mobile": MOBILE,
                      "id_number": id_number, "summary": "初稿"}), app),
    )  # fmt: skip
    assert [r["st"] for r in out["results"]] == ["ok", "ok", "ok"], out
    return c, app, basic


def row(world: World, row_id: uuid.UUID) -> dict[str, Any]:
    with Session(world.engine) as db:
        found = db.execute(select(BASIC).where(BASIC.c.id == row_id)).first()
        assert found is not None
        return dict(found._mapping)


def counter(world: World) -> int:
    with Session(world.engine) as db:
        return int(db.scalar(select(col(SyncCounter.n))) or 0)


# ---------------------------------------------------------------------- exactly once
def test_same_batch_twice_is_applied_once_and_answered_identically(world: World) -> None:
    """Issue 6: a retried batch (its answer was lost) changes nothing and gets the same answer."""
    c, app, basic = start(world)
    rev = row(world, basic)["rev"]
    batch = [
        c.mut("basic_info", basic, "update", {"summary": ["初稿", "二稿"]}, app, base=rev),
        c.mut("basic_info", basic, "update", {"mobile": [MOBILE, "13912345678"]}, app, base=rev),
    ]
    first = c.post(batch)
    n = counter(world)
    again = c.post(batch)
    assert first.status_code == again.status_code == 200
    assert again.json()["results"] == first.json()["results"]
    assert again.json()["acked"] == first.json()["acked"] == batch[-1]["seq"]
    assert counter(world) == n  # nothing took a change number the second time
    stored = row(world, basic)
    assert (stored["summary"], stored["mobile"]) == ("二稿", "13912345678")
    assert stored["rev"] == first.json()["results"][-1]["rev"]


def test_a_gap_is_refused_whole_with_the_seq_expected(world: World) -> None:
    c, app, basic = start(world)  # seqs 1–3 applied
    rev = row(world, basic)["rev"]
    n = counter(world)
    ok = c.mut("basic_info", basic, "update", {"summary": ["初稿", "丢失的"]}, app, base=rev)
    c.seq += 1  # seq 5 follows 4, which never arrives
    gap = c.mut("basic_info", basic, "update", {"name": ["杨丰", "杨峰"]}, app, base=rev)
    r = c.post([ok, gap])
    assert r.status_code == 409
    assert r.json()["expected"] == 5 and "第 5 号" in r.json()["detail"]
    skipped = c.post([gap])
    assert skipped.status_code == 409 and skipped.json()["expected"] == 4
    assert counter(world) == n and row(world, basic)["summary"] == "初稿"  # nothing applied


# ---------------------------------------------------------------------- change numbers, pull
def test_change_numbers_increase_and_a_pull_pages_through_them(world: World) -> None:
    c, app, basic = start(world)
    revs: list[int] = []
    # Another workspace of the same applicant pulls everything, two rows a round.
    other = Client(world, c.headers)
    before = other.cursor
    rows = other.pull_all(page=2)
    assert [x["t"] for x in rows] == ["person", "application", "basic_info"]
    assert other.cursor > before and other.cursor == counter(world)
    assert rows[2]["row"]["summary"] == "初稿" and rows[1]["row"]["state"] == "draft"
    assert "owner_id" not in rows[1]["row"]  # the domain's columns only
    # Each edit takes a larger number; a pull after the cursor returns exactly what changed.
    rev = rows[2]["rev"]
    for i in range(3):
        ch = {"summary": [f"稿{i - 1}" if i else "初稿", f"稿{i}"]}
        out = c.sync(c.mut("basic_info", basic, "update", ch, app, base=rev))
        assert out["results"][0]["st"] == "ok" and out["results"][0]["rev"] > rev
        revs.append(rev := out["results"][0]["rev"])
        assert out["changes"] == []  # the author's own change is not sent back
    assert revs == sorted(set(revs))
    pulled = other.pull_all(page=2)
    assert [(x["t"], x["row"]["summary"], x["rev"]) for x in pulled] == [("basic_info", "稿2", rev)]
    assert other.pull_all() == []  # nothing new: the cursor stays
    assert other.cursor == counter(world)


def test_a_pull_never_skips_a_change_that_commits_late(world: World) -> None:
    """A writer takes number N and sleeps before committing; another writes N+1 meanwhile; a
    pull taken in between must not move its cursor past N (changes.py)."""
    c, app, basic = start(world)
    reader = Client(world, c.headers)
    reader.pull_all()
    took, done = threading.Event(), threading.Event()
    late: dict[str, int] = {}

    def slow_writer() -> None:
        with Session(world.engine) as db:
            n = changes.next_change(db)
            db.execute(update(BASIC).where(BASIC.c.id == basic).values(summary="慢的", rev=n))
            changes.record_change(db, "basic_info", basic, app, n)
            late["n"] = n
            took.set()
            time.sleep(1.0)
            db.commit()
        done.set()

    def fast_writer() -> None:
        took.wait()
        out = c.sync(c.mut("application", app, "update", {"method": [None, "normal"]}, app,
                           base=0))  # fmt: skip
        late["fast"] = out["results"][0]["rev"]

    threads = [threading.Thread(target=slow_writer), threading.Thread(target=fast_writer)]
    for t in threads:
        t.start()
    took.wait()
    seen = reader.sync()["changes"]  # while the slow writer holds its number
    for t in threads:
        t.join()
    assert late["fast"] > late["n"]  # numbers are taken in commit order
    seen += reader.pull_all()
    got = {(x["t"], x["rev"]) for x in seen}
    assert ("basic_info", late["n"]) in got and ("application", late["fast"]) in got


# ---------------------------------------------------------------------- merge
def test_merge_and_conflicts_between_two_workspaces(world: World) -> None:
    laptop, app, basic = start(world)
    desk = Client(world, laptop.headers)
    desk.pull_all()
    base = row(world, basic)["rev"]
    laptop.sync(laptop.mut("basic_info", basic, "update", {"summary": ["初稿", "笔记本写的"]},
                           app, base=base))  # fmt: skip
    # Disjoint fields: merged, and the author pulls the whole merged row.
    ch = {"mobile": [MOBILE, "13900000000"]}
    out = desk.sync(desk.mut("basic_info", basic, "update", ch, app, base=base))
    assert out["results"][0]["st"] == "merged"
    merged = row(world, basic)
    assert (merged["summary"], merged["mobile"]) == ("笔记本写的", "13900000000")
    assert [(x["row"]["summary"], x["row"]["mobile"]) for x in out["changes"]] == [
        ("笔记本写的", "13900000000")
    ]
    # The same field changed to something else: a conflict for that field, with the server's
    # value; the other field of the same edit did not clash and is applied (field by field).
    out = desk.sync(desk.mut("basic_info", basic, "update",
                             {"summary": ["初稿", "台式机写的"], "name": ["杨丰", "杨峰"]}, app,
                             base=base))  # fmt: skip
    res = out["results"][0]
    assert res["st"] == "conflict" and "工作总结" in res["msg"]
    assert res["theirs"] == {"summary": "笔记本写的"}
    assert (row(world, basic)["name"], row(world, basic)["summary"]) == ("杨峰", "笔记本写的")
    # The server already holds the new value: not a conflict.
    out = desk.sync(desk.mut("basic_info", basic, "update", {"summary": ["初稿", "笔记本写的"]},
                             app, base=base))  # fmt: skip
    assert out["results"][0]["st"] == "ok"
    # A delete against a changed row is a conflict; the row stays.
    out = desk.sync(desk.mut("basic_info", basic, "delete", {"deleted": [False, True]}, app,
                             base=base))  # fmt: skip
    assert out["results"][0]["st"] == "conflict"
    assert out["results"][0]["theirs"]["summary"] == "笔记本写的"
    assert row(world, basic)["deleted"] is False
    # Deleted on one side: an update from the other is a conflict, never a resurrection.
    now = row(world, basic)["rev"]
    gone = laptop.sync(laptop.mut("basic_info", basic, "delete", {"deleted": [False, True]}, app,
                                  base=now))  # fmt: skip
    assert gone["results"][0]["st"] == "ok" and row(world, basic)["deleted"] is True
    out = desk.sync(desk.mut("basic_info", basic, "update", {"work_phone": [None, "0317-1"]}, app,
                             base=now))  # fmt: skip
    assert out["results"][0]["st"] == "conflict"
    assert out["results"][0]["theirs"] == {"deleted": True}
    assert row(world, basic)["work_phone"] is None
    again = desk.sync(desk.mut("basic_info", basic, "delete", {"deleted": [False, True]}, app,
                               base=now))  # fmt: skip
    assert again["results"][0]["st"] == "ok"
    # The tombstone reaches a workspace that pulls.
    pulled = Client(world, laptop.headers).pull_all()
    assert [x["row"]["deleted"] for x in pulled if x["t"] == "basic_info"] == [True]


# ---------------------------------------------------------------------- lock, workflow
def test_r12_2_edits_after_the_unit_opened_it_are_locked(world: World, tmp_path: Path) -> None:
    ha, hu = world.ready("applicant_a"), world.ready("admin_a")
    app_id = complete_application(world, ha, tmp_path)
    c = Client(world, ha)
    rows = c.pull_all()
    basic = next(x["row"] for x in rows if x["t"] == "basic_info")
    api = world.client()
    assert api.post(f"/applications/{app_id}/submit", headers=ha).status_code == 200
    assert api.post(f"/applications/{app_id}/open", headers=hu).status_code == 200
    # The transitions are pulled: the state and its change number (the client locks too).
    out = c.sync()
    assert [(x["t"], x["row"]["state"]) for x in out["changes"]] == [("application", "unit_opened")]
    assert out["changes"][0]["rev"] == counter(world)
    edit = c.mut("basic_info", basic["id"], "update", {"summary": [basic["summary"], "改"]},
                 app_id, base=basic["rev"])  # fmt: skip
    res = c.sync(edit)["results"][0]
    assert res["st"] == "locked"
    assert "单位打开审核" in res["msg"] and "R12.2" in res["msg"] and "被拒绝的修改" in res["msg"]
    assert row(world, uuid.UUID(basic["id"]))["summary"] == basic["summary"]
    with Session(world.engine) as db:
        events = db.scalars(select(col(Audit.event)).where(col(Audit.event).like("sync.%"))).all()
    assert events == ["sync.locked"]


# ---------------------------------------------------------------------- access
def test_access_push_and_pull_by_role(world: World) -> None:
    a, app, basic = start(world)
    stranger = Client(world, world.ready("applicant_b"))
    res = stranger.sync(stranger.mut("basic_info", basic, "update", {"summary": ["初稿", "黑"]},
                                     app, base=0))["results"][0]  # fmt: skip
    assert res["st"] == "refused" and "无权" in res["msg"] and res.get("theirs") is None
    assert row(world, basic)["summary"] == "初稿"
    assert stranger.pull_all() == []
    # Another account may not use a workspace that is not theirs.
    taken = Client(world, stranger.headers, id=a.id)
    assert taken.post().status_code == 403 and "另一个帐号" in taken.post().json()["detail"]
    # The helpdesk reads everything masked and writes nothing.
    desk = Client(world, world.ready("helpdesk"))
    refused = desk.post([desk.mut("basic_info", basic, "update", {"summary": ["初稿", "x"]})])
    assert refused.status_code == 403 and "只能查看" in refused.json()["detail"]
    seen = {x["t"]: x["row"] for x in Client(world, desk.headers).pull_all()}
    assert seen["person"]["id_number"] == "130902********0011"
    assert seen["basic_info"]["id_number"] == "130902********0011"
    assert seen["basic_info"]["mobile"] == "138****2345"
    # The unit's admin sees it all, unmasked; the other unit's admin nothing.
    admin = {x["t"]: x["row"] for x in Client(world, world.ready("admin_a")).pull_all()}
    assert admin["person"]["id_number"] == DEMO_ID and set(admin) == set(seen)
    assert Client(world, world.ready("admin_b")).pull_all() == []


def test_office_sees_only_forwarded_applications_and_bootstraps_them(
    world: World, tmp_path: Path
) -> None:
    ha, hu = world.ready("applicant_a"), world.ready("admin_a")
    app_id = complete_application(world, ha, tmp_path)
    office = Client(world, world.ready("office"))
    assert office.pull_all() == []
    path = SNAPSHOT_PATH.format(app_id=app_id)
    assert world.client().get(path, headers=office.headers).status_code == 404
    api = world.client()
    for h, action in ((ha, "submit"), (hu, "open"), (hu, "approve")):
        assert api.post(f"/applications/{app_id}/{action}", headers=h).status_code == 200
    # Forwarded: the application row arrives (its newest change), the rest by bootstrap.
    pulled = office.pull_all()
    assert [(x["t"], x["row"]["state"]) for x in pulled] == [("application", "unit_approved")]
    snap = world.client().get(path, headers=office.headers)
    assert snap.status_code == 200
    body = snap.json()
    owner_view = Client(world, ha).pull_all()
    assert sorted((x["t"], x["row"]["id"]) for x in body["changes"]) == sorted(
        (x["t"], x["row"]["id"]) for x in owner_view
    )
    assert body["changes"][0]["t"] == "person" and body["cursor"] <= counter(world)
    other = world.ready("other_office")
    assert world.client().get(path, headers=other).status_code == 404
    assert Client(world, other).pull_all() == []


# ---------------------------------------------------------------------- persons, inserts
def test_person_alias_and_an_application_made_offline(world: World, tmp_path: Path) -> None:
    ha = world.ready("applicant_a")
    app_id = complete_application(world, ha, tmp_path)  # the server knows 杨丰's person row
    with Session(world.engine) as db:
        server_person = db.execute(text("SELECT id FROM person")).scalar()
    c = Client(world, ha)
    local_person, new_app = uuid.uuid4(), uuid.uuid4()
    out = c.sync(
        c.mut("person", local_person, "insert", insert({"id_number": DEMO_ID, "name": "杨丰"})),
        c.mut("application", new_app, "insert",
              insert({"person_id": str(local_person), "year": this_year() + 1,
                      "unit_name": "别的单位", "series": "230.zy"}), new_app),
    )  # fmt: skip
    person_res, app_res = out["results"]
    assert person_res["st"] == "ok" and uuid.UUID(person_res["alias"]) == uuid.UUID(
        str(server_person)
    )
    assert app_res["st"] == "ok", app_res
    # The server decided owner, unit and state, so the author pulls the row whole.
    mine = {x["row"]["id"]: x["row"] for x in out["changes"] if x["t"] == "application"}
    made = mine[str(new_app)]
    assert made["unit_name"] == UNIT_A and made["state"] == "draft"
    assert uuid.UUID(made["person_id"]) == uuid.UUID(str(server_person))
    got = world.client().get(f"/applications/{new_app}", headers=ha).json()
    assert got["owner_id"] == str(world.people["applicant_a"].id)
    assert got["unit_id"] == str(world.units["A"])
    # The unit admin's pull finds it.
    admin = Client(world, world.ready("admin_a")).pull_all()
    assert str(new_app) in {x["row"]["id"] for x in admin if x["t"] == "application"}
    # A second application for a year the server already has is refused, with the reason.
    ch = insert({"person_id": str(local_person), "year": this_year()})
    clash = c.sync(c.mut("application", uuid.uuid4(), "insert", ch))
    res = clash["results"][0]
    assert res["st"] == "refused" and f"服务器上已有您 {this_year()} 年度的申报" in res["msg"]
    assert app_id  # the existing one stays


def test_unknown_tables_columns_and_bad_values_are_refused_in_chinese(world: World) -> None:
    c, app, basic = start(world)
    rev = row(world, basic)["rev"]
    out = c.sync(
        c.mut("salary", basic, "update", {"x": [1, 2]}, app, base=rev),
        c.mut("basic_info", basic, "update", {"shoe_size": [None, "42"]}, app, base=rev),
        c.mut("basic_info", basic, "update", {"summary": ["初稿", 42]}, app, base=rev),
        c.mut("education", uuid.uuid4(), "insert",
              insert({"application_id": str(app), "position": 2**40}), app),
        c.mut("application", app, "update", {"state": ["draft", "approved"]}, app, base=rev),
        c.mut("attachment", uuid.uuid4(), "insert", insert({"application_id": str(app)}), app),
    )  # fmt: skip
    results = out["results"]
    assert [r["st"] for r in results] == ["refused"] * 6
    msgs = [r["msg"] for r in results]
    assert "不认识数据表" in msgs[0] and "没有「shoe_size」" in msgs[1]
    assert "应为文字" in msgs[2] and "超出了允许的范围" in msgs[3]
    # a state change is a workflow action: 评审通过 is the title office's, not a client's
    assert "不能改为「评审通过」" in msgs[4] and "缺少" in msgs[5]
    assert row(world, basic)["rev"] == rev
    with Session(world.engine) as db:
        state = db.execute(text("SELECT state FROM application")).scalar()
    assert state == "draft"


def test_rows_already_on_the_server_get_change_numbers_when_migrated(
    server_engine: Any, tmp_path: Path
) -> None:
    """Migration 0002 numbers existing rows, so a first pull finds them."""
    migrate(server_engine, "0001")
    pid = uuid.uuid4()
    with server_engine.begin() as conn:
        conn.execute(
            SECTION_TABLES["person"].insert().values(id=pid, rev=3, updated_at=func.now(),
                                                     deleted=False, id_number="1", name="")
        )  # fmt: skip
    migrate(server_engine)
    with Session(server_engine) as db:
        found = db.execute(select(col(SyncChange.table_name), col(SyncChange.n))).all()
        person_rev = db.execute(text("SELECT rev FROM person")).scalar()
        assert found == [("person", 1)] and person_rev == 1 and changes.current(db) == 1
