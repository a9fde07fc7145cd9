"""Batch import (issue 7): a unit's people from a workbook into the local workspace.

The workbooks are written here with openpyxl, the attachments are real PDFs and photos
(pdf_corpus), and every assertion reads the SQLite workspace back: what a unit admin would
see in the applicants table and in each person's application, and what the sync would send
(the outbox)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

import pdf_corpus
from zctui.cli import app as cli
from zctui.data.import_sheets import load_import_sheets
from zctui.demo import tiny_photo
from zctui.domain.validators import check_id_number
from zctui.exchange.importer import ImportReport, import_file
from zctui.exchange.layout import layout_of, layouts
from zctui.exchange.template import write_template
from zctui.pdf.checks import Checker
from zctui.store.repository import Store

YEAR = 2026


def ident(n: int, born: str = "19800101") -> str:
    """A valid 18-character ID number (GB 11643 check digit), different for each n."""
    first = f"130902{born}{n:03d}"
    number = next(first + d for d in "0123456789X" if check_id_number(first + d) is None)
    return number


A, B, C = ident(11), ident(21), ident(31)


def header(sheet: str) -> list[str]:
    lay = layout_of(sheet)
    assert lay is not None
    return [c.label for c in lay.columns]


def row(sheet: str, **values: Any) -> list[Any]:
    """A row in the sheet's column order, by field name (`key` for the ID number)."""
    lay = layout_of(sheet)
    assert lay is not None
    return [values.get("key" if c.name == "__key__" else c.name.strip("_")) for c in lay.columns]


def workbook(path: Path, sheets: dict[str, Sequence[Sequence[Any]] | None]) -> Path:
    """A workbook with these sheets: a list of rows under the standard header, or the rows
    themselves (header included) when the first row is a list of strings starting with a
    header label; None makes an empty sheet."""
    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        if rows is None:
            continue
        if not rows or rows[0] != ["raw"]:
            ws.append(header(name))
            body: Iterable[Sequence[Any]] = rows
        else:
            body = rows[1:]
        for r in body:
            ws.append(list(r))
    wb.save(path)
    return path


def basic(key: str | int | None, name: str, **more: Any) -> list[Any]:
    values = dict(
        key=key, name=name, id_type="居民身份证(户口簿)", ethnicity="汉族", politics="中共党员",
        mobile="13831712345", summary="本人长期从事中医外科临床工作。",
    )  # fmt: skip
    return row("基本信息", **(values | more))


def settings(key: str, **more: Any) -> list[Any]:
    values = dict(
        key=key, year=YEAR, category="卫生类", series="中医系列-中医", specialty="中医外科",
        title="副主任医师", method="正常申报", review_mode="评审",
    )  # fmt: skip
    return row("申报设置", **(values | more))


def paper(key: str, title: str, **more: Any) -> list[Any]:
    values = dict(
        key=key, title=title, journal="中医杂志", journal_numbers="ISSN 1001-1668 CN11-2166/R",
        sponsor="中华中医药学会", published="2022-05", author_rank="第一作者", words="4.5",
        journal_rank="北大中文核心",
    )  # fmt: skip
    return row("论文", **(values | more))


def appraisal(key: str, year: int, grade: str = "合格") -> list[Any]:
    return row("年度考核", key=key, year=year, grade=grade)


def good_book(path: Path) -> Path:
    return workbook(
        path,
        {
            "基本信息": [basic(A, "杨丰"), basic(B, "李静")],
            "申报设置": [settings(A), settings(B)],
            "论文": [paper(A, "中药外敷治疗糖尿病足溃疡临床观察"), paper(B, "电力系统论文")],
            "年度考核": [appraisal(A, y) for y in range(2021, 2026)],
        },
    )


def people(store: Store) -> dict[str, Any]:
    return {p.id_number: p for p in store.persons()}


def application_of(store: Store, key: str) -> Any:
    person = people(store)[key]
    app = next(a for a in store.applications() if a.person_id == person.id)
    return store.load(app.id)


def messages(report: ImportReport) -> list[str]:
    return [str(p) for p in report.problems]


