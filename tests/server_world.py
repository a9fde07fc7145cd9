"""Server test fixtures (a pytest plugin named in conftest): the app on SQLite and on
PostgreSQL, and a small world of units and accounts made with the admin functions."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from stdnum.cn import ric

from zctui.domain.validators import DEFAULT_PASSWORD
from zctui.server import admin
from zctui.server.app import create_app
from zctui.server.db import make_engine
from zctui.server.security import Security
from zctui.server.settings import ServerSettings

NEW_PASSWORD = "Zc#2024abc!"


def make_id(birth: str = "19891010", seq: int = 123, area: str = "130902") -> str:
    body = f"{area}{birth}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")  # it wants a placeholder check digit


def settings(tmp_path: Path, **overrides: Any) -> ServerSettings:
    # Argon2id at a low cost: the tests exercise the same code, the hashes just cost less.
    base: dict[str, Any] = dict(
        data_dir=tmp_path,
        secret="test-secret",
        argon2_time_cost=1,
        argon2_memory_cost=1024,
        argon2_parallelism=1,
    )
    return ServerSettings(**{**base, **overrides})


@pytest.fixture(params=["sqlite", "postgresql"])
def server_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'server.sqlite3'}")
        yield engine
        engine.dispose()
    else:
        yield request.getfixturevalue("pg_engine")


@dataclass
class Person:
    id_number: str
    name: str
    role: str
    unit: str | None
    id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass
class World:
    """沧州市职改办 → 沧州市卫生健康委员会 → two hospitals, with one of each role."""

    app: Any
    engine: Engine
    sec: Security
    people: dict[str, Person] = field(default_factory=dict)
    units: dict[str, uuid.UUID] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)  # who has left the default password

    def client(self, address: str = "10.0.0.1") -> TestClient:
        return TestClient(self.app, client=(address, 50000))

    def login(self, key: str, password: str | None = None, address: str = "10.0.0.1") -> Any:
        return self.client(address).post(
            "/auth/login",
            json={"id_number": self.people[key].id_number, "password": password or NEW_PASSWORD},
        )

    def ready(self, key: str) -> dict[str, str]:
        """Log in on the default password, change it (R1.2), log in again: the headers.
        Asked again for the same person: a new session with the new password."""
        if key in self.changed:
            again = self.login(key)
            assert again.status_code == 200, again.text
            return {"Authorization": f"Bearer {again.json()['token']}"}
        self.changed.add(key)
        c = self.client()
        first = c.post(
            "/auth/login",
            json={"id_number": self.people[key].id_number, "password": DEFAULT_PASSWORD},
        )
        assert first.status_code == 200, first.text
        token = first.json()["token"]
        r = c.post(
            "/auth/password",
            json={"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 204, r.text
        again = self.login(key)
        assert again.status_code == 200, again.text
        return {"Authorization": f"Bearer {again.json()['token']}"}

    def add(self, key: str, role: str, unit: str | None, id_number: str, name: str) -> Person:
        with Session(self.engine) as db:
            acc = admin.create_account(
                db, self.sec, id_number=id_number, name=name, role=role, unit=unit,
                phone="13831712345",
            )  # fmt: skip
            person = Person(id_number, name, role, unit, acc.id)
        self.people[key] = person
        return person


# The complete demo applicant (its ID number, unit and city) belongs to unit A.
DEMO_ID = "130902198010100011"
UNIT_A = "沧州市中西医结合医院"
UNIT_B = "沧州市人民医院"


def build_world(app: Any, engine: Engine, sec: Security) -> World:
    w = World(app, engine, sec)
    with Session(engine) as db:
        office = admin.create_unit(
            db, name="沧州市职称改革领导小组办公室", kind="office", city="沧州市"
        )
        dept = admin.create_unit(
            db, name="沧州市卫生健康委员会", kind="department", parent=office.name
        )
        a = admin.create_unit(db, name=UNIT_A, parent=dept.name, uscc="12130900401751432X")
        b = admin.create_unit(db, name=UNIT_B, parent=dept.name)  # may self-review (methods.yaml)
        other_office = admin.create_unit(db, name="廊坊市职改办", kind="office", city="廊坊市")
        w.units = {"office": office.id, "dept": dept.id, "A": a.id, "B": b.id,
                   "other_office": other_office.id}  # fmt: skip
    w.add("applicant_a", "applicant", UNIT_A, DEMO_ID, "杨丰")
    w.add("applicant_b", "applicant", UNIT_B, make_id("19900101", 235), "王芳")
    w.add("admin_a", "unit_admin", UNIT_A, make_id("19750505", 111), "张主任")
    w.add("admin_b", "unit_admin", UNIT_B, make_id("19760606", 113), "赵主任")
    w.add("helpdesk", "helpdesk", None, make_id("19850303", 115), "刘热线")
    w.add("office", "office", "沧州市职称改革领导小组办公室", make_id("19700707", 117), "孙处长")
    w.add("other_office", "office", "廊坊市职改办", make_id("19710808", 119), "周处长")
    return w


@pytest.fixture
def world(server_engine: Engine, tmp_path: Path) -> World:
    s = settings(tmp_path)
    app = create_app(s, engine=server_engine)
    return build_world(app, server_engine, app.state.security)


def this_year() -> int:
    return date.today().year


def complete_application(world: World, headers: dict[str, str], tmp_path: Path) -> str:
    """The guide's complete example (demo.build_complete), created through the API under its
    client-made id, its section rows stored as the sync issue's push will store them."""
    from zctui.demo import build_complete
    from zctui.server import content
    from zctui.store.blobs import BlobStore
    from zctui.store.repository import Store

    with Store(tmp_path / "client.sqlite3") as store:
        local = build_complete(store, BlobStore(tmp_path / "blobs"), this_year())
        data = store.load(local.id)
    settings = {
        k: getattr(data.application, k)
        for k in ("year", "category", "series", "specialty", "title", "method", "review_mode")
    }
    r = world.client().post(
        "/applications", json={"id": str(local.id), **settings}, headers=headers
    )
    assert r.status_code == 201, r.text
    rows: list[Any] = [*data.singles.values(), *data.attachments]
    rows += [row for items in data.lists.values() for row in items]
    with Session(world.engine) as db:
        content.put_rows(db, rows)
        db.commit()
    return str(local.id)


def approved(world: World, key: str, year: int | None = None) -> str:
    """An application of `key` the office has already approved (set in the database: for
    tests about what happens from there on). An unknown key becomes a new applicant."""
    from sqlalchemy import update
    from sqlmodel import col

    from zctui.server.models import Application

    if key not in world.people:
        seq = 300 + 2 * len(world.people)
        world.add(key, "applicant", UNIT_A, make_id("19880808", seq), f"申报人{key}")
    h = world.ready(key)
    r = world.client().post("/applications", json={"year": year or this_year()}, headers=h)
    assert r.status_code == 201, r.text
    app_id = r.json()["id"]
    with Session(world.engine) as db:
        q = update(Application).where(col(Application.id) == uuid.UUID(app_id))
        db.execute(q.values(state="approved"))
        db.commit()
    return str(app_id)


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """The app under uvicorn in a thread on 127.0.0.1 (a free port): real TCP, so a test
    can cut connections. Yields the base URL; stops the server afterwards."""
    from zctui.server.live import serve_in_thread

    with serve_in_thread(app) as url:
        yield url
