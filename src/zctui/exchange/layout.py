"""The columns of each import sheet, shared by the template and the importer: the person's
ID number first (the key), the year on 申报设置, then the section's fields by their labels."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from zctui.data.forms import FieldSpec, SectionSpec, load_forms
from zctui.data.import_sheets import ImportSheets, SheetSpec, load_import_sheets

KEY = "__key__"  # the ID-number column
YEAR = "__year__"  # 申报年度, on the settings sheet
SETTINGS_TABLE = "application"
BASIC_TABLE = "basic_info"


@dataclass(frozen=True)
class Column:
    name: str  # a field name, or KEY / YEAR
    label: str
    spec: FieldSpec | None  # None for the year column


@dataclass(frozen=True)
class Layout:
    sheet: SheetSpec
    section: SectionSpec
    columns: tuple[Column, ...]

    @property
    def name(self) -> str:
        return self.sheet.sheet

    @property
    def is_list(self) -> bool:
        return self.section.kind == "list"

    @property
    def table(self) -> str:
        return self.section.table

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


def _columns(data: ImportSheets, section: SectionSpec) -> tuple[Column, ...]:
    # On 基本信息 the ID-number field is the key column itself.
    id_spec = section.field("id_number") if section.table == BASIC_TABLE else None
    cols = [Column(KEY, data.key_label, id_spec)]
    if section.table == SETTINGS_TABLE:
        cols.append(Column(YEAR, data.year_label, None))
    for f in section.fields:
        if f.readonly or (id_spec is not None and f.name == "id_number"):
            continue
        cols.append(Column(f.name, f.label, f))
    return tuple(cols)


@cache
def layouts() -> tuple[Layout, ...]:
    data = load_import_sheets()
    forms = load_forms()
    out = []
    for sheet in data.sheets:
        section = forms.section(sheet.section)
        out.append(Layout(sheet, section, _columns(data, section)))
    return tuple(out)


def layout_of(sheet_name: str) -> Layout | None:
    return next((lay for lay in layouts() if lay.name == sheet_name), None)
