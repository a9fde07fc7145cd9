"""The editing session behind the TUI: memory first, saves in order on a writer thread,
the checklist follows every edit, and the application locks after submission (R12)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from zctui.data.forms import load_forms
from zctui.demo import build_demo
from zctui.store.repository import Store
from zctui.store.session import EditSession, ReadOnlyError

FORMS = load_forms()
WS = tuple[Path, uuid.UUID, uuid.UUID]


@pytest.fixture
def workspace(tmp_path: Path) -> WS:
    path = tmp_path / "ws.sqlite3"
    done, half = build_demo(path, year=2026)
    return path, done.id, half.id


def test_edits_reach_the_disk_in_order(workspace: WS) -> None:
    path, _, half_id = workspace
    basic = FORMS.section("basic")
    paper = FORMS.section("paper")
    with Store(path) as store:
        s = EditSession(store, half_id)
        for text in ["1", "13", "138", "1383171234", "13831712345"]:  # typed key by key
            s.set_value(basic, None, "mobile", text)
        row = s.add_record(paper, title="新论文")
        s.set_value(paper, row.id, "journal", "电子技术应用")
        assert s.flush()
        s.close()
    with Store(path) as store:
        data = store.load(half_id)
        assert data.singles["basic_info"].mobile == "13831712345"  # type: ignore[attr-defined]
        assert [p.title for p in data.rows("paper")][-1] == "新论文"  # type: ignore[attr-defined]
        assert data.rows("paper")[-1].journal == "电子技术应用"  # type: ignore[attr-defined]


def test_checklist_follows_edits(workspace: WS) -> None:
    path, _, half_id = workspace
    with Store(path) as store:
        s = EditSession(store, half_id)
        basic = FORMS.section("basic")
        before = len(s.checklist.errors)
        s.set_value(basic, None, "ethnicity", "01")
        assert len(s.checklist.errors) == before - 1
        s.close()


def test_r12_submit_refuses_while_incomplete_then_locks(
    workspace: WS,
) -> None:
    path, done_id, half_id = workspace
    with Store(path) as store:
        half = EditSession(store, half_id)
        assert not half.submit().complete
        assert not half.read_only
        half.close()
        done = EditSession(store, done_id)
        assert done.submit().complete
        assert done.read_only
        with pytest.raises(ReadOnlyError, match="不能修改"):
            done.set_value(FORMS.section("basic"), None, "mobile", "13900000000")
        done.close()
        assert store.get("application", done_id).state == "submitted"


def test_move_and_delete_records(workspace: WS) -> None:
    path, done_id, _ = workspace
    paper = FORMS.section("paper")
    with Store(path) as store:
        s = EditSession(store, done_id)
        first, second = (r.id for r in s.rows_of(paper))
        assert s.move_record(paper, second, -1)
        assert not s.move_record(paper, second, -1)  # already first
        s.delete_record(paper, first)
        s.close()
        rows = store.load(done_id).rows("paper")
        assert [r.id for r in rows] == [second]


def test_r12_1_clear_empties_the_form(workspace: WS) -> None:
    path, done_id, _ = workspace
    with Store(path) as store:
        s = EditSession(store, done_id)
        s.clear()
        assert not s.checklist.complete
        s.close()
        data = store.load(done_id)
        assert data.lists == {} and data.singles == {} and data.attachments == []


def test_a_burst_of_keys_is_saved_whole_even_when_one_save_fails(workspace: WS) -> None:
    """A paste or an IME commit queues many edits at once: they share a transaction. When a
    save in that batch fails, the batch is undone and every edit is saved on its own, so the
    others are not lost with it; the outbox keeps one entry per edit for the sync (R3.1)."""
    path, _, half_id = workspace
    basic = FORMS.section("basic")
    with Store(path) as store:
        before = len(store.outbox())
        s = EditSession(store, half_id)
        real = store.set_field
        failures = [1]

        def flaky(table: str, row_id: uuid.UUID, field: str, value: object) -> None:
            if field == "work_phone" and failures:
                failures.pop()
                raise OSError("磁盘已满")
            real(table, row_id, field, value)

        store.set_field = flaky  # type: ignore[method-assign,assignment]
        typed = "本人长期从事中医外科临床工作"
        for i in range(1, len(typed) + 1):
            s.set_value(basic, None, "summary", typed[:i])
        s.set_value(basic, None, "work_phone", "0317-2012345")
        s.set_value(basic, None, "mobile", "13831712345")
        assert s.flush() and not s.failed
        s.close()
        assert len(store.outbox()) - before == len(typed) + 2
    with Store(path) as store:
        basic_row = store.load(half_id).singles["basic_info"]
        assert basic_row.summary == typed  # type: ignore[attr-defined]
        assert basic_row.work_phone == "0317-2012345"  # type: ignore[attr-defined]
        assert basic_row.mobile == "13831712345"  # type: ignore[attr-defined]
