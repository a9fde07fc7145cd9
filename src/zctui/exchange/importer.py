"""Batch import of applicants from a workbook (XLSX or CSV) into the local workspace.

Two passes, so that no more than a group of people is ever held in memory:
1. Read every sheet row by row (openpyxl read-only), turn each cell into the text the store
   keeps (labels of coded fields become codes, dates become ISO), check it as the form would
   (`domain.fields.field_error`), and stage the good rows in a temporary SQLite file, keyed
   by the person's ID number. A person with any bad cell is marked, never half-imported.
2. For each group of people, read what the workspace already has, work out what is new and
   what changed (list rows are matched by their natural key from data/import_sheets.yaml),
   check their attachment files, and write the group in one transaction through the store,
   so every change has its outbox entry and syncs. Unchanged values write nothing: importing
   the same file twice leaves the outbox as it was.

Blank cells never clear what is stored, a missing column is not touched, and records the
file does not mention are kept: an import only adds and updates.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cache
from pathlib import Path
from typing import Any, Literal

from openpyxl.utils import get_column_letter
from sqlalchemy import Table, select

from zctui.config import blobs_dir_for
from zctui.data.catalog import Catalog, load_catalog
from zctui.data.forms import FieldSpec, SectionSpec
from zctui.data.import_sheets import load_import_sheets
from zctui.domain.fields import derived_values, field_error, normalise, options_for
from zctui.domain.models import TABLES
from zctui.exchange.attachments import NamedFile, files_in, parse_name, person_folders
from zctui.exchange.layout import KEY, SETTINGS_TABLE, YEAR, Column, Layout, layout_of, layouts
from zctui.exchange.reader import ReadError, Sheet, read_sheets
from zctui.store.blobs import BlobStore
from zctui.store.repository import Store
from zctui.store.session import EDITABLE_STATES, FileChecker, FileVerdict

__all__ = ["ImportReport", "Problem", "ReadError", "import_file"]

Progress = Callable[[int, int, str], None]
STATE_LABELS = {"submitted": "已提交", "unit_opened": "单位已查看", "unit_approved": "单位已通过"}
FORMULA = "单元格是公式（{f}）：导入只读取填入的内容，不计算公式；请复制后“选择性粘贴—数值”再导入"


@dataclass
class Problem:
    where: str  # 论文!C12, a sheet, or a file under the attachments folder
    message: str
    person: str | None = None  # the ID number it belongs to, when known
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class ImportReport:
    dry_run: bool = False
    problems: list[Problem] = field(default_factory=list)
    persons: int = 0  # people with rows in the file
    imported: int = 0  # people written (or, in a dry run, who would be)
    new_persons: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)  # ID numbers, in file order
    rows_lost: int = 0  # rows that belong to no one (no or bad ID number, an unreadable sheet)
    records_added: int = 0
    records_updated: int = 0
    files_added: int = 0
    files_refused: int = 0

    @property
    def ok(self) -> bool:
        """Nothing in the file was left out."""
        return not self.skipped and not self.rows_lost and not self.files_refused

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def lines(self) -> list[str]:
        out = [("警告 " if p.severity == "warning" else "") + str(p) for p in self.problems]
        verb = "将导入" if self.dry_run else "已导入"
        head = "试导入（未写入任何数据）：" if self.dry_run else ""
        out.append(
            f"{head}文件中共 {self.persons} 人：{verb} {self.imported} 人"
            f"（新增 {self.new_persons} 人，无变化 {self.unchanged} 人），"
            f"跳过 {len(self.skipped)} 人；新增记录 {self.records_added} 条，"
            f"更新记录 {self.records_updated} 条；附件 {self.files_added} 个"
            + (f"，不能上传的附件 {self.files_refused} 个" if self.files_refused else "")
            + (f"；无法对应到人员的行 {self.rows_lost} 行" if self.rows_lost else "")
        )
        if self.skipped:
            shown = "、".join(self.skipped[:20]) + (" 等" if len(self.skipped) > 20 else "")
            out.append(f"未导入（有错误，整人跳过，改正后重新导入即可）：{shown}")
        return out


# ------------------------------------------------------------------------------ cells
def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold()


def _header(value: Any) -> str:
    text = _fold(str(value)) if value is not None else ""
    for tail in ("(必填)", "*"):
        text = text.removesuffix(tail).strip()
    return text


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any, spec: FieldSpec | None) -> str:
    """A cell as the text the store keeps for `spec` (the value is not blank)."""
    kind = spec.kind if spec is not None else "text"
    if isinstance(value, datetime | date):
        d = value.date() if isinstance(value, datetime) else value
        if kind == "year_month":
            return f"{d.year:04d}-{d.month:02d}"
        if kind == "year":
            return f"{d.year:04d}"
        return d.isoformat()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else format(value, ".15g")
    if isinstance(value, time):
        return value.isoformat()
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").strip()
    if kind in ("date", "year_month"):
        norm = normalise(spec, text) if spec is not None else text
        return str(norm)
    return text


def person_key(value: Any) -> str:
    return "".join(unicodedata.normalize("NFKC", str(value)).split()).upper()


@cache
def _labels(source: str, series: str | None) -> dict[str, str]:
    """Folded label or code → code, for one select source (within a series where it depends
    on one)."""
    catalog = load_catalog()
    spec_name = {"specialties": "specialty", "titles": "title"}.get(source, "x")
    probe = FieldSpec(name=spec_name, label="x", kind="select", source=source, rule="-", help="-")
    record = {"series": series}
    options = catalog.series if source == "series" else options_for(probe, record, catalog)
    out: dict[str, str] = {}
    for o in options:
        out.setdefault(_fold(o.label), o.code)
    for o in options:
        out[_fold(o.code)] = o.code
    return out


def _code(spec: FieldSpec, text: str, record: dict[str, Any]) -> str:
    """A select cell's label (or code) as the code the store keeps; unknown text stays as it
    is, and `field_error` says what is wrong with it."""
    source = spec.source or ""
    series = None
    if source in ("specialties", "titles"):
        sibling = spec.name.replace("specialty", "series").replace("title", "series")
        series = record.get(sibling)
        if not isinstance(series, str):
            return text
    return _labels(source, series).get(_fold(text), text)


def _context_free(spec: FieldSpec) -> bool:
    """Whether a value's check ignores the rest of its row (no cascade, no conditional check)."""
    cascade = spec.kind == "select" and spec.source in ("series", "specialties", "titles")
    return not cascade and (spec.check is None or spec.check_when is True)