# ------------------------------------------------------------------------------ template
def test_template_has_a_sheet_per_section_with_headers_drop_downs_and_instructions(
    tmp_path: Path,
) -> None:
    """The template: 说明 first, one sheet per importable section with the Chinese labels
    as headers, drop-downs for coded fields from the code tables, column widths, a frozen
    header; 说明 explains every sheet and the attachment folder convention."""
    path = write_template(tmp_path / "模板.xlsx")
    wb = load_workbook(path)
    data = load_import_sheets()
    assert wb.sheetnames[0] == "说明"
    assert [s for s in wb.sheetnames if s not in ("说明", "代码表")] == [
        x.sheet for x in data.sheets
    ]
    assert wb["代码表"].sheet_state == "hidden"
    ws = wb["论文"]
    heads = [c.value for c in ws[1]]
    assert heads[:3] == ["身份证号", "论文名称", "刊物名称"]
    assert ws.freeze_panes == "B2"
    assert ws.column_dimensions["A"].width == 21
    rank_col = heads.index("个人排名") + 1
    from openpyxl.utils import get_column_letter

    letter = get_column_letter(rank_col)
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    target = next(dv for dv in lists if f"{letter}2:{letter}5001" in str(dv.sqref))
    col_letter = target.formula1.split("!$")[1].split("$")[0]
    codes = [c.value for c in wb["代码表"][col_letter]]
    assert codes[0] == "values:author_rank" and "第一作者" in codes
    settings_heads = [c.value for c in wb["申报设置"][1]]
    assert settings_heads[:3] == ["身份证号", "申报年度", "申报类别"]
    text = "\n".join(str(c.value) for r in wb["说明"].iter_rows() for c in r if c.value)
    assert "论文1-封面.pdf" in text and "身份证号" in text
    for lay in layouts():
        assert lay.name in text


def test_template_round_trips_a_filled_in_person(tmp_path: Path, store: Store) -> None:
    """Fill the template as a unit would (labels from the drop-downs, dates as Excel dates)
    → import → the workspace has the person, the application's settings as codes, and the
    records."""
    path = write_template(tmp_path / "模板.xlsx")
    wb = load_workbook(path)
    wb["基本信息"].append(basic(A, "杨丰", birth_date=datetime(1980, 1, 1)))
    wb["申报设置"].append(settings(A))
    wb["学习经历"].append(
        row(
            "学习经历",
            key=A,
            kind="参评学历",
            school="河北中医学院",
            major="中医学",
            level="大学本科",
            degree="学士",
            origin="国内普通高校",
            start=datetime(1999, 9, 1),
            graduated=datetime(2004, 7, 1),
            chsi_code="A3K9P2M7Q4T8",
        )
    )
    wb["论文"].append(paper(A, "中医外治法在急性乳腺炎中的应用"))
    wb.save(path)
    report = import_file(store, path, year=YEAR, unit=("沧州市中西医结合医院", "沧州市"))
    assert report.ok, messages(report)
    assert report.imported == 1 and report.new_persons == 1
    data = application_of(store, A)
    assert data.person.name == "杨丰"
    app = data.application
    assert (app.year, app.category, app.series, app.specialty, app.title) == (
        YEAR, "ws", "230.zy", "02", "232",
    )  # fmt: skip
    assert (app.method, app.review_mode) == ("normal", "review")
    assert (app.unit_name, app.city, app.state) == ("沧州市中西医结合医院", "沧州市", "draft")
    b = data.singles["basic_info"]
    assert (b.id_number, b.id_type, b.ethnicity, b.gender, b.birth_date) == (
        A, "id_card", "01", "1", "1980-01-01",
    )  # fmt: skip
    (edu,) = data.rows("education")
    assert (edu.kind, edu.level, edu.start, edu.graduated) == (
        "evaluated",
        "21",
        "1999-09",
        "2004-07",
    )
    (p,) = data.rows("paper")
    assert (p.author_rank, p.journal_rank, p.published) == ("first", "pku_core", "2022-05")


