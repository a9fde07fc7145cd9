"""The batch-import workbook as data: which sheet holds which section, how list rows are
recognised again (their natural key), and how attachment files are named.

`import_sheets.yaml` names the sheets; the columns are the sections' fields in forms.yaml,
headed by their Chinese labels. Validated on load against forms.yaml: every section, key
field and slot must exist, sheet names must be ones Excel accepts.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from pydantic import Field

from zctui.data.base import DATA_DIR, CatalogError, Frozen, validate_file
from zctui.data.forms import Forms, SectionSpec, load_forms

FILE = "import_sheets.yaml"
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


class SheetSpec(Frozen):
    section: str
    sheet: str
    key: tuple[str, ...] = ()
    prefix: str = ""

    @property
    def file_prefix(self) -> str:
        return self.prefix or self.sheet


class AttachmentNaming(Frozen):
    rules: tuple[str, ...] = Field(min_length=1)  # the convention in words, for 说明 and README
    record_separator: str = Field(min_length=1)
    copy_separator: str = Field(min_length=1)
    examples: tuple[str, ...] = ()


class ImportSheets(Frozen):
    version: int
    key_label: str
    year_label: str
    instructions_sheet: str
    codes_sheet: str
    attachments: AttachmentNaming
    sheets: tuple[SheetSpec, ...]
    instructions: tuple[str, ...]

    def by_sheet(self, name: str) -> SheetSpec | None:
        return next((s for s in self.sheets if s.sheet == name), None)


def _check(data: ImportSheets, forms: Forms) -> None:
    seen: set[str] = {data.instructions_sheet, data.codes_sheet}
    prefixes: set[str] = set()
    for i, sheet in enumerate(data.sheets):
        key = f"sheets[{i}]"
        try:
            section: SectionSpec = forms.section(sheet.section)
        except KeyError:
            msg = f"forms.yaml 中没有栏目 {sheet.section}"
            raise CatalogError(f"{FILE}: {key}.section: {msg}") from None
        name = sheet.sheet
        if not name.strip() or len(name) > 31 or _BAD_SHEET_CHARS.search(name):
            raise CatalogError(
                f"{FILE}: {key}.sheet: 工作表名 {name!r} 须为 1–31 字，且不含 []:*?/\\"
            )
        if name in seen:
            raise CatalogError(f"{FILE}: {key}.sheet: 重复的工作表名 {name}")
        seen.add(name)
        if sheet.file_prefix in prefixes or re.search(r"\d", sheet.file_prefix):
            raise CatalogError(f"{FILE}: {key}.prefix: 前缀 {sheet.file_prefix} 重复或含数字")
        prefixes.add(sheet.file_prefix)
        if section.kind == "list" and not sheet.key:
            raise CatalogError(f"{FILE}: {key}.key: 列表类栏目 {section.code} 须给出识别字段")
        if section.kind != "list" and sheet.key:
            raise CatalogError(f"{FILE}: {key}.key: 单行栏目 {section.code} 以身份证号识别")
        for j, field in enumerate(sheet.key):
            if section.field(field) is None:
                raise CatalogError(f"{FILE}: {key}.key[{j}]: 栏目 {section.code} 没有字段 {field}")
        labels = [f.label for f in section.fields] + [data.key_label, data.year_label]
        if len(labels) != len(set(labels)):
            raise CatalogError(f"{FILE}: {key}: 栏目 {section.code} 的列名重复")


def load_import_sheets(directory: Path | None = None, forms: Forms | None = None) -> ImportSheets:
    if directory is None and forms is None:
        return _default()
    data = validate_file(ImportSheets, FILE, directory or DATA_DIR)
    _check(data, forms or load_forms(directory))
    return data


@cache
def _default() -> ImportSheets:
    data = validate_file(ImportSheets, FILE, DATA_DIR)
    _check(data, load_forms())
    return data
