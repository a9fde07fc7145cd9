"""The applicant's TUI driven by Textual's Pilot: forms, autosave, lists, F1/F2, submit.

Keys are pressed as a person types them (`pilot.press(*"中医")` types two characters).
Every test reopens what it saved from the SQLite file, not from the widgets."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest
from textual.widget import Widget
from textual.widgets import ContentSwitcher, DataTable, Input, TextArea

from zctui.app import ZctuiApp, create_app
from zctui.demo import build_demo
from zctui.screens.confirm import ConfirmScreen
from zctui.screens.help import HelpScreen
from zctui.screens.main import MainScreen
from zctui.screens.records import RecordList, RecordScreen
from zctui.store.repository import Store
from zctui.widgets.checklist_sidebar import ChecklistSidebar
from zctui.widgets.field_row import FieldRow
from zctui.widgets.pinyin_select import PinyinSelect
from zctui.widgets.save_state import FAILED, SAVED, SAVING, SaveState
from zctui.widgets.slot_field import SlotField

YEAR = 2026


@pytest.fixture
def demo(tmp_path: Path) -> tuple[Path, uuid.UUID, uuid.UUID]:
    path = tmp_path / "ws.sqlite3"
    done, half = build_demo(path, year=YEAR)
    return path, done.id, half.id


def main(app: ZctuiApp) -> MainScreen:
    assert isinstance(app.screen, MainScreen), app.screen
    return app.screen


def saved(path: Path, app_id: uuid.UUID, table: str, field: str) -> object:
    with Store(path) as store:
        data = store.load(app_id)
        row = data.singles.get(table) if table != "application" else data.application
        return getattr(row, field)


async def open_section(app: ZctuiApp, code: str) -> None:
    await main(app)._open_and_focus(("section", code))


def pane(app: ZctuiApp) -> Widget:
    """The section on screen (the others are built too, hidden, ahead of their first visit)."""
    shown = main(app).query_one(ContentSwitcher).visible_content
    assert shown is not None
    return shown


def row(app: ZctuiApp, name: str) -> FieldRow:
    return pane(app).query_one(f"#field-{name}", FieldRow)


async def test_r3_1_typing_saves_at_once_and_survives_reopen(
    demo: tuple[Path, uuid.UUID, uuid.UUID],
) -> None:
    path, _, half = demo
    app = create_app(path, application_id=half)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_section(app, "basic")
        row(app, "name").focus_editor()
        editor = row(app, "name").editor
        assert isinstance(editor, Input)
        editor.value = ""
        await pilot.press(*"李静怡")
        await pilot.pause()
        assert app.session is not None and app.session.flush()
        # Saved before the app is closed: a crash now would lose nothing.
        assert saved(path, half, "basic_info", "name") == "李静怡"
    assert saved(path, half, "basic_info", "name") == "李静怡"


async def test_r3_1_save_state_says_saved_only_when_it_is(
    demo: tuple[Path, uuid.UUID, uuid.UUID],
) -> None:
    """While the disk is slow the screen says 保存中, never 已保存; a failing disk shows
    保存失败 and the edit is retried until it is on disk."""
    path, _, half = demo
    app = create_app(path, application_id=half)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.session is not None and app.store is not None
        state = main(app).query_one(SaveState)
        assert str(state.content) == SAVED
        gate, disk_ok = threading.Event(), threading.Event()
        real = app.store.set_field

        def slow_then_failing(*args: object) -> None:
            gate.wait(10)
            if not disk_ok.is_set():
                raise OSError("磁盘已满")
            real(*args)  # type: ignore[arg-type]

        app.store.set_field = slow_then_failing  # type: ignore[method-assign,assignment]
        await open_section(app, "basic")
        row(app, "work_phone").focus_editor()
        await pilot.press(*"0317")
        await pilot.pause()
        assert str(state.content) == SAVING
        gate.set()
        for _ in range(50):
            await pilot.pause(0.05)
            if str(state.content) == FAILED:
                break
        assert str(state.content) == FAILED
        disk_ok.set()
        assert app.session.flush()
        await pilot.pause()
        assert str(state.content) == SAVED
        assert saved(path, half, "basic_info", "work_phone") == "0317"


async def test_live_validation_in_chinese_and_counter(
    demo: tuple[Path, uuid.UUID, uuid.UUID],
) -> None:
    path, _, half = demo
    app = create_app(path, application_id=half)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_section(app, "basic")
        mobile = row(app, "mobile")
        assert "11 位" in mobile.message  # the demo's 10-digit number is flagged at once
        mobile.focus_editor()
        await pilot.press("end", "5")
        await pilot.pause()
        assert mobile.message == ""
        phone = row(app, "work_phone")
        phone.focus_editor()
        await pilot.press(*"0317-21234567")
        await pilot.pause()
        assert "13/12" in str(phone.query_one(".counter").render())
        assert "最多 12" in phone.message


async def test_r2_2_pinyin_filter_cascade(demo: tuple[Path, uuid.UUID, uuid.UUID]) -> None:
    """`zywk` picks 中医外科 once the series is 中医系列-中医 (R2.2)."""
    path, _, half = demo
    app = create_app(path, application_id=half)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_section(app, "settings")
        category = row(app, "category").editor
        assert isinstance(category, PinyinSelect)
        category.input.focus()
        category.input.value = ""
        await pilot.press(*"wsl", "enter")
        series = row(app, "series").editor
        assert isinstance(series, PinyinSelect)
        series.input.focus()
        series.input.value = ""
        await pilot.press(*"zyxl", "enter")
        specialty = row(app, "specialty").editor
        assert isinstance(specialty, PinyinSelect)
        specialty.input.focus()
        specialty.input.value = ""
        await pilot.press(*"zywk", "enter")
        await pilot.pause()
        assert app.session is not None and app.session.flush()
    assert saved(path, half, "application", "category") == "ws"
    assert saved(path, half, "application", "series") == "230.zy"
    assert saved(path, half, "application", "specialty") == "02"


async def test_year_month_input_normalises(demo: tuple[Path, uuid.UUID, uuid.UUID]) -> None:
    path, _, half = demo
    app = create_app(path, application_id=half)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_section(app, "overview")
        work_start = row(app, "work_start")
        work_start.focus_editor()
        await pilot.press(*"2010.7", "tab")
        await pilot.pause()
        assert app.session is not None and app.session.flush()
    assert saved(path, half, "overview_supplement", "work_start") == "2010-07"


async def test_r3_1_summary_counts_lines(demo: tuple[Path, uuid.UUID, uuid.UUID]) -> None:
    path, done, _ = demo
    app = create_app(path, application_id=done)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_section(app, "basic")
        summary = row(app, "summary")
        assert "9/17 行" in str(summary.query_one(".counter").render())
        area = summary.query_one(TextArea)
        area.focus()
        await pilot.press("ctrl+end", *("enter" for _ in range(9)))
        await pilot.pause()
        assert "18/17 行" in str(summary.query_one(".counter").render())
        assert "17" in summary.message


async def test_r10_1_add_edit_reorder_delete_papers(
    demo: tuple[Path, uuid.UUID, uuid.UUID],
) -> None:
    path, done, _ = demo
    app = create_app(path, application_id=done)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_section(app, "paper")
        papers = pane(app)
        assert isinstance(papers, RecordList)
        table = papers.query_one(DataTable)
        table.focus()
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, RecordScreen)
        await pilot.press(*"新论文")
        await pilot.press("escape")
        await pilot.pause()
        assert table.row_count == 3
        await pilot.press("ctrl+up")  # the new paper moves above the second one
        await pilot.pause()
        await pilot.press("up", "d")
        await pilot.pause()
        await pilot.press("tab", "enter")  # focus 删除 and press it
        await pilot.pause()
        assert app.session is not None and app.session.flush()
    with Store(path) as store:
        titles = [p.title for p in store.load(done).rows("paper")]  # type: ignore[attr-defined]
    assert titles == ["新论文", "中医外治法在急性乳腺炎中的应用"]


async def test_r10_1_escape_closes_a_record_from_a_select(
    demo: tuple[Path, uuid.UUID, uuid.UUID],
) -> None:
    """In a record form, Esc on a select (个人排名) first closes its open list, then the form."""
    path, done, _ = demo
    app = create_app(path, application_id=done)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_section(app, "paper")
        pane(app).query_one(DataTable).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RecordScreen)
        select = app.screen.query_one("#field-author_rank PinyinSelect", PinyinSelect)
        select.input.focus()
        await pilot.press("down")  # opens the list
        await pilot.pause()
        assert select.has_class("-open")
        await pilot.press("escape")
        await pilot.pause()
        assert not select.has_class("-open") and isinstance(app.screen, RecordScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)


def focused_field(app: ZctuiApp) -> str | None:
    owner = app.focused
    while owner is not None and not isinstance(owner, FieldRow):
        owner = owner.parent  # type: ignore[assignment]
    return owner.spec.name if isinstance(owner, FieldRow) else None


async def test_f2_after_fixing_an_item_goes_to_the_one_after_it(
    demo: tuple[Path, uuid.UUID, uuid.UUID],
) -> None:
    """F2 goes to the next missing item from where the user is (the app opens on 基本信息);
    fix it, F2: the next one in the form's order, not the one after that (fixing an item takes
    it out of the list); from the last step F2 starts over at the first (R2.5's 评审方式)."""
    path, _, half = demo
    app = create_app(path, application_id=half)
    async with app.run_test(size=(120, 40)) as pilot:
        assert main(app).current == ("section", "basic")
        await pilot.press("f2")
        await pilot.pause()
        assert focused_field(app) == "ethnicity"
        await pilot.press("汉", "enter")
        await pilot.pause()
        assert saved(path, half, "basic_info", "ethnicity") is not None
        await pilot.press("f2")
        await pilot.pause()
        assert focused_field(app) == "birth_date"
        await pilot.press("f2")
        await pilot.pause()
        assert focused_field(app) == "politics"
        await main(app)._open_and_focus(("step", "12"))  # the last step: F2 starts over
        await pilot.press("f2")
        await pilot.pause()
        assert focused_field(app) == "review_mode"


async def test_f1_shows_rule_and_guide_for_focused_field(
    demo: tuple[Path, uuid.UUID, uuid.UUID],
) -> None:
    path, _, half = demo
    app = create_app(path, application_id=half)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_section(app, "basic")
        row(app, "summary").focus_editor()
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        label, rule, _help, guide = app.screen.topic
        assert (label, rule) == ("工作总结摘要", "R3.1")
        assert "不超17行" in guide
        await pilot.press("escape")


async def test_sidebar_follows_every_edit(demo: tuple[Path, uuid.UUID, uuid.UUID]) -> None:
    path, _, half = demo
    app = create_app(path, application_id=half)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_section(app, "basic")
        sidebar = main(app).query_one(ChecklistSidebar)
        before = str(sidebar._by_target[("section", "basic")].label)
        politics = row(app, "politics").editor
        assert isinstance(politics, PinyinSelect)
        politics.input.focus()
        await pilot.press(*"qz", "enter")  # 群众
        await pilot.pause()
        after = str(sidebar._by_target[("section", "basic")].label)
        assert before != after and "缺" in after
        assert int(after.split("缺")[1]) == int(before.split("缺")[1]) - 1


async def test_r12_submit_locks_everything(demo: tuple[Path, uuid.UUID, uuid.UUID]) -> None:
    path, done, _ = demo
    app = create_app(path, application_id=done)
    async with app.run_test(size=(100, 30)) as pilot:
        await main(app)._open_and_focus(("step", "12"))
        await pilot.press("ctrl+t")
        await pilot.pause()
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        assert "用人单位查看后个人不能撤回修改" in confirm.text  # R12.2
        assert "填写内容不能超过17行" in confirm.text  # R12.3
        await pilot.press("tab", "enter")  # 确认提交
        await pilot.pause()
        assert app.session is not None and app.session.read_only
        await open_section(app, "basic")
        assert all(r.read_only for r in main(app).query(FieldRow))
        assert "不能修改" in str(pane(app).query_one(".locked").render())
    assert saved(path, done, "application", "state") == "submitted"


async def test_r12_submit_refused_while_incomplete(demo: tuple[Path, uuid.UUID, uuid.UUID]) -> None:
    path, _, half = demo
    app = create_app(path, application_id=half)
    async with app.run_test(size=(100, 30)) as pilot:
        await main(app)._open_and_focus(("step", "12"))
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)  # no confirmation offered
        assert app.session is not None and not app.session.read_only
        text = str(pane(app).query_one("#submit-missing").render())
        assert "[R2.5]" in text