# ------------------------------------------------------------------------------ bad rows
def test_each_bad_cell_is_reported_by_address_and_its_person_skipped_whole(
    tmp_path: Path, store: Store
) -> None:
    """The corpus of bad rows: bad ID number, unknown series code, impossible date, the same
    person twice, text over its limit, a formula, an empty sheet, a sheet missing columns.
    Each gives its per-cell message (sheet!cell, in Chinese); a person with a bad cell is
    skipped whole; everyone else is imported, nothing valid is lost."""
    bad_id = "130902198001010012"  # wrong check digit
    D, E, F, G = ident(41), ident(51), ident(61), ident(71)
    path = workbook(
        tmp_path / "bad.xlsx",
        {
            "基本信息": [
                basic(A, "杨丰"),  # row 2: fine
                basic(bad_id, "错号"),  # row 3
                basic(B, "李静"),  # row 4
                basic(B, "李静二"),  # row 5: the same person twice
                basic(C, "张" * 31),  # row 6: 姓名 over 30
                basic(D, "王五", birth_date="1980-02-30"),  # row 7: impossible date
                basic(E, "赵六", mobile="=1+1"),  # row 8: a formula
                basic(F, "孙七"),
                basic(G, "周八", mobile="-13831712345"),  # a leading "-" is data, not a formula
            ],
            "申报设置": [settings(A), settings(F, series="999")],  # row 3: unknown series
            "年度考核": [appraisal(A, 2024), appraisal(A, 2025)],
            "专利": None,  # an empty sheet
            "论文": [
                ["raw"],
                ["身份证号", "刊物名称"],  # no 论文名称: the column rows are recognised by
                [A, "中医杂志"],
            ],
        },
    )
    # openpyxl writes a string starting with "=" as a formula: exactly what a user's sheet has
    report = import_file(store, path, year=YEAR)
    got = messages(report)

    def has(prefix: str, *words: str) -> None:
        hits = [m for m in got if m.startswith(prefix + ": ")]
        assert hits and all(w in hits[0] for w in words), (prefix, got)

    has("基本信息!A3", "证件号码", "校验")
    has("基本信息!A5", "第 4 行", "同一人")
    has("基本信息!B6", "姓名", "最多 30 字")
    has("基本信息!F7", "出生日期")
    has("基本信息!H8", "公式", "=1+1")
    has("申报设置!D3", "申报系列", "“999”")
    has("专利!A1", "空")
    has("论文!A1", "缺少列", "论文名称")
    # A has rows on 论文, whose key column is missing: A is skipped, not imported half
    assert sorted(report.skipped) == sorted([bad_id, B, C, D, E, F, A])
    assert set(people(store)) == {G}
    assert application_of(store, G).singles["basic_info"].mobile == "-13831712345"
    assert not report.ok


def test_numbers_typed_into_the_id_column_and_rows_without_id_are_reported(
    tmp_path: Path, store: Store
) -> None:
    """An ID number Excel stored as a number has lost digits: refused with what to do; a row
    without an ID number cannot be placed: reported, counted as lost."""
    path = workbook(
        tmp_path / "n.xlsx",
        {"基本信息": [basic(130902198001010110, "数字"), basic(None, "无号"), basic(A, "杨丰")]},
    )
    report = import_file(store, path, year=YEAR)
    got = messages(report)
    assert any(m.startswith("基本信息!A2: 身份证号被 Excel 存成了数字") for m in got), got
    assert any(m.startswith("基本信息!A3: 缺少身份证号") for m in got), got
    assert report.rows_lost == 2 and set(people(store)) == {A}


# ------------------------------------------------------------------------------ idempotency
def test_second_import_of_the_same_file_changes_nothing(tmp_path: Path, store: Store) -> None:
    """Importing the same file twice: the second run writes no outbox entry (nothing to sync)
    and reports everyone unchanged."""
    path = good_book(tmp_path / "a.xlsx")
    first = import_file(store, path, year=YEAR)
    assert first.ok and first.imported == 2 and first.new_persons == 2, messages(first)
    outbox = len(store.outbox())
    assert outbox > 0
    second = import_file(store, path, year=YEAR)
    assert second.ok and second.unchanged == 2 and second.new_persons == 0
    assert len(store.outbox()) == outbox
    assert len(application_of(store, A).rows("annual_appraisal")) == 5


