"""The unit's grid entry (issue 7) driven by Textual's Pilot: annual appraisals (R8.1) for
several people at once, a row a person and a column a year, typed by keyboard.

Keys are pressed as a person types them; every check of what was saved reads the SQLite
file through a separate Store, not the widgets."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from textual.pilot import Pilot

from zctui.app import ZctuiApp, create_app
from zctui.data.forms import SectionSpec, load_forms
from zctui.domain.checklist import run_checklist
from zctui.screens.confirm import ConfirmScreen
from zctui.screens.grid import CodePickScreen, GridScreen
from zctui.screens.help import HelpScreen
from zctui.store.grid import SectionGrid, row_values
from zctui.store.repository import Store, StoreError
from zctui.widgets.grid_table import GridTable
from zctui.widgets.save_state import SAVED, SaveState

YEAR = 2026
# name, ID number, when the current title was obtained, workflow state
PEOPLE = [
    ("张三", "130902198001010013", "2019-06-01", "draft"),
    ("李四", "130902198502020024", "2023-07-01", "draft"),
    ("王五", "130902199003030035", "2018-01-01", "submitted"),
    ("赵六", "130902197504040046", "2020-09-01", "unit_returned"),
]


@pytest.fixture
def unit(tmp_path: Path) -> tuple[Path, list[uuid.UUID]]:
    """A unit's workspace: four people's applications for one year; 王五 has submitted."""
    path = tmp_path / "unit.sqlite3"
    ids = []
    with Store(path) as store:
        for name, id_number, title_date, state in PEOPLE:
            person = store.create_person(id_number, name)
            app = store.create_application(person, YEAR, unit_name="沧州市人民医院")
            status = store.single("current_status", app.id)
            store.set_field("current_status", status.id, "has_title", "1")
            store.set_field("current_status", status.id, "cur_title_date", title_date)
            store.set_field("application", app.id, "state", state)
            ids.append(app.id)
    return path, ids


def appraisals(path: Path, app_id: uuid.UUID) -> dict[str, str | None]:
    """What the file holds: year → grade code."""
    with Store(path) as store:
        rows = store.load(app_id).rows("annual_appraisal")
        return {getattr(r, "year", ""): getattr(r, "grade", None) for r in rows}


def outbox_rows(path: Path, table: str) -> list[uuid.UUID | None]:
    with Store(path) as store:
        return [e.application_id for e in store.outbox() if e.table_name == table]


async def open_grid(
    app: ZctuiApp, pilot: Pilot[None], ids: list[uuid.UUID], section: str = "annual_appraisal"
) -> GridTable:
    """What the applicants table does with the selected applications."""
    assert app.store is not None
    screen = GridScreen(app.store, ids, section)
    await app.push_screen(screen)
    for _ in range(200):
        await pilot.pause(0.02)
        if screen.query(GridTable) and screen.query_one(GridTable).has_focus:
            break
    table = screen.query_one(GridTable)
    assert table.has_focus
    return table


def status(app: ZctuiApp) -> str:
    return str(app.screen.query_one("#grid-status").render())


async def saved(app: ZctuiApp, pilot: Pilot[None], table: GridTable) -> None:
    """Wait until the writer has everything on disk and the screen says so."""
    assert table.grid.flush()
    for _ in range(50):
        await pilot.pause(0.02)
        if str(app.screen.query_one(SaveState).content) == SAVED:
            return
    raise AssertionError("the save state never said 已保存")


def test_r8_1_columns_are_the_years_the_checklist_asks_for(
    unit: tuple[Path, list[uuid.UUID]],
) -> None:
    """R8.1: the columns are the last five years before the application's year; a cell
    marked 未填 is exactly a year the checklist reports missing (李四's title is from 2023:
    only 2024 and 2025 are due for him)."""
    path, ids = unit
    with Store(path) as store:
        grid = SectionGrid(store, ids)
        try:
            assert [c.label for c in grid.columns] == [f"{y}年" for y in range(2021, 2026)]
            for r, app_id in enumerate(ids):
                result = run_checklist(store.load(app_id)).section("appraisal")
                missing = {i.message for i in result.items if "年度考核" in i.message}
                shown = {
                    f"缺少 {col.key} 年度考核"
                    for c, col in enumerate(grid.columns)
                    if grid.missing(r, c)
                }
                assert shown == missing
            assert grid.rows[1].due == frozenset({"2024", "2025"})
            assert grid.rows[0].masked_id == "130902********0013"
        finally:
            grid.close()


async def test_r8_1_grades_for_two_people_typed_across_years(
    unit: tuple[Path, list[uuid.UUID]],
) -> None:
    """R8.1: 张三 across five years (codes, pinyin initials and Chinese all work; Enter moves
    to the next year and on to the next person), then 李四 with Tab and arrows. Each cell is
    in the file and in the outbox (so it syncs) as soon as it is confirmed."""
    path, ids = unit
    app = create_app(path)
    async with app.run_test(size=(100, 30)) as pilot:
        table = await open_grid(app, pilot, ids)
        for typed in ("yx", "hg", "合格", "pass", "excellent"):
            await pilot.press(*typed, "enter")
        assert (table.row, table.column) == (1, 0)  # wrapped to 李四's first year
        await pilot.press("right", "right", "right", *"yx", "tab", *"jbhg")
        await pilot.press("shift+tab")  # the bad-free way back: 2025 saved, cursor on 2024
        await saved(app, pilot, table)
        assert appraisals(path, ids[0]) == {
            "2021": "excellent", "2022": "pass", "2023": "pass", "2024": "pass",
            "2025": "excellent",
        }  # fmt: skip
        assert appraisals(path, ids[1]) == {"2024": "excellent", "2025": "basic_pass"}
        inserted = outbox_rows(path, "annual_appraisal")
        assert inserted.count(ids[0]) == 5 and inserted.count(ids[1]) == 2
        assert row_values(table.grid, 1)["2025"] == "基本合格"
        assert (table.row, table.column) == (1, 3)


async def test_r8_1_a_bad_grade_shows_its_message_and_saves_nothing(
    unit: tuple[Path, list[uuid.UUID]],
) -> None:
    """A code that is not in 考核档次's table: the status line says what is wrong and what is
    expected, the text stays in the cell (nothing typed is lost), nothing is written, the
    cursor stays; fixed, it is saved."""
    path, ids = unit
    before = len(outbox_rows(path, "annual_appraisal"))
    app = create_app(path)
    async with app.run_test(size=(100, 30)) as pilot:
        table = await open_grid(app, pilot, ids)
        await pilot.press(*"abc", "enter")
        message = status(app)
        assert "考核档次" in message and "“abc”不在可选范围内" in message
        assert "优秀" in message  # what is expected
        assert (table.row, table.column) == (0, 0)
        assert table.grid.shown(0, 0) == "abc"
        assert app.screen.query_one("#grid-status").has_class("-error")
        table.grid.flush()
        assert appraisals(path, ids[0]) == {}
        assert len(outbox_rows(path, "annual_appraisal")) == before
        # moving away keeps it (red, unsaved); coming back shows the message again
        await pilot.press("right", "left")
        assert "不在可选范围内" in status(app)
        await pilot.press("backspace", "backspace", "backspace", *"yx", "enter")
        await saved(app, pilot, table)
        assert appraisals(path, ids[0]) == {"2021": "excellent"}
        assert table.grid.drafts == 0


async def test_r12_2_a_submitted_application_refuses_with_the_reason(
    unit: tuple[Path, list[uuid.UUID]],
) -> None:
    """R12.2: 王五 has submitted: his row refuses typing and clearing and says why; 赵六's
    application was returned to him and is editable again."""
    path, ids = unit
    app = create_app(path)
    async with app.run_test(size=(100, 30)) as pilot:
        table = await open_grid(app, pilot, ids)
        await pilot.press("down", "down")
        assert "王五的申报已提交" in status(app) and "不能修改" in status(app)
        await pilot.press(*"yx", "enter", "delete", "space")
        assert "不能修改" in status(app)
        assert table.grid.shown(2, 0) == "" and table.editing is None
        assert (table.row, table.column) == (2, 1)  # Enter still moves on
        await pilot.press("down", "left", *"yx", "enter")
        await saved(app, pilot, table)
    assert appraisals(path, ids[2]) == {}
    assert appraisals(path, ids[3]) == {"2021": "excellent"}


async def test_r8_1_reopening_shows_what_was_saved_and_clear_removes_it(
    unit: tuple[Path, list[uuid.UUID]],
) -> None:
    """Closed and opened again (a new app on the same file), the grid shows the saved grades
    by label; Delete clears a cell (the record goes: it has no file); Space picks a grade
    from the code table."""
    path, ids = unit
    app = create_app(path)
    async with app.run_test(size=(100, 30)) as pilot:
        table = await open_grid(app, pilot, ids)
        await pilot.press(*"yx", "enter", *"hg", "enter")
        await pilot.press("space")
        assert isinstance(app.screen, CodePickScreen)
        await pilot.press(*"bhg", "enter")  # 不合格
        await pilot.pause()
        assert isinstance(app.screen, GridScreen)
        await saved(app, pilot, table)
        await pilot.press("escape")  # nothing wrong on screen: closes at once
        assert not isinstance(app.screen, GridScreen)
    assert appraisals(path, ids[0]) == {"2021": "excellent", "2022": "pass", "2023": "fail"}

    app = create_app(path)
    async with app.run_test(size=(100, 30)) as pilot:
        table = await open_grid(app, pilot, ids)
        shown = row_values(table.grid, 0)
        years = ("2021", "2022", "2023", "2024")
        assert [shown[y] for y in years] == ["优秀", "合格", "不合格", ""]
        await pilot.press("right", "delete")
        await saved(app, pilot, table)
    assert appraisals(path, ids[0]) == {"2021": "excellent", "2023": "fail"}


async def test_r8_1_f1_explains_the_cell(unit: tuple[Path, list[uuid.UUID]]) -> None:
    """F1 on a cell: the field's help with its rule id and the guide's words."""
    path, ids = unit
    app = create_app(path)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_grid(app, pilot, ids)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        label, rule, _help, guide = app.screen.topic
        assert (label, rule) == ("考核档次", "R8.1") and "近5年" in guide


async def test_leaving_with_a_bad_cell_asks_first(unit: tuple[Path, list[uuid.UUID]]) -> None:
    """Esc or Ctrl+Q with red (unsaved) cells asks first; 返回修改 keeps them on screen."""
    path, ids = unit
    app = create_app(path)
    async with app.run_test(size=(100, 30)) as pilot:
        table = await open_grid(app, pilot, ids)
        await pilot.press(*"zz", "enter", "escape")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")  # the dialog's own cancel: back to the grid
        assert isinstance(app.screen, GridScreen) and table.grid.shown(0, 0) == "zz"
        await pilot.press("ctrl+q")  # quitting asks too
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, GridScreen) and app.is_running
        await pilot.press("ctrl+q", "tab", "enter")  # 放弃并退出
        await pilot.pause()
    assert not app.is_running


async def test_crash_safety_confirmed_cells_are_in_the_file(
    unit: tuple[Path, list[uuid.UUID]],
) -> None:
    """Once the line says 已保存 the grades are in the file (read here by another connection
    while the app still runs: a crash now loses nothing); cells confirmed just before Ctrl+Q
    are saved before the app leaves."""
    path, ids = unit
    app = create_app(path)
    async with app.run_test(size=(100, 30)) as pilot:
        table = await open_grid(app, pilot, ids)
        await pilot.press(*"yx", "enter")
        await saved(app, pilot, table)
        assert appraisals(path, ids[0]) == {"2021": "excellent"}
        await pilot.press(*"hg", "enter", *"hg", "enter", "ctrl+q")
    assert appraisals(path, ids[0]) == {"2021": "excellent", "2022": "pass", "2023": "pass"}


async def test_r3_a_single_row_section_as_a_grid(unit: tuple[Path, list[uuid.UUID]]) -> None:
    """A single-row section works from the same data: a column per field (个人基本信息).
    R3.1: a wrong mobile number is kept and explained; a right one is saved."""
    path, ids = unit
    app = create_app(path)
    async with app.run_test(size=(100, 30)) as pilot:
        table = await open_grid(app, pilot, ids, section="basic")
        mobile = next(c for c, col in enumerate(table.grid.columns) if col.key == "mobile")
        table.move_to(0, mobile)
        await pilot.press(*"123", "enter")
        assert "手机号码" in status(app)
        await pilot.press("backspace", "backspace", "backspace", *"13800138000", "enter")
        await saved(app, pilot, table)
    with Store(path) as store:
        assert store.load(ids[0]).singles["basic_info"].mobile == "13800138000"  # type: ignore[attr-defined]


def test_r2_5_sections_the_grid_cannot_take_say_why(unit: tuple[Path, list[uuid.UUID]]) -> None:
    """A list section without a `grid:` in forms.yaml is refused in Chinese; in 个人申报设置
    the grid leaves out 评审方式, whose edits R2.5 may refuse (the full form checks them)."""
    path, ids = unit
    with Store(path) as store:
        with pytest.raises(StoreError, match=r"论文.*不能按表格录入"):
            SectionGrid(store, ids, "paper")
        grid = SectionGrid(store, ids, "settings")
        try:
            keys = [c.key for c in grid.columns]
            assert "series" in keys and "review_mode" not in keys
        finally:
            grid.close()


async def test_an_empty_selection_opens_an_empty_grid(unit: tuple[Path, list[uuid.UUID]]) -> None:
    """The table's filter matched nobody: the grid opens empty and keys do no harm."""
    path, _ = unit
    app = create_app(path)
    async with app.run_test(size=(100, 30)) as pilot:
        table = await open_grid(app, pilot, [])
        await pilot.press("down", "tab", "enter", *"yx", "enter", "delete", "space")
        assert table.grid.rows == [] and isinstance(app.screen, GridScreen)


def test_r8_1_a_grid_in_forms_yaml_is_checked_on_load() -> None:
    """forms.yaml's `grid:` must name a year field, a field of the section, and a check that
    gives years; a wrong one fails the load with a Chinese message."""
    computed = {"__all__": {"initials"}}  # pinyin initials are computed, not written
    spec = (
        load_forms()
        .section("appraisal")
        .model_dump(exclude={"fields": computed, "slots": computed})
    )
    assert SectionSpec.model_validate(spec).grid is not None
    for bad in (
        {"key": "grade", "value": "grade", "columns": "appraisal_years"},
        {"key": "year", "value": "grade", "columns": "time_order"},
    ):
        with pytest.raises(ValueError, match="grid"):
            SectionSpec.model_validate({**spec, "grid": bad})