async def test_new_workspace_starts_an_application(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    app = create_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press(*"杨丰", "enter", *"130902198010100011", "enter", "enter")
        await pilot.press(*"沧州市中西医结合医院", "enter", "enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
    with Store(path) as store:
        [application] = store.applications()
        assert application.unit_name == "沧州市中西医结合医院"
        assert store.persons()[0].name == "杨丰"


async def test_r2_5_wrong_review_mode_is_blocked_with_the_guide(
    demo: tuple[Path, uuid.UUID, uuid.UUID],
) -> None:
    """R2.5: an ordinary hospital may not choose 自主评审; the choice is refused and the
    guide's explanation shown; nothing is saved."""
    path, done, _ = demo
    app = create_app(path, application_id=done)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_section(app, "settings")
        mode = row(app, "review_mode").editor
        assert isinstance(mode, PinyinSelect)
        mode.input.focus()
        mode.input.value = ""
        await pilot.press(*"zzps", "enter")  # 自主评审
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        _label, rule, message, guide = app.screen.topic
        assert rule == "R2.5" and "必须选择“评审”" in message and "如选错，将无法参评" in guide
        await pilot.press("escape")
        await pilot.pause()
        assert mode.value == "review" and mode.input.value == "评审"
        assert app.session is not None and app.session.flush()
    assert saved(path, done, "application", "review_mode") == "review"


async def test_r3_1_id_number_fills_gender_and_birth_date(
    demo: tuple[Path, uuid.UUID, uuid.UUID],
) -> None:
    path, _, half = demo
    app = create_app(path, application_id=half)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_section(app, "basic")
        assert app.session is not None
        basic = app.session.forms.section("basic")
        for name in ("gender", "birth_date"):
            app.session.set_value(basic, None, name, "")
        id_editor = row(app, "id_number").editor
        assert isinstance(id_editor, Input)
        id_editor.focus()
        id_editor.value = ""
        await pilot.press(*"130902198010100011")
        await pilot.pause()
        assert app.session.flush()
        birth = row(app, "birth_date").editor
        assert isinstance(birth, Input) and birth.value == "1980-10-10"
    assert saved(path, half, "basic_info", "gender") == "1"
    assert saved(path, half, "basic_info", "birth_date") == "1980-10-10"


async def test_a_workspace_that_cannot_open_says_why_and_is_left_alone(tmp_path: Path) -> None:
    """A file that is not a workspace: the first screen says so in Chinese and what to do;
    the file is not touched."""
    path = tmp_path / "ws.sqlite3"
    path.write_bytes(b"not a database, just some bytes a user pointed --db at\n" * 20)
    before = path.read_bytes()
    app = create_app(path)
    async with app.run_test(size=(80, 24)):
        text = str(app.screen.query_one("#message").render())
        assert "无法打开工作区" in text and "--db" in text
        assert app.screen.sub_title == "无法打开"
    assert path.read_bytes() == before


async def test_r5_a_pane_shown_again_follows_changes_made_elsewhere(
    demo: tuple[Path, uuid.UUID, uuid.UUID],
) -> None:
    """R5: material 6 is required for 绿色通道. The materials pane, built before the 申报方式
    changes, shows it required when it is shown again (panes are kept, and built ahead)."""
    path, done, _ = demo
    app = create_app(path, application_id=done)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_section(app, "materials")
        slot = pane(app).query_one("#slot-m06", SlotField)
        assert not slot.required
        assert app.session is not None
        app.session.set_value(app.session.forms.section("settings"), None, "method", "green")
        await open_section(app, "settings")
        await open_section(app, "materials")
        await pilot.pause()
        assert pane(app).query_one("#slot-m06", SlotField) is slot and slot.required
        assert "必传" in str(slot.render())
