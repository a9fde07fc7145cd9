"""`zctui import --template`: the workbook a unit fills in for a batch import. One sheet per
section (Chinese headers from forms.yaml, required ones in red, the field's help as a comment),
drop-down lists for coded fields from the catalog (on a hidden 代码表 sheet), column widths,
the header and ID column frozen, and a 说明 sheet: every sheet, its columns and how rows are
recognised again, and the attachment folder convention."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from zctui.data.catalog import Catalog, load_catalog
from zctui.data.forms import FieldSpec
from zctui.data.import_sheets import ImportSheets, load_import_sheets
from zctui.exchange.layout import KEY, YEAR, Column, Layout, layouts

ROWS = 5001  # data validation and text format reach this far down
HEAD = Font(bold=True)
REQUIRED = Font(bold=True, color="C00000")
HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
WIDTHS = {"textarea": 40, "date": 13, "year_month": 11, "year": 9, "int": 9, "decimal": 10}


def _choices(source: str, catalog: Catalog) -> list[str]:
    """The labels a drop-down offers (the importer also takes codes)."""
    if source.startswith("values:"):
        return [i.label for i in catalog.values(source.removeprefix("values:")).items]
    groups = {
        "categories": catalog.categories,
        "series": catalog.series,
        "levels": catalog.levels,
        "methods": catalog.methods,
        "review_modes": catalog.review_modes,
    }
    if source in groups:
        return [o.label for o in groups[source]]
    # 专业 and 职称 depend on the series: every label once; the import checks the pair.
    seen: dict[str, None] = {}
    for s in catalog.series:
        for o in s.specialties if source == "specialties" else s.titles:
            seen.setdefault(o.label, None)
    return list(seen)


def _codes_sheet(ws: Worksheet, catalog: Catalog) -> dict[str, str]:
    """One column per code list; returns the range each source's drop-down uses."""
    sources: dict[str, None] = {}
    for lay in layouts():
        for col in lay.columns:
            if col.spec is not None and col.spec.kind == "select" and col.spec.source:
                sources.setdefault(col.spec.source, None)
    refs: dict[str, str] = {}
    for i, source in enumerate(sources, start=1):
        letter = get_column_letter(i)
        labels = _choices(source, catalog)
        ws.cell(row=1, column=i, value=source).font = HEAD
        for r, label in enumerate(labels, start=2):
            ws.cell(row=r, column=i, value=label)
        refs[source] = f"{quote_sheetname(ws.title)}!${letter}$2:${letter}${len(labels) + 1}"
    ws.sheet_state = "hidden"
    return refs


