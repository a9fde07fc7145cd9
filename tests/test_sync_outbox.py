"""The store's side of sync (issue 6): the outbox folded into numbered mutations, and an
answer applied without losing an edit made while the sync was under way."""

from __future__ import annotations

import json
import uuid

from zctui.domain.sync import Change, Result, SyncOut
from zctui.store import outbox
from zctui.store.repository import Store


def _app(store: Store) -> uuid.UUID:
    person = store.create_person("130902198910101234", "杨丰")
    return store.create_application(person, 2026).id


def test_insert_and_later_edits_fold_into_one_insert_with_the_last_values(store: Store) -> None:
    app_id = _app(store)
    row = store.add_record("paper", app_id, title="初稿")
    store.set_field("paper", row.id, "title", "中医外科论文")
    store.set_field("paper", row.id, "journal", "中华外科杂志")
    assert outbox.prepare(store) == 3  # person, application, paper
    muts = outbox.pending(store, 0, 100)
    assert [m.t for m in muts] == ["person", "application", "paper"]  # the order of making
    paper = muts[2]
    assert paper.op == "insert"
    assert paper.ch["title"] == [None, "中医外科论文"]
    assert paper.ch["journal"] == [None, "中华外科杂志"]
    assert [m.seq for m in muts] == [1, 2, 3]


def test_a_row_made_and_deleted_between_syncs_costs_nothing(store: Store) -> None:
    app_id = _app(store)
    outbox.prepare(store)
    row = store.add_record("honour", app_id, name="误加")
    store.delete("honour", row.id)
    assert outbox.prepare(store) == 0
    assert outbox.pending(store, 2, 100) == []


def test_typed_and_typed_back_is_no_mutation_and_old_is_the_first_old(store: Store) -> None:
    app_id = _app(store)
    info = store.single("basic_info", app_id)
    store.set_field("basic_info", info.id, "mobile", "13800000000")
    outbox.prepare(store)
    store.set_field("basic_info", info.id, "mobile", "13900000000")
    store.set_field("basic_info", info.id, "mobile", "13800000000")
    store.set_field("basic_info", info.id, "name", "杨")
    store.set_field("basic_info", info.id, "name", "杨丰")
    assert outbox.prepare(store) == 1
    (m,) = outbox.pending(store, 3, 100)
    assert m.op == "update"
    assert m.ch == {"name": [None, "杨丰"]}


def test_numbers_are_fixed_once_prepared_so_a_resend_is_identical(store: Store) -> None:
    app_id = _app(store)
    outbox.prepare(store)
    first = outbox.pending(store, 0, 100)
    store.set_field("application", app_id, "series", "卫生")  # after numbering: next number
    outbox.prepare(store)
    again = outbox.pending(store, 0, 100)
    assert again[: len(first)] == first
    assert again[-1].seq == len(first) + 1
    assert again[-1].ch == {"series": [None, "卫生"]}


def test_an_answer_never_overwrites_a_field_typed_during_the_sync(store: Store) -> None:
    """The user typed in the field while the request was on the wire: the pulled row
    brings the other fields, the typed value stays and is pushed next time."""
    app_id = _app(store)
    info = store.single("basic_info", app_id)
    outbox.prepare(store)
    sent = outbox.pending(store, 0, 100)
    store.set_field("basic_info", info.id, "mobile", "13912345678")  # typed meanwhile
    row = store.get("basic_info", info.id).model_dump(mode="json")
    row.update(mobile="13800000000", work_phone="0317-1234567")
    out = SyncOut(
        acked=len(sent),
        results=[Result(seq=m.seq, st="ok", rev=10 + m.seq) for m in sent],
        changes=[Change(t="basic_info", rev=20, row=row)],
        cursor=20,
    )
    applied = outbox.apply(store, sent, out)
    now = store.get("basic_info", info.id)
    assert now.mobile == "13912345678"
    assert now.work_phone == "0317-1234567"
    assert now.rev == 20
    assert applied.pulled == 1
    st = outbox.state(store)
    assert (st.acked, st.cursor) == (len(sent), 20)
    outbox.prepare(store)
    (m,) = outbox.pending(store, st.acked, 100)
    assert m.ch == {"mobile": [None, "13912345678"]}


