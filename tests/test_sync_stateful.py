"""Hypothesis, stateful (issue 6): two or three workspaces of one applicant edit the same
application and sync in any order. A model of the server says what each sync must do:
an edit whose old value is still the server's is applied; one the server already has is
a no-op; otherwise it is a conflict the user is shown. Checked after every sync: every
same-field concurrent edit is detected, no update is lost (applied, or kept in an issue
with what the user typed), disjoint edits merge; at the end all copies agree."""

from __future__ import annotations

import itertools
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import select
from sqlalchemy.orm import Session

from server_world import World
from sync_world import Workspace
from zctui.server.models import SECTION_TABLES
from zctui.store import outbox

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

FIELDS = ("mobile", "work_phone", "summary")
VALUES = st.sampled_from(["甲", "乙", "丙", ""])  # few values: collisions are likely
_years = itertools.count(2030)


def _server_row(world: World, row_id: uuid.UUID) -> dict[str, Any]:
    t = SECTION_TABLES["basic_info"]
    with Session(world.engine) as db:
        found = db.execute(select(t).where(t.c.id == row_id)).first()
    assert found is not None
    return dict(found._mapping)


def machine(world: World, tmp_path: Path, clients: int) -> type[RuleBasedStateMachine]:
    headers = world.ready("applicant_a")

    class Editing(RuleBasedStateMachine):
        @initialize()
        def start(self) -> None:
            run = uuid.uuid4().hex[:8]
            self.ws = [
                Workspace(tmp_path / run / str(i) / "ws.sqlite3", world.client(), headers)
                for i in range(clients)
            ]
            first = self.ws[0].store
            person = first.create_person(world.people["applicant_a"].id_number, "杨丰")
            self.app = first.create_application(person, next(_years))
            self.row = first.single("basic_info", self.app.id).id
            for ws in self.ws:
                assert ws.sync().issues == []
            self.server: dict[str, str | None] = dict.fromkeys(FIELDS)
            # per workspace: what it shows, and the fields typed since its last sync with
            # the value they had before
            self.view = [dict(self.server) for _ in self.ws]
            self.olds: list[dict[str, str | None]] = [{} for _ in self.ws]

        @rule(i=st.integers(0, clients - 1), field=st.sampled_from(FIELDS), value=VALUES)
        def edit(self, i: int, field: str, value: str) -> None:
            stored = value or None
            if self.view[i][field] == stored:
                return
            self.olds[i].setdefault(field, self.view[i][field])
            self.view[i][field] = stored
            self.ws[i].store.set_field("basic_info", self.row, field, stored)

        @rule(i=st.integers(0, clients - 1))
        def sync(self, i: int) -> None:
            typed = {f: self.view[i][f] for f in self.olds[i] if self.view[i][f] != self.olds[i][f]}
            clash = {f for f, new in typed.items() if self.server[f] not in (self.olds[i][f], new)}
            report = self.ws[i].sync()
            issues = [x for x in report.issues if x.row_id == self.row]
            if clash:
                (issue,) = issues  # detected
                assert issue.kind == "conflict"
                assert json.loads(issue.mine) == {f: typed[f] for f in clash}  # kept as typed
                outbox.settle(self.ws[i].store, issue.id or 0)  # "keep theirs"
            else:
                assert issues == []
            self.server.update({f: new for f, new in typed.items() if f not in clash})  # merged
            self.view[i] = dict(self.server)
            self.olds[i] = {}

        @invariant()
        def server_is_the_model(self) -> None:
            if not hasattr(self, "row"):
                return
            row = _server_row(world, self.row)
            assert {f: row[f] for f in FIELDS} == self.server

        def teardown(self) -> None:
            if not hasattr(self, "ws"):
                return
            for ws in self.ws:  # edits left unsynced: push them (conflicts settle as theirs)
                for issue in ws.sync().issues:
                    outbox.settle(ws.store, issue.id or 0)
            for ws in self.ws:
                ws.sync()
            rows = [ws.store.get("basic_info", self.row) for ws in self.ws]
            shown = [{f: getattr(r, f) for f in FIELDS} for r in rows]
            server = _server_row(world, self.row)
            assert all(s == {f: server[f] for f in FIELDS} for s in shown)
            for ws in self.ws:
                ws.close()

    return Editing


@pytest.mark.parametrize("clients", [2, 3])
def test_concurrent_edits_converge_with_every_conflict_detected(
    world: World, tmp_path: Path, clients: int
) -> None:
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(
        machine(world, tmp_path, clients),
        settings=settings(
            max_examples=12,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
