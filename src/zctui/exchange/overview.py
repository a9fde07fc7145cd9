"""The overview table (一览表, R11) as XLSX: title rows, one row per applicant with the key
data and the R11 fields, ready to print on A4 landscape and stamp.

Which columns come from documents.yaml (`overview`), their headings from forms.yaml, coded
values print as their labels. Text that a spreadsheet would take for a formula (= + - @ …)
is stored as a string cell with a quote prefix: a name like `=1+1` stays a name.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from zctui.data.catalog import Catalog, load_catalog
from zctui.data.documents import Documents, OverviewColumns, load_documents
from zctui.data.forms import FieldSpec, Forms, SectionSpec, load_forms
from zctui.domain.aggregate import ApplicationData
from zctui.domain.fields import blank, label_of, normalise
from zctui.store.repository import Store

# A spreadsheet evaluates text starting with these (OWASP's CSV-injection list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HEADER_ROW = 3  # title, unit/date, then the column headings
FIRST_DATA_ROW = HEADER_ROW + 1
FROZEN = f"C{FIRST_DATA_ROW}"  # 序号 and 姓名 stay in view
MIN_WIDTH, MAX_WIDTH = 6, 30  # characters; longer text wraps

THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="D9D9D9")


@dataclass(frozen=True)
class Column:
    section: SectionSpec
    field: FieldSpec
    pick: OverviewColumns

    @property
    def label(self) -> str:
        return self.field.label


@dataclass(frozen=True)
class OverviewResult:
    path: Path
    rows: int  # applicants
    columns: int  # including 序号


def columns(docs: Documents | None = None, forms: Forms | None = None) -> list[Column]:
    """The table's columns after 序号, in documents.yaml's order."""
    docs, forms = docs or load_documents(), forms or load_forms()
    out: list[Column] = []
    for ref in docs.overview.columns:
        section = forms.section(ref.section)
        names = ref.fields or tuple(f.name for f in section.fields)
        out += [Column(section, spec, ref) for n in names if (spec := section.field(n))]
    return out


def _row_of(data: ApplicationData, col: Column) -> object | None:
    section = col.section
    if section.kind != "list":
        return data.single(section.table)
    rows = data.rows(section.table)
    if col.pick.pick_field:
        for row in rows:
            if getattr(row, col.pick.pick_field, None) == col.pick.pick_value:
                return row
    return rows[0] if rows else None


def value(data: ApplicationData, col: Column, catalog: Catalog) -> Any:
    """What the cell shows: a code's label, a date as 2021-05-01, numbers as numbers."""
    row = _row_of(data, col)
    raw = getattr(row, col.field.name, None) if row is not None else None
    if col.field.name == "name" and blank(raw) and data.person is not None:
        raw = data.person.name  # the account's name when the basic section is still empty
    if blank(raw):
        return None
    text = str(raw).strip()
    spec = col.field
    if spec.kind == "select":
        record = {f.name: getattr(row, f.name, None) for f in col.section.fields}
        shown = label_of(spec, text, record, catalog)
        if shown == text and spec.source == "series" and (s := catalog.series_by_code(text)):
            shown = s.label
        return shown
    norm = normalise(spec, text)
    return norm if spec.kind in ("int", "year", "decimal", "date", "year_month") else text


def from_store(store: Store, states: Collection[str] = ()) -> list[ApplicationData]:
    """The workspace's applications (those in `states`, when given), loaded whole."""
    return [store.load(a.id) for a in store.applications() if not states or a.state in states]


def set_text(cell: Cell | MergedCell, text: str) -> None:
    """A string cell, even when it looks like a formula (no formula injection)."""
    cell.value = text
    if text.startswith(FORMULA_STARTS):
        cell.data_type = "s"  # openpyxl would store "=…" as a formula
        cell.quotePrefix = True  # and Excel/LibreOffice show it as typed, even when edited