# ------------------------------------------------------------------------------ staging
class _Stage:
    """The good rows of pass 1, on disk (a temporary SQLite file), by person in file order."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="zctui-import-")
        self.db = sqlite3.connect(Path(self._dir.name) / "stage.sqlite3")
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("CREATE TABLE row (person INTEGER, sheet INTEGER, line INTEGER, data TEXT)")
        self._buffer: list[tuple[int, int, int, str]] = []

    def add(self, person: int, sheet: int, line: int, values: dict[str, str]) -> None:
        self._buffer.append((person, sheet, line, json.dumps(values, ensure_ascii=False)))
        if len(self._buffer) >= 5000:
            self.flush()

    def flush(self) -> None:
        self.db.executemany("INSERT INTO row VALUES (?, ?, ?, ?)", self._buffer)
        self._buffer.clear()

    def finish(self) -> None:
        self.flush()
        self.db.execute("CREATE INDEX row_person ON row (person, sheet, line)")

    def rows(self, lo: int, hi: int) -> Iterator[tuple[int, int, int, dict[str, str]]]:
        q = "SELECT * FROM row WHERE person >= ? AND person < ? ORDER BY person, sheet, line"
        for person, sheet, line, data in self.db.execute(q, (lo, hi)):
            yield person, sheet, line, json.loads(data)

    def close(self) -> None:
        self.db.close()
        self._dir.cleanup()


class _Where:
    """`论文!C12` for a cell of one row, made only when a message needs it."""

    __slots__ = ("line", "sheet")

    def __init__(self, sheet: str, line: int) -> None:
        self.sheet, self.line = sheet, line

    def __getitem__(self, column: int) -> str:
        return f"{self.sheet}!{_letter(column)}{self.line}"


@cache
def _letter(column: int) -> str:
    return get_column_letter(column + 1)


@dataclass
class _Person:
    key: str
    order: int
    where: str  # the first cell that names this person
    bad: bool = False
    on_basic: bool = False


# ------------------------------------------------------------------------------ plans
@dataclass
class _Plan:
    """What one person's import writes."""

    key: str
    inserts: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    updates: list[tuple[str, uuid.UUID, str, str]] = field(default_factory=list)
    deletes: list[tuple[str, uuid.UUID]] = field(default_factory=list)
    new_person: bool = False
    records_added: int = 0
    records_updated: int = 0
    files_added: int = 0

    @property
    def empty(self) -> bool:
        return not self.inserts and not self.updates and not self.deletes