def test_a_changed_row_updates_its_record_and_a_new_one_is_added(
    tmp_path: Path, store: Store
) -> None:
    """A changed cell updates the record matched by its natural key (论文: its title), as
    one field edit in the outbox; a new title adds a record; records not in the file stay."""
    import_file(store, good_book(tmp_path / "a.xlsx"), year=YEAR)
    before = application_of(store, A)
    (old,) = before.rows("paper")
    seq = store.outbox()[-1].seq or 0
    path = workbook(
        tmp_path / "b.xlsx",
        {
            "论文": [
                paper(
                    A,
                    "中药外敷治疗糖尿病足溃疡临床观察",
                    journal="中国中医急症",
                    published="2022.6",
                ),
                paper(A, "新的一篇"),
            ],
            "年度考核": [appraisal(A, 2025, "优秀")],
        },
    )
    report = import_file(store, path, year=YEAR)
    assert report.ok and report.records_updated == 2 and report.records_added == 1, messages(report)
    after = application_of(store, A)
    papers = {p.title: p for p in after.rows("paper")}
    assert papers["中药外敷治疗糖尿病足溃疡临床观察"].id == old.id
    assert papers["中药外敷治疗糖尿病足溃疡临床观察"].journal == "中国中医急症"
    assert papers["中药外敷治疗糖尿病足溃疡临床观察"].published == "2022-06"
    assert papers["新的一篇"].position == 2
    grades = {a.year: a.grade for a in after.rows("annual_appraisal")}
    assert grades == {
        "2021": "pass",
        "2022": "pass",
        "2023": "pass",
        "2024": "pass",
        "2025": "excellent",
    }
    entries = store.outbox(after=seq)
    edits = [json.loads(e.changes) for e in entries if (e.table_name, e.op) == ("paper", "update")]
    assert edits == [
        {"journal": ["中医杂志", "中国中医急症"]},
        {"published": ["2022-05", "2022-06"]},
    ]  # one field edit each, as if typed; the unchanged fields send nothing
    assert [(e.table_name, e.op) for e in entries].count(("paper", "insert")) == 1


def test_dry_run_validates_and_reports_but_writes_nothing(tmp_path: Path, store: Store) -> None:
    path = good_book(tmp_path / "a.xlsx")
    report = import_file(store, path, year=YEAR, dry_run=True)
    assert report.ok and report.imported == 2 and report.new_persons == 2
    assert "试导入" in report.lines()[-1]
    assert store.persons() == [] and store.outbox() == []


# ------------------------------------------------------------------------------ CSV
@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_csv_imports_the_people_sheet(tmp_path: Path, store: Store, encoding: str) -> None:
    """A CSV file is one sheet: 基本信息 (or the sheet its file name names), UTF-8 or GBK as
    Excel in China saves it. Cells starting with = are data in a CSV."""
    import csv

    path = tmp_path / "人员.csv"
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header("基本信息"))
        w.writerow(basic(A, "杨丰"))
        w.writerow(basic(B, "李静", summary="=不是公式"))
    report = import_file(store, path, year=YEAR)
    assert report.ok and report.imported == 2, messages(report)
    assert application_of(store, B).singles["basic_info"].summary == "=不是公式"
    assert people(store)[A].name == "杨丰"