def _put(cell: Cell | MergedCell, v: Any) -> None:
    if isinstance(v, str):
        set_text(cell, v)
    else:
        cell.value = v


def _width(v: Any) -> int:
    """Display width in character cells: a Chinese character takes two."""
    text = "" if v is None else str(v)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _common(values: Sequence[str | None]) -> str:
    seen = list(dict.fromkeys(v for v in values if v))
    return "、".join(seen)


def write_overview(
    apps: Sequence[ApplicationData],
    path: Path,
    *,
    catalog: Catalog | None = None,
    forms: Forms | None = None,
    docs: Documents | None = None,
    today: date | None = None,
) -> OverviewResult:
    """Write the table to `path` (through a temporary file: a failed write leaves no half
    workbook behind). Applicants are ordered by unit, then as given."""
    catalog, forms, docs = (
        catalog or load_catalog(),
        forms or load_forms(),
        docs or load_documents(),
    )
    words = docs.overview
    cols = columns(docs, forms)
    width = len(cols) + 1
    apps = sorted(apps, key=lambda d: d.application.unit_name or "")
    years = sorted({d.application.year for d in apps})
    year = str(years[-1]) if years else ""
    city = _common([d.application.city for d in apps])
    unit = _common([d.application.unit_name for d in apps])

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = words.sheet
    last = get_column_letter(width)

    ws.merge_cells(f"A1:{last}1")
    set_text(ws["A1"], words.title.format(year=year, city=city))
    ws["A1"].font = Font(size=16, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 30
    half = max(width // 2, 1)
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=half)
    set_text(ws.cell(2, 1), words.unit.format(unit=unit))
    if width > half:
        ws.merge_cells(start_row=2, start_column=half + 1, end_row=2, end_column=width)
    date_cell = ws.cell(2, half + 1 if width > half else 1)
    set_text(date_cell, words.date.format(date=(today or date.today()).isoformat()))
    date_cell.alignment = Alignment(horizontal="right")

    headers = [docs.words.number, *(c.label for c in cols)]
    widths = [_width(h) for h in headers]
    for j, text in enumerate(headers, start=1):
        cell = ws.cell(HEADER_ROW, j)
        set_text(cell, text)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.border = BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)

    # One named style for every data cell: assigning it is a lookup by name, where setting
    # border and alignment per cell hashes them each time (3× slower on 2,000 rows).
    data_style = NamedStyle(
        name="zctui-overview-data",
        border=BORDER,
        alignment=Alignment(vertical="center", wrap_text=True),
    )
    wb.add_named_style(data_style)
    for i, data in enumerate(apps, start=1):
        r = HEADER_ROW + i
        cells = [i, *(value(data, c, catalog) for c in cols)]
        for j, v in enumerate(cells, start=1):
            cell = ws.cell(r, j)
            cell.style = data_style.name
            _put(cell, v)  # after the style: the quote prefix of formula-like text stays
            widths[j - 1] = max(widths[j - 1], _width(v))

    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = min(max(w + 2, MIN_WIDTH), MAX_WIDTH)
    stamp_row = HEADER_ROW + len(apps) + 2
    ws.merge_cells(start_row=stamp_row, start_column=1, end_row=stamp_row, end_column=width)
    set_text(ws.cell(stamp_row, 1), words.stamp)

    _print_setup(ws, last, stamp_row)
    path = Path(path)
    part = path.with_name(path.name + ".part")
    try:
        wb.save(part)
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)
    return OverviewResult(path, len(apps), width)


def _print_setup(ws: Worksheet, last: str, last_row: int) -> None:
    """A4 landscape, one page wide, headings repeated on every page, page numbers."""
    ws.freeze_panes = FROZEN
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as it takes
    ws.sheet_properties.pageSetUpPr.fitToPage = True  # type: ignore[union-attr]
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.print_area = f"A1:{last}{last_row}"
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    if ws.oddFooter is not None and ws.oddFooter.center is not None:
        ws.oddFooter.center.text = "第 &P 页，共 &N 页"