def test_a_locked_edit_is_kept_as_an_issue_and_the_row_shows_the_server(store: Store) -> None:
    """R12.2: the unit opened the application; the edit is refused as LOCKED, shown in the
    rejected list with what the user typed, and the form shows what the unit reviews."""
    app_id = _app(store)
    info = store.single("basic_info", app_id)
    store.set_field("basic_info", info.id, "mobile", "13800000000")
    outbox.prepare(store)
    sent = outbox.pending(store, 0, 100)
    out = SyncOut(
        acked=len(sent),
        results=[
            Result(seq=m.seq, st="ok", rev=m.seq)
            if m.t != "basic_info" or m.op == "insert"
            else Result(seq=m.seq, st="locked", msg="申报已被单位打开审核，不能再修改（R12.2）")
            for m in sent
        ],
        cursor=5,
    )
    # basic_info's insert and edit fold into one insert: lock an edit made after it.
    outbox.apply(store, sent, out)
    store.set_field("basic_info", info.id, "mobile", "13999999999")
    outbox.prepare(store)
    (edit,) = outbox.pending(store, len(sent), 100)
    out2 = SyncOut(
        acked=edit.seq, results=[Result(seq=edit.seq, st="locked", msg="已锁定")], cursor=5
    )
    applied = outbox.apply(store, [edit], out2)
    assert [i.kind for i in applied.issues] == ["locked"]
    (issue,) = outbox.open_issues(store, app_id)
    assert json.loads(issue.mine) == {"mobile": "13999999999"}
    assert issue.message == "已锁定"
    assert store.get("basic_info", info.id).mobile == "13800000000"
    assert outbox.pending(store, 0, 100) == []  # acknowledged: the outbox is empty
    outbox.settle(store, issue.id or 0)
    assert outbox.open_issues(store, app_id) == []


def test_a_conflict_keeps_mine_in_the_issue_and_shows_theirs(store: Store) -> None:
    app_id = _app(store)
    outbox.prepare(store)
    first = outbox.pending(store, 0, 100)
    outbox.apply(
        store,
        first,
        SyncOut(acked=2, results=[Result(seq=m.seq, st="ok", rev=m.seq) for m in first], cursor=2),
    )
    store.set_field("application", app_id, "specialty", "中医外科")
    outbox.prepare(store)
    (m,) = outbox.pending(store, 2, 100)
    theirs = {"specialty": "中医内科"}
    applied = outbox.apply(
        store,
        [m],
        SyncOut(acked=3, results=[Result(seq=3, st="conflict", theirs=theirs)], cursor=2),
    )
    (issue,) = applied.issues
    assert json.loads(issue.mine) == {"specialty": "中医外科"}
    assert json.loads(issue.theirs or "{}") == theirs
    assert store.get("application", app_id).specialty == "中医内科"


def test_the_server_s_person_id_is_adopted(store: Store) -> None:
    """The unit made the person on the server first: the workspace takes the server's id
    for the same ID number and its application follows."""
    app_id = _app(store)
    outbox.prepare(store)
    sent = outbox.pending(store, 0, 100)
    server_id = uuid.uuid4()
    person = {"id": str(server_id), "id_number": "130902198910101234", "name": "杨丰", "rev": 1}
    outbox.apply(
        store,
        sent,
        SyncOut(
            acked=2,
            results=[Result(seq=m.seq, st="ok", rev=m.seq) for m in sent],
            changes=[Change(t="person", rev=7, row={**person, "deleted": False})],
            cursor=7,
        ),
    )
    assert store.get("application", app_id).person_id == server_id
    assert [p.id for p in store.persons()] == [server_id]