def _width(col: Column) -> float:
    base = max(8.0, len(col.label) * 2.1 + 2)
    if col.name == KEY:
        return 21.0
    spec = col.spec
    if spec is None:
        return base
    wide = WIDTHS.get(spec.kind, 0)
    if spec.kind == "text" and spec.max_len:
        wide = min(30, max(10, spec.max_len // 3))
    if spec.kind == "select":
        wide = 14
    return max(base, float(wide))


def _note(col: Column, data: ImportSheets) -> str:
    if col.name == KEY:
        return (
            f"{data.key_label}：18位居民身份证号（此列为文本格式，请勿改为数字）。"
            "每行据此对应到人。"
        )
    if col.name == YEAR:
        return f"{data.year_label}：如 2026；不填则用导入时指定的年度。"
    assert col.spec is not None
    return f"{col.spec.help}（{col.spec.rule}）"


def _data_sheet(ws: Worksheet, lay: Layout, data: ImportSheets, refs: dict[str, str]) -> None:
    for i, col in enumerate(lay.columns, start=1):
        cell = ws.cell(row=1, column=i, value=col.label)
        spec: FieldSpec | None = col.spec
        required = col.name in (KEY, *lay.sheet.key) or (spec is not None and spec.required is True)
        cell.font = REQUIRED if required else HEAD
        cell.fill = HEAD_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.comment = Comment(_note(col, data), "zctui", width=300, height=120)
        letter = get_column_letter(i)
        dim = ws.column_dimensions[letter]
        dim.width = _width(col)
        if col.name == KEY or (spec is not None and spec.kind in ("text", "textarea")):
            dim.number_format = "@"  # an ID number typed as a number loses its last digits
        if spec is not None and spec.kind == "select" and spec.source in refs:
            dv = DataValidation(
                type="list", formula1=refs[spec.source], allow_blank=True,
                showErrorMessage=True, errorStyle="warning", errorTitle=spec.label,
                error=f"请从列表中选择{spec.label}（也可以填写代码）",
            )  # fmt: skip
            dv.add(f"{letter}2:{letter}{ROWS}")
            ws.add_data_validation(dv)
        elif col.name == YEAR:
            dv = DataValidation(
                type="whole", operator="between", formula1="2000", formula2="2100",
                allow_blank=True, showErrorMessage=True, error="请填写四位年份，如 2026",
            )  # fmt: skip
            dv.add(f"{letter}2:{letter}{ROWS}")
            ws.add_data_validation(dv)
    ws.freeze_panes = "B2"
    ws.row_dimensions[1].height = 30


def _instructions(ws: Worksheet, data: ImportSheets) -> None:
    rows: list[tuple[str, ...]] = [("河北省职称申报 · 批量导入模板",), ()]
    for line in data.instructions:
        rows.append((line.format(key=data.key_label, year=data.year_label),))
    rows += [(), ("工作表", "内容", "识别同一条记录的字段", "列（红色为必填）")]
    for lay in layouts():
        fields = {f.name: f.label for f in lay.section.fields}
        if lay.is_list:
            key = "、".join(fields[k] for k in lay.sheet.key)
        else:
            key = (
                data.key_label
                + (f" + {data.year_label}" if lay.column(YEAR) else "")
                + "（每人一行）"
            )
        what = f"{lay.section.title}（{lay.section.rule}）"
        rows.append((lay.name, what, key, "、".join(c.label for c in lay.columns)))
    rows += [(), ("附件文件夹",)]
    rows += [(rule,) for rule in data.attachments.rules]
    rows.append(("例：",))
    rows += [(f"    {e}",) for e in data.attachments.examples]
    rows += [(), ("附件项名称", "所在表", "附件项")]
    rows.append(("本人", "基本信息、申报基础材料", ""))
    from zctui.data.forms import load_forms

    for section in load_forms().sections:
        if section.kind != "list" and section.slots:
            rows.append(("", section.title, "、".join(s.label for s in section.slots)))
    for lay in layouts():
        if lay.is_list and lay.section.slots:
            labels = "、".join(s.label for s in lay.section.slots)
            rows.append((f"{lay.sheet.file_prefix}<序号>-", lay.name, labels))
    for r, values in enumerate(rows, start=1):
        for c, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=c, value=value)
            cell.alignment = Alignment(wrap_text=c > 1, vertical="top")
    ws["A1"].font = Font(bold=True, size=14)
    for r, values in enumerate(rows, start=1):
        if values and values[0] in ("工作表", "附件文件夹", "附件项名称"):
            for c in range(1, len(values) + 1):
                ws.cell(row=r, column=c).font = HEAD
    for letter, width in zip("ABCD", (24, 34, 30, 90), strict=True):
        ws.column_dimensions[letter].width = width


def write_template(path: Path) -> Path:
    """Write the import template to `path` (.xlsx); returns the path."""
    data = load_import_sheets()
    catalog = load_catalog()
    wb = Workbook()
    info = wb.active
    assert info is not None
    info.title = data.instructions_sheet
    _instructions(info, data)
    sheets = [(wb.create_sheet(lay.name), lay) for lay in layouts()]
    refs = _codes_sheet(wb.create_sheet(data.codes_sheet), catalog)
    for ws, lay in sheets:
        _data_sheet(ws, lay, data, refs)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