WRITE_ORDER = ("person", "application")  # then sections, then attachments (foreign keys)


def _t(table: str) -> Table:
    t: Table = TABLES[table].__table__  # type: ignore[attr-defined]
    return t


class Importer:
    def __init__(
        self,
        store: Store,
        *,
        attachments: Path | None = None,
        dry_run: bool = False,
        year: int | None = None,
        checker_factory: Callable[[], FileChecker] | None = None,
        progress: Progress | None = None,
        group_size: int = 500,
        unit: tuple[str, str] | None = None,
    ) -> None:
        self.store = store
        self.unit = unit  # (单位, 市) for new applications: R2.1 comes from the account
        self.catalog: Catalog = load_catalog()
        self.sheets = load_import_sheets()
        self.attachments = attachments
        self.dry_run = dry_run
        self.year = year or date.today().year
        self.checker_factory = checker_factory
        self.checker: FileChecker | None = None
        self.progress = progress or (lambda _d, _t, _l: None)
        self.group_size = group_size
        self.report = ImportReport(dry_run=dry_run)
        self.people: dict[str, _Person] = {}
        self.blobs = BlobStore(blobs_dir_for(store.path))
        self._layouts: list[Layout] = []  # sheet index in the stage → layout
        self._verdicts: dict[tuple[int, str], str | None] = {}
        self._empty: dict[str, dict[str, Any]] = {}  # by section: a row with no values
        self._select_fields: dict[str, list[FieldSpec]] = {}
        self._free: dict[int, bool] = {}  # by id(spec): specs live as long as the forms

    # ---------------------------------------------------------------- reporting
    def _problem(
        self, where: str, message: str, person: _Person | None = None, warning: bool = False
    ) -> None:
        self.report.problems.append(
            Problem(
                where, message, person.key if person else None, "warning" if warning else "error"
            )
        )
        if person is not None and not warning:
            person.bad = True

    # ---------------------------------------------------------------- pass 1
    def read(self, path: Path) -> None:
        stem = path.stem.strip()
        csv_sheet = stem if layout_of(stem) else layouts()[0].name
        skip = {self.sheets.instructions_sheet, self.sheets.codes_sheet}
        seen: set[str] = set()
        for sheet in read_sheets(path, csv_sheet):
            if sheet.name in skip:
                continue
            lay = layout_of(sheet.name)
            if lay is None:
                known = "、".join(x.name for x in layouts())
                self._problem(
                    sheet.name, f"未知的工作表，已忽略（可导入的表：{known}）", warning=True
                )
                continue
            if lay.name in seen:
                self._problem(lay.name, "工作表重复，已忽略第二张")
                continue
            seen.add(lay.name)
            self._layouts.append(lay)
            self._read_sheet(len(self._layouts) - 1, lay, sheet)

    def _read_sheet(self, index: int, lay: Layout, sheet: Sheet) -> None:
        rows = sheet.rows()
        header = next(rows, None)
        if header is None or all(_blank(v) for v in header[1]):
            self._problem(
                f"{lay.name}!A1", "工作表是空的（第 1 行没有表头），本表未导入", warning=True
            )
            return
        wanted: dict[str, Column] = {}
        for col in lay.columns:
            wanted[_header(col.label)] = col
            if col.spec is not None:
                wanted.setdefault(_header(col.spec.name), col)
        colmap: list[tuple[int, Column]] = []
        found: set[str] = set()
        for i, value in enumerate(header[1]):
            if _blank(value):
                continue
            found_col = wanted.get(_header(value))
            cell = f"{lay.name}!{get_column_letter(i + 1)}1"
            if found_col is None:
                self._problem(cell, f"未知的列“{value}”，已忽略", warning=True)
            elif found_col.name in found:
                self._problem(cell, f"列“{found_col.label}”重复，已忽略这一列", warning=True)
            else:
                found.add(found_col.name)
                colmap.append((i, found_col))
        colmap.sort(key=lambda ic: ic[1].name != KEY)  # the ID-number column first
        missing = [c for c in lay.columns if c.name not in found]
        if any(c.name == KEY for c in missing):
            self._problem(
                f"{lay.name}!A1",
                f"缺少“{self.sheets.key_label}”列：本表的行无法对应到人员，本表未导入",
            )
            self.report.rows_lost += sum(1 for _ in rows)
            return
        key_missing = [c for c in missing if c.name in lay.sheet.key]
        if key_missing:
            names = "、".join(f"“{c.label}”" for c in key_missing)
            self._problem(
                f"{lay.name}!A1",
                f"缺少列 {names}（用来识别每条记录）：本表中的人员都不导入，请补上这些列",
            )
        other = [c for c in missing if c.name not in lay.sheet.key]
        if other:
            names = "、".join(f"“{c.label}”" for c in other)
            self._problem(f"{lay.name}!A1", f"没有列 {names}：这些内容不导入", warning=True)
        single_seen: dict[str, int] = {}
        list_seen: dict[tuple[str, tuple[Any, ...]], int] = {}
        total = sheet.size or 0
        for line, values, formulas in rows:
            if line % 1000 == 0:
                self.progress(line, max(total, line), f"读取“{lay.name}”")
            self._read_row(
                index, lay, colmap, line, values, formulas, bool(key_missing), single_seen,
                list_seen,
            )  # fmt: skip

    def _read_row(
        self,
        index: int,
        lay: Layout,
        colmap: list[tuple[int, Column]],
        line: int,
        values: tuple[Any, ...],
        formulas: tuple[int, ...],
        key_missing: bool,
        single_seen: dict[str, int],
        list_seen: dict[tuple[str, tuple[Any, ...]], int],
    ) -> None:
        cells = [(i, col, values[i] if i < len(values) else None) for i, col in colmap]
        if all(_blank(v) for _, _, v in cells) and not formulas:
            return  # an empty line
        where = _Where(lay.name, line)
        key_i, _, key_value = cells[0]  # colmap puts the ID-number column first
        if key_i in formulas:
            self._problem(where[key_i], FORMULA.format(f=key_value) + "；这一行未导入")
            self.report.rows_lost += 1
            return
        if _blank(key_value):
            self._problem(
                where[key_i], f"缺少{self.sheets.key_label}：这一行无法对应到人员，未导入"
            )
            self.report.rows_lost += 1
            return
        if isinstance(key_value, int | float):
            self._problem(
                where[key_i],
                f"{self.sheets.key_label}被 Excel 存成了数字（{key_value}），只保留 15 位有效数字，"
                "后几位可能已丢失：请把该列设为“文本”格式后重新填写，这一行未导入",
            )
            self.report.rows_lost += 1
            return
        key = person_key(key_value)
        person = self.people.get(key)
        if person is None:
            person = self.people[key] = _Person(key, len(self.people), where[key_i])
        if key_missing:
            person.bad = True
            return
        if not lay.is_list:
            earlier = single_seen.get(key)
            if earlier is not None:
                self._problem(
                    where[key_i],
                    f"与第 {earlier} 行是同一人（{key}）：每人在“{lay.name}”表中只能有一行，"
                    "请合并成一行",
                    person,
                )
                return
            single_seen[key] = line
        if lay.table == "basic_info":
            person.on_basic = True

        section = lay.section
        record = self._blank_record(section)
        stored: dict[str, str] = {}
        bad = False
        col_at: dict[str, int] = {}
        for i, col, value in cells:
            col_at[col.name] = i
            if i in formulas:
                self._problem(where[i], FORMULA.format(f=value), person)
                bad = True
                continue
            if col.name == KEY:
                if col.spec is not None:  # 基本信息: the key is also the 证件号码 field
                    record[col.spec.name] = key
                continue
            if _blank(value):
                continue
            if col.name == YEAR:
                year = _text(value, None)
                if not (year.isdigit() and 2000 <= int(year) <= 2100):
                    self._problem(where[i], f"{col.label}“{year}”不是有效的年份，例如 2026", person)
                    bad = True
                else:
                    stored[YEAR] = year
                continue
            record[col.name] = _text(value, col.spec)
        for f in self._selects(section):  # in field order: a series before its specialty
            text = record[f.name]
            if isinstance(text, str):
                record[f.name] = _code(f, text, record)
        if lay.table == "basic_info":
            id_spec = section.field("id_number")
            if id_spec is not None:
                for target, derived in derived_values(id_spec, key).items():
                    if record.get(target) is None:
                        record[target] = derived
        for i, col, _value in cells:
            spec = col.spec
            if spec is None or i in formulas:
                continue
            text = record.get(spec.name)
            if text is None:
                continue
            msg = self._field_error(spec, text, record)
            if msg is not None:
                self._problem(where[i], msg, person)
                bad = True
        if bad:
            return
        stored |= {k: v for k, v in record.items() if v is not None}
        if lay.is_list:
            natural = []
            for name in lay.sheet.key:
                key_spec = section.field(name)
                assert key_spec is not None
                value = normalise(key_spec, record.get(name))
                if value is None:
                    self._problem(
                        where[col_at[name]] if name in col_at else f"{lay.name}!{line}",
                        f"“{key_spec.label}”不能为空：它用来识别这条记录（再次导入时据此更新）",
                        person,
                    )
                    return
                natural.append(value)
            k = (key, tuple(natural))
            earlier = list_seen.get(k)
            if earlier is not None:
                labels = "、".join(f.label for f in section.fields if f.name in lay.sheet.key)
                self._problem(
                    where[key_i],
                    f"与第 {earlier} 行是同一条记录（{labels}相同）：请删去重复的一行或改正",
                    person,
                )
                return
            list_seen[k] = line
        self.stage.add(person.order, index, line, stored)

    def _blank_record(self, section: SectionSpec) -> dict[str, Any]:
        empty = self._empty.get(section.code)
        if empty is None:
            empty = self._empty[section.code] = {f.name: None for f in section.fields}
        return empty.copy()

    def _selects(self, section: SectionSpec) -> list[FieldSpec]:
        found = self._select_fields.get(section.code)
        if found is None:
            found = [f for f in section.fields if f.kind == "select"]
            self._select_fields[section.code] = found
        return found

    def _field_error(self, spec: FieldSpec, text: str, record: dict[str, Any]) -> str | None:
        """`field_error`, remembered for values whose verdict does not depend on the rest of
        the row (most: the same 合格 or 2022-05 recurs thousands of times in a big sheet)."""
        free = self._free.get(id(spec))
        if free is None:
            free = self._free[id(spec)] = _context_free(spec)
        if not free:
            return field_error(spec, text, record, self.catalog)
        k = (id(spec), text)
        if k in self._verdicts:
            return self._verdicts[k]
        if len(self._verdicts) > 100_000:
            self._verdicts.clear()
        msg = self._verdicts[k] = field_error(spec, text, record, self.catalog)
        return msg

    # ---------------------------------------------------------------- pass 2
    def apply(self) -> None:
        self.stage.finish()
        ordered = sorted(self.people.values(), key=lambda p: p.order)
        self.report.persons = len(ordered)
        if self.attachments is not None:
            self.folders = person_folders(self.attachments)
            if self.checker_factory is not None and self.folders:
                self.checker = self.checker_factory()
        total = len(ordered)
        for lo in range(0, total, self.group_size):
            group = ordered[lo : lo + self.group_size]
            self.progress(lo, total, f"导入第 {lo + 1}–{lo + len(group)} 人")
            self._apply_group(group)
        self.progress(total, total, "完成")

    def _apply_group(self, group: Sequence[_Person]) -> None:
        staged: dict[int, list[tuple[int, int, dict[str, str]]]] = defaultdict(list)
        for person, sheet, line, data in self.stage.rows(group[0].order, group[-1].order + 1):
            staged[person].append((sheet, line, data))
        good = [p for p in group if not p.bad]
        for p in group:
            if p.bad:
                self.report.skipped.append(p.key)
        if not good:
            return
        with self.store.engine.connect() as conn:
            t = _t("person")
            persons = {
                r.id_number: r._mapping
                for r in conn.execute(
                    select(t).where(
                        t.c.id_number.in_([p.key for p in good]), t.c.deleted.is_(False)
                    )
                )
            }
            a = _t("application")
            apps: dict[tuple[Any, int], Any] = {}
            if persons:
                q = select(a).where(
                    a.c.person_id.in_([r["id"] for r in persons.values()]), a.c.deleted.is_(False)
                )
                apps = {(r.person_id, r.year): r._mapping for r in conn.execute(q)}
            app_ids = [r["id"] for r in apps.values()]
            tables = {self._layouts[s].table for rows in staged.values() for s, _, _ in rows}
            tables.discard(SETTINGS_TABLE)
            if self.attachments is not None:  # files go to records, and to the 基本信息 row
                tables |= {"attachment", "basic_info"}
            existing: dict[str, dict[Any, list[Any]]] = {}
            for table in tables:
                tt = _t(table)
                found: dict[Any, list[Any]] = defaultdict(list)
                if app_ids:
                    q = select(tt).where(tt.c.application_id.in_(app_ids), tt.c.deleted.is_(False))
                    for r in conn.execute(q):
                        found[r.application_id].append(r._mapping)
                existing[table] = found
        plans: list[_Plan] = []
        for p in good:
            plan = self._plan(p, staged.get(p.order, []), persons.get(p.key), apps, existing)
            if plan is None:
                self.report.skipped.append(p.key)
                continue
            plans.append(plan)
        before = len(self.report.skipped)
        if not self.dry_run:
            self._write(plans)
        failed = set(self.report.skipped[before:])  # a write that failed
        for plan in plans:
            if plan.key in failed:
                continue
            self.report.imported += 1
            self.report.new_persons += plan.new_person
            self.report.unchanged += plan.empty
            self.report.records_added += plan.records_added
            self.report.records_updated += plan.records_updated
            self.report.files_added += plan.files_added

    def _plan(
        self,
        p: _Person,
        rows: list[tuple[int, int, dict[str, str]]],
        person: Any,
        apps: dict[tuple[Any, int], Any],
        existing: dict[str, dict[Any, list[Any]]],
    ) -> _Plan | None:
        plan = _Plan(p.key)
        by_table: dict[str, list[tuple[Layout, int, dict[str, str]]]] = defaultdict(list)
        for sheet, line, data in rows:
            lay = self._layouts[sheet]
            by_table[lay.table].append((lay, line, data))
        basic = by_table.get("basic_info", [])
        name = basic[0][2].get("name") if basic else None
        if person is None:
            if not p.on_basic:
                self._problem(
                    p.where,
                    f"工作区中没有 {p.key} 这个人，“{layouts()[0].name}”表中也没有：请先在"
                    f"“{layouts()[0].name}”表中填写此人",
                )
                return None
            person_id = uuid.uuid4()
            plan.inserts["person"].append({"id": person_id, "id_number": p.key, "name": name or ""})
            plan.new_person = True
        else:
            person_id = person["id"]
            if name and name != person["name"]:
                plan.updates.append(("person", person_id, "name", name))
        settings = by_table.get(SETTINGS_TABLE, [])
        year = int(settings[0][2].get(YEAR, self.year)) if settings else self.year
        app = apps.get((person_id, year))
        values = (
            {k: v for k, v in settings[0][2].items() if k not in (KEY, YEAR)} if settings else {}
        )
        if app is None:
            app_id = uuid.uuid4()
            plan.inserts["application"].append(
                {"id": app_id, "person_id": person_id, "year": year, "state": "draft",
                 "catalog_version": self.catalog.version, **values,
                 **({"unit_name": self.unit[0], "city": self.unit[1]} if self.unit else {})}
            )  # fmt: skip
            plan.records_added += 1
        else:
            app_id = app["id"]
            if settings:
                self._diff(plan, SETTINGS_TABLE, app, values, settings[0][0].section)
        record_ids: dict[tuple[str, int], uuid.UUID] = {}
        own_ids: dict[str, uuid.UUID] = {"application": app_id}
        for table in ("basic_info",):  # a single row the file does not mention still takes files
            have_single = existing.get(table, {}).get(app_id, []) if app is not None else []
            if have_single:
                own_ids[table] = have_single[0]["id"]
        for table, items in by_table.items():
            if table == SETTINGS_TABLE:
                continue
            have = existing.get(table, {}).get(app_id, []) if app is not None else []
            lay0 = items[0][0]
            if not lay0.is_list:
                data = {k: v for k, v in items[0][2].items() if k != KEY}
                if have:
                    own_ids[table] = have[0]["id"]
                    self._diff(plan, table, have[0], data, lay0.section)
                else:
                    rid = uuid.uuid4()
                    own_ids[table] = rid
                    plan.inserts[table].append({"id": rid, "application_id": app_id, **data})
                    plan.records_added += 1
                continue
            section = lay0.section
            key_specs = [s for s in (section.field(n) for n in lay0.sheet.key) if s is not None]

            def natural(row: Any, specs: list[FieldSpec] = key_specs) -> tuple[Any, ...]:
                return tuple(normalise(s, row.get(s.name)) for s in specs)

            by_key: dict[tuple[Any, ...], Any] = {}
            for row in sorted(have, key=lambda r: r["position"]):
                by_key.setdefault(natural(row), row)
            position = max((r["position"] for r in have), default=0)
            for n, (lay, _line, data) in enumerate(items, start=1):
                values = {k: v for k, v in data.items() if k != KEY}
                match = by_key.get(natural(values))
                if match is not None:
                    record_ids[(lay.name, n)] = match["id"]
                    self._diff(plan, table, match, values, section)
                    continue
                position += 1
                rid = uuid.uuid4()
                record_ids[(lay.name, n)] = rid
                plan.inserts[table].append(
                    {"id": rid, "application_id": app_id, "position": position, **values}
                )
                plan.records_added += 1
        if self.attachments is not None:
            folder = self.folders.get(p.key)
            if folder is not None:
                have_files = existing.get("attachment", {}).get(app_id, [])
                self._plan_files(plan, folder, app_id, own_ids, record_ids, have_files)
        if app is not None and app["state"] not in EDITABLE_STATES and not self._only_person(plan):
            state = STATE_LABELS.get(app["state"], app["state"])
            self._problem(
                p.where,
                f"{p.key} 的 {year} 年申报已交单位审核（{state}），不能再通过导入修改；"
                "如需修改，请先退回申报",
            )
            return None
        return plan

    @staticmethod
    def _only_person(plan: _Plan) -> bool:
        return not plan.inserts and all(u[0] == "person" for u in plan.updates) and not plan.deletes

    def _diff(
        self, plan: _Plan, table: str, row: Any, values: dict[str, str], section: SectionSpec
    ) -> None:
        changed = False
        for name, value in values.items():
            spec = section.field(name)
            if spec is None or name not in row:
                continue
            if normalise(spec, row[name]) != normalise(spec, value):
                plan.updates.append((table, row["id"], name, value))
                changed = True
        plan.records_updated += changed

    # ---------------------------------------------------------------- attachments
    def _plan_files(
        self,
        plan: _Plan,
        folder: Path,
        app_id: uuid.UUID,
        own_ids: dict[str, uuid.UUID],
        record_ids: dict[tuple[str, int], uuid.UUID],
        have: list[Any],
    ) -> None:
        root = self.attachments
        assert root is not None
        named: list[tuple[NamedFile, uuid.UUID]] = []
        for path in files_in(folder):
            where = str(path.relative_to(root.parent)) if root.parent in path.parents else str(path)
            parsed = parse_name(path)
            if isinstance(parsed, str):
                self._file_refused(where, parsed, plan.key)
                continue
            if parsed.layout is not None:
                owner = record_ids.get((parsed.layout.name, parsed.index))
                if owner is None:
                    self._file_refused(
                        where,
                        f"此人在“{parsed.layout.name}”表中没有第 {parsed.index} 行："
                        "文件无法对应到记录",
                        plan.key,
                    )
                    continue
            else:
                own = own_ids.get(parsed.section.table)
                if own is None:
                    self._file_refused(
                        where,
                        f"此人没有“{parsed.section.title}”的数据，无法放入“{parsed.slot.label}”："
                        f"请在“{layouts()[0].name}”表中填写此人",
                        plan.key,
                    )
                    continue
                owner = own
            named.append((parsed, owner))
        if not named:
            return
        if self.checker is None:
            raise RuntimeError("导入附件需要文件检查程序（checker_factory）")
        checker = self.checker
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="zctui-import-check") as pool:
            verdicts = list(pool.map(lambda nf: checker.check(nf[0].path, nf[0].slot.kind), named))
        by_name = {(r["owner_id"], r["slot"], r["original_name"]): r for r in have}
        counts: dict[tuple[Any, str], int] = defaultdict(int)
        for r in have:
            counts[(r["owner_id"], r["slot"])] += 1
        for (nf, owner), verdict in zip(named, verdicts, strict=True):
            where = (
                str(nf.path.relative_to(root.parent))
                if root.parent in nf.path.parents
                else str(nf.path)
            )
            if not verdict.accepted:
                self._file_refused(where, verdict.message, plan.key)
                continue
            old = by_name.get((owner, nf.slot.code, nf.path.name))
            if old is not None and old["sha256"] == verdict.sha256:
                continue  # already attached
            digest = verdict.sha256 or ""
            if not self.dry_run:
                stored, refusal = self._store_blob(nf, verdict)
                if stored is None:
                    self._file_refused(where, refusal, plan.key)
                    continue
                digest = stored
            if old is not None:  # the same file name with new contents: it replaces the old one
                plan.deletes.append(("attachment", old["id"]))
                counts[(owner, nf.slot.code)] -= 1
            counts[(owner, nf.slot.code)] += 1
            plan.inserts["attachment"].append(
                {"id": uuid.uuid4(), "application_id": app_id, "owner_table": nf.section.table,
                 "owner_id": owner, "slot": nf.slot.code, "sha256": digest,
                 "original_name": nf.path.name, "size": verdict.size, "pages": verdict.pages,
                 "media_type": verdict.media_type, "position": counts[(owner, nf.slot.code)]}
            )  # fmt: skip
            plan.files_added += 1

    def _store_blob(self, nf: NamedFile, verdict: FileVerdict) -> tuple[str | None, str]:
        """Copy an accepted file into the blob store: (its SHA-256, ""), or (None, why) when
        the file changed after its check and the bytes stored fail it."""
        digest = self.blobs.put_file(nf.path)
        if digest != verdict.sha256:
            assert self.checker is not None
            again = self.checker.check(self.blobs.path(digest), nf.slot.kind)
            if not again.accepted:
                return None, again.message
        return digest, ""

    def _file_refused(self, where: str, message: str, key: str) -> None:
        self.report.problems.append(Problem(where, message, key))
        self.report.files_refused += 1

    # ---------------------------------------------------------------- writing
    def _write(self, plans: list[_Plan]) -> None:
        """The group in one transaction (each table's new rows in one statement); if that
        fails, each person on their own, so one bad person does not hold back the rest."""
        try:
            with self.store.batch():
                self._write_plans(plans)
            return
        except Exception:
            if len(plans) == 1:
                raise
        for plan in plans:
            try:
                with self.store.batch():
                    self._write_plans([plan])
            except Exception as exc:
                self._problem(plan.key, f"写入失败（{exc}），此人未导入：请稍后重试")
                self.report.skipped.append(plan.key)

    def _write_plans(self, plans: list[_Plan]) -> None:
        inserts: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for plan in plans:
            for table, rows in plan.inserts.items():
                inserts[table] += rows
        order = sorted(
            inserts,
            key=lambda t: WRITE_ORDER.index(t) if t in WRITE_ORDER else 2 + (t == "attachment"),
        )
        for table in order:
            self.store.insert_many(table, inserts[table])
        for plan in plans:
            for table, row_id, name, value in plan.updates:
                self.store.set_field(table, row_id, name, value)
            for table, row_id in plan.deletes:
                self.store.delete(table, row_id)

    # ---------------------------------------------------------------- run
    def run(self, path: Path) -> ImportReport:
        self.stage = _Stage()
        try:
            self.read(path)
            self.apply()
        finally:
            self.stage.close()
            if self.checker is not None:
                self.checker.close()
        return self.report


def import_file(
    store: Store,
    path: Path,
    *,
    attachments: Path | None = None,
    dry_run: bool = False,
    year: int | None = None,
    checker_factory: Callable[[], FileChecker] | None = None,
    progress: Progress | None = None,
    group_size: int = 500,
    unit: tuple[str, str] | None = None,
) -> ImportReport:
    """Import a workbook (XLSX, or one sheet as CSV) into the workspace; see the module's
    docstring. `unit` = (单位, 市) fills R2.1 on the applications it creates (the unit
    admin's own unit). Raises ReadError when the file cannot be read at all."""
    importer = Importer(
        store, attachments=attachments, dry_run=dry_run, year=year,
        checker_factory=checker_factory, progress=progress, group_size=group_size, unit=unit,
    )  # fmt: skip
    return importer.run(path)