# ------------------------------------------------------------------------------ attachments
def test_attachments_folder_is_matched_by_id_number_and_each_file_checked(
    tmp_path: Path, store: Store
) -> None:
    """A folder per ID number; 申报人照片.jpg and 申报材料真实性承诺书.pdf go to the person's
    own slots, 论文1-封面.pdf to the first paper's cover; each file is checked as any
    attachment; a refused or unknown file is reported per file and not attached, the rest
    are; a second import attaches nothing again."""
    corpus = pdf_corpus.build(tmp_path / "corpus")
    files = tmp_path / "附件"
    mine = files / f"{A}_杨丰"
    mine.mkdir(parents=True)
    (mine / "申报人照片.png").write_bytes(tiny_photo(300, 420))
    shutil.copy(corpus["valid_multipage.pdf"], mine / "申报材料真实性承诺书.pdf")
    shutil.copy(corpus["valid_multipage.pdf"], mine / "论文1-封面.pdf")
    shutil.copy(corpus["office_goto_outline_form.pdf"], mine / "论文1-正文.pdf")
    shutil.copy(corpus["office_goto_outline_form.pdf"], mine / "论文1-正文-2.pdf")
    shutil.copy(corpus["javascript_openaction.pdf"], mine / "论文1-目录页.pdf")
    shutil.copy(corpus["valid_multipage.pdf"], mine / "论文3-封面.pdf")
    shutil.copy(corpus["valid_multipage.pdf"], mine / "随便.pdf")
    path = good_book(tmp_path / "a.xlsx")
    report = import_file(store, path, year=YEAR, attachments=files, checker_factory=Checker)
    got = messages(report)
    assert report.files_added == 5 and report.files_refused == 3, got
    assert any("论文1-目录页.pdf: " in m and "JavaScript" in m for m in got), got
    assert any("论文3-封面.pdf: " in m and "没有第 3 行" in m for m in got), got
    assert any("随便.pdf: " in m and "无法识别的文件名" in m for m in got), got
    assert A not in report.skipped  # a refused file does not hold back the person's data
    data = application_of(store, A)
    (p,) = data.rows("paper")
    assert [a.original_name for a in data.files_in(p.id, "text")] == [
        "论文1-正文.pdf",
        "论文1-正文-2.pdf",
    ]
    assert [a.pages for a in data.files_in(p.id, "cover")] == [5]
    basic_row = data.singles["basic_info"]
    assert [a.media_type for a in data.files_in(basic_row.id, "photo")] == ["image/png"]
    assert len(data.files_in(data.application.id, "m01")) == 1
    outbox = len(store.outbox())
    again = import_file(store, path, year=YEAR, attachments=files, checker_factory=Checker)
    assert again.files_added == 0 and len(store.outbox()) == outbox


# ------------------------------------------------------------------------------ CLI
def test_cli_import_prints_the_report_and_exits_1_when_someone_was_skipped(
    tmp_path: Path,
) -> None:
    db = tmp_path / "ws.sqlite3"
    runner = CliRunner()
    out = tmp_path / "模板"
    r = runner.invoke(cli, ["--db", str(db), "import", "--template", str(out)])
    assert r.exit_code == 0 and (tmp_path / "模板.xlsx").is_file(), r.output
    path = workbook(tmp_path / "x.xlsx", {"基本信息": [basic(A, "杨丰"), basic("123", "坏号")]})
    r = runner.invoke(cli, ["--db", str(db), "import", str(path), "--dry-run"])
    assert r.exit_code == 1 and "基本信息!A3: " in r.output and "试导入" in r.output
    with Store(db) as s:
        assert s.persons() == []
    r = runner.invoke(cli, ["--db", str(db), "import", str(path)])
    assert r.exit_code == 1 and "跳过 1 人" in r.output
    r = runner.invoke(cli, ["--db", str(db), "import", str(tmp_path / "none.xlsx")])
    assert r.exit_code == 2 and "找不到文件" in r.output


