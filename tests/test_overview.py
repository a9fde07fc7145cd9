"""The overview table (一览表, R11) as the unit prints it: headings from the form, one row
per applicant with the right values, print setup, and no formula injection."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import update
from sqlmodel import col
from typer.testing import CliRunner

from zctui.cli import app as cli
from zctui.data.documents import load_documents
from zctui.demo import build_demo
from zctui.domain.models import Application
from zctui.exchange.overview import FIRST_DATA_ROW, HEADER_ROW, columns, from_store, write_overview
from zctui.store.repository import Store

YEAR = 2026


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """The demo's complete and half-done applications, and two people whose names a
    spreadsheet would take for formulas."""
    path = tmp_path / "ws.sqlite3"
    build_demo(path, year=YEAR)
    with Store(path) as store:
        for id_number, name in (("130902199001010018", "=1+1"), ("13090219900202002X", "@SUM(A1)")):
            person = store.create_person(id_number, name)
            app = store.create_application(person, YEAR, unit_name="沧州市中西医结合医院")
            row = store.single("basic_info", app.id)
            store.set_field("basic_info", row.id, "name", name)
    return path


def _sheet(path: Path) -> Worksheet:
    ws = openpyxl.load_workbook(path).active
    assert ws is not None
    return ws


def _rows(ws: Worksheet) -> dict[str, dict[str, Any]]:
    """Data rows keyed by 姓名, each as heading → value."""
    headers = [c.value for c in ws[HEADER_ROW]]
    out = {}
    for r in ws.iter_rows(min_row=FIRST_DATA_ROW, values_only=True):
        if r[0] is None or not isinstance(r[0], int):
            continue
        row = {str(h): v for h, v in zip(headers, r, strict=True)}
        out[str(row["姓名"])] = row
    return out


def test_r11_overview_headings_and_one_row_per_applicant(workspace: Path, tmp_path: Path) -> None:
    out = tmp_path / "一览表.xlsx"
    with Store(workspace) as store:
        result = write_overview(from_store(store), out, today=date(2026, 11, 27))
    assert result.rows == 4 and result.path == out
    ws = _sheet(out)
    headers = [c.value for c in ws[HEADER_ROW]]
    # 序号, then the key data, then every R11 field, labels from forms.yaml.
    assert headers[:5] == ["序号", "姓名", "性别", "出生日期", "政治面貌"]
    for label in ("申报单位", "申报系列", "评审方式", "学历", "现职称名称"):
        assert label in headers
    r11 = [c.label for c in columns() if c.section.code == "overview"]
    assert headers[-len(r11) :] == r11
    assert "量化评分推荐排名-得分排序" in r11 and "破格条件" in r11
    assert ws["A1"].value == "河北省2026年度沧州市专业技术职务任职资格申报人员一览表"
    assert "填表日期：2026-11-27" in [c.value for c in ws[2]]
    rows = _rows(ws)
    assert set(rows) == {"杨丰", "李静", "=1+1", "@SUM(A1)"}
    yang = rows["杨丰"]
    # Codes print as their labels; numbers stay numbers; the evaluated degree is the one shown.
    assert yang["性别"] == "男" and yang["身体状况"] == "健康或良好"
    assert yang["量化评分推荐排名-得分"] == 86.5 and yang["量化评分推荐排名-得分排序"] == 2
    assert yang["量化评分推荐排名-单位共推荐"] == 5 and yang["参加工作时间"] == "2004-08"
    assert yang["申报单位"] == "沧州市中西医结合医院"
    assert yang["现专业技术职务任职资格"] == "主治医师"
    assert rows["李静"]["毕业院校"] == "河北工业大学"
    assert rows["李静"]["身体状况"] is None  # not filled in yet: an empty cell, not "None"
    assert sorted(r["序号"] for r in rows.values()) == [1, 2, 3, 4]


def test_overview_ready_to_print_a4_landscape(workspace: Path, tmp_path: Path) -> None:
    out = tmp_path / "一览表.xlsx"
    with Store(workspace) as store:
        write_overview(from_store(store), out)
    ws = _sheet(out)
    assert ws.freeze_panes == f"C{FIRST_DATA_ROW}"
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.paperSize == 9  # A4 in the OOXML paper codes
    assert ws.sheet_properties.pageSetUpPr is not None
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}"  # on every page
    header = ws.cell(HEADER_ROW, 2)
    assert header.border.left.style == "thin" and header.font.bold
    assert ws.cell(FIRST_DATA_ROW, 2).border.bottom.style == "thin"
    widths = [ws.column_dimensions[c].width for c in "ABCDEF"]
    assert all(6 <= w <= 30 for w in widths)
    stamp = load_documents().overview.stamp
    assert stamp in [c.value for row in ws.iter_rows() for c in row]


def test_overview_names_that_look_like_formulas_stay_text(workspace: Path, tmp_path: Path) -> None:
    out = tmp_path / "一览表.xlsx"
    with Store(workspace) as store:
        write_overview(from_store(store), out)
    ws = _sheet(out)
    cells = {c.value: c for row in ws.iter_rows(min_row=FIRST_DATA_ROW) for c in row}
    for text in ("=1+1", "@SUM(A1)"):
        assert cells[text].data_type == "s", text  # a string, not a formula
        assert cells[text].quotePrefix
    # Nothing in the file is a formula.
    assert not [c for row in ws.iter_rows() for c in row if c.data_type == "f"]


def test_zctui_export_overview_cli(workspace: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "一览表"
    out.parent.mkdir()
    r = CliRunner().invoke(cli, ["--db", str(workspace), "export", "overview", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "4 人" in r.output
    assert len(_rows(_sheet(out.with_suffix(".xlsx")))) == 4
    bad = CliRunner().invoke(cli, ["--db", str(workspace), "export", "overview", "-s", "xx"])
    assert bad.exit_code == 2 and "不认识的状态 xx" in bad.output and "unit_approved" in bad.output
    none = CliRunner().invoke(
        cli, ["--db", str(workspace), "export", "overview", "-s", "unit_approved"]
    )
    assert none.exit_code == 2 and "单位已通过" in none.output


def test_overview_state_filter(workspace: Path) -> None:
    """`--state unit_approved`: only what the unit has approved goes on the table."""
    with Store(workspace) as store:
        first = store.applications()[0]
        with store.engine.begin() as conn:
            conn.execute(
                update(Application)
                .where(col(Application.id) == first.id)
                .values(state="unit_approved")
            )
        assert len(from_store(store)) == 4
        assert [d.application.id for d in from_store(store, ["unit_approved"])] == [first.id]
        assert len(from_store(store, ["draft"])) == 3