# ------------------------------------------------------------------------------ TUI
async def test_import_screen_runs_in_a_worker_with_progress_then_shows_the_report(
    tmp_path: Path, store: Store
) -> None:
    """The import screen: type the workbook's path, Enter; the import runs in a worker whose
    progress messages feed the bar; then the report (per-cell problems and totals) is shown,
    and Esc hands the report back to the caller (the applicants table refreshes on it)."""
    from textual.app import App
    from textual.widgets import Static, TextArea

    from zctui.screens.import_screen import ImportScreen
    from zctui.widgets.path_picker import PathInput

    path = workbook(
        tmp_path / "名单.xlsx",
        {"基本信息": [basic(A, "杨丰"), basic(B, "李静", birth_date="1980-02-30")]},
    )
    results: list[ImportReport | None] = []

    class Host(App[None]):
        def on_mount(self) -> None:
            self.push_screen(ImportScreen(store, year=YEAR), results.append)

    app = Host()
    async with app.run_test(size=(110, 36)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        screen.query_one("#import-file", PathInput).value = str(path)
        await pilot.press("enter")
        for _ in range(400):
            await pilot.pause(0.05)
            if not screen.busy:
                break
        assert screen.report is not None
        seen = screen.progress_seen
        assert seen and seen[-1][0] == seen[-1][1]  # the bar reached its end
        report_text = screen.query_one("#import-report", TextArea).text
        assert "基本信息!F3: 出生日期" in report_text
        status = str(screen.query_one("#import-status", Static).render())
        assert "已导入 1 人" in status and "跳过 1 人" in status
        await pilot.press("escape")
        await pilot.pause()
    assert results and results[0] is screen.report
    assert set(people(store)) == {A}


def test_r12_2_an_application_under_review_is_not_changed_by_an_import(
    tmp_path: Path, store: Store
) -> None:
    """R12.2: once submitted (the unit reviews it), an application is not edited by an import:
    that person is skipped with the reason; an unchanged file still passes."""
    path = good_book(tmp_path / "a.xlsx")
    import_file(store, path, year=YEAR)
    app = application_of(store, A).application
    store.set_field("application", app.id, "state", "submitted")
    assert import_file(store, path, year=YEAR).ok
    changed = workbook(tmp_path / "b.xlsx", {"年度考核": [appraisal(A, 2025, "优秀")]})
    report = import_file(store, changed, year=YEAR)
    assert report.skipped == [A]
    assert any("已交单位审核（已提交）" in m for m in messages(report)), messages(report)
    grades = {a.year: a.grade for a in application_of(store, A).rows("annual_appraisal")}
    assert grades["2025"] == "pass"


def test_insert_many_writes_the_rows_and_outbox_entries_add_writes(store: Store) -> None:
    """The import's bulk insert is the store's `add`, many at a time: the same row and the
    same outbox entry (what the sync sends), so imported people sync like typed ones."""
    import uuid

    from zctui.domain.models import Person

    one = store.add(Person(id_number=A, name="杨丰"))
    rid = uuid.uuid4()
    store.insert_many("person", [{"id": rid, "id_number": B, "name": "李静"}])
    first, second = store.outbox()
    assert (second.table_name, second.op, second.row_id, second.base_rev) == (
        "person", "insert", rid, 0,
    )  # fmt: skip
    mine, theirs = json.loads(first.changes), json.loads(second.changes)
    assert sorted(mine) == sorted(theirs) and theirs["name"] == [None, "李静"]
    got = store.get("person", rid)
    assert (got.id_number, got.name, got.rev, got.deleted) == (B, "李静", 0, False)
    assert one.id != rid


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        ("key: [title]}", "key: [titel]}", "sheets[20].key[0]: 栏目 paper 没有字段 titel"),
        ("sheet: 论文, key", "sheet: 论文?, key", "sheets[20].sheet: 工作表名"),
        ("section: paper,", "section: papers,", "sheets[20].section: forms.yaml 中没有栏目"),
        ("sheet: 论著, key: [title]}", "sheet: 论文, key: [title]}", "重复的工作表名 论文"),
    ],
)
def test_the_import_sheets_data_is_validated_on_load(
    tmp_path: Path, old: str, new: str, error: str
) -> None:
    """import_sheets.yaml is checked against forms.yaml when it loads: a wrong section, key
    field or sheet name fails with the file and the key named."""
    from zctui.data.base import DATA_DIR, CatalogError

    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    text = (data / "import_sheets.yaml").read_text(encoding="utf-8")
    assert old in text
    (data / "import_sheets.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        load_import_sheets(data)
    assert str(caught.value).startswith("import_sheets.yaml: ") and error in str(caught.value)
