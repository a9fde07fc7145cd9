"""One section entered for many people at once (the unit's grid, issue 7): a row per
application, a column per year of a list section (annual appraisals: the cell is that year's
grade, R8.1) or per field of a single-row section.

Every cell is validated by the field's spec (`domain.fields`) as the forms do. A valid value
is put in memory at once and saved on the writer thread (row + outbox entry, so it syncs);
a value that is not valid yet is kept as a draft, shown, and not saved until it is fixed.
Applications that have left the applicant's hands (R12.2) refuse edits and say why.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, SQLModel, col, select

from zctui.data.base import Labelled
from zctui.data.catalog import Catalog, load_catalog
from zctui.data.forms import FieldSpec, Forms, SectionSpec, holds, load_forms
from zctui.domain.aggregate import ApplicationData, assemble
from zctui.domain.checklist import KEY_COLUMNS
from zctui.domain.facts import application_facts
from zctui.domain.fields import blank, field_error, label_of, normalise, options_for
from zctui.domain.masking import mask_id
from zctui.domain.models import (
    LIST_TABLES,
    SINGLE_TABLES,
    Application,
    Attachment,
    Person,
)
from zctui.store.repository import Store, StoreError
from zctui.store.session import EDITABLE_STATES
from zctui.store.writer import Writer

_CHUNK = 500  # ids per IN (…): well under SQLite's limit on bound parameters


def load_many(
    store: Store,
    application_ids: Sequence[uuid.UUID],
    tables: Iterable[str] | None = None,
    *,
    missing_ok: bool = False,
) -> list[ApplicationData]:
    """Several applications in the order asked, with the rows of `tables` (default: every
    section) and their files: one query per table, not per application, read by the ORM
    (validating each row through pydantic costs ~0.5 ms a row: 300 people took seconds)."""
    ids = list(dict.fromkeys(application_ids))
    wanted = set(tables) if tables is not None else {*SINGLE_TABLES, *LIST_TABLES}
    models = [m for t, m in {**SINGLE_TABLES, **LIST_TABLES}.items() if t in wanted]
    apps: dict[uuid.UUID, Application] = {}
    persons: dict[uuid.UUID, Person] = {}
    rows: dict[uuid.UUID, list[SQLModel]] = {i: [] for i in ids}
    files: dict[uuid.UUID, list[Attachment]] = {i: [] for i in ids}
    with Session(store.engine) as db:
        for k in range(0, len(ids), _CHUNK):
            chunk = ids[k : k + _CHUNK]
            live = col(Application.deleted).is_(False)
            for app in db.exec(select(Application).where(col(Application.id).in_(chunk), live)):
                apps[app.id] = app
            who = {a.person_id for a in apps.values()} - set(persons)
            for person in db.exec(select(Person).where(col(Person.id).in_(who))):
                persons[person.id] = person
            for model in models:
                q = select(model).where(
                    col(model.application_id).in_(chunk),
                    col(model.deleted).is_(False),
                )
                for row in db.exec(q):
                    rows[row.application_id].append(row)
            q_files = select(Attachment).where(
                col(Attachment.application_id).in_(chunk),
                col(Attachment.owner_table).in_(wanted | {"application"}),
                col(Attachment.deleted).is_(False),
            )
            for att in db.exec(q_files):
                files[att.application_id].append(att)
        db.expunge_all()  # plain objects from here on: edits go through the writer
    missing = [i for i in ids if i not in apps]
    if missing_ok:  # deleted meanwhile: left out
        ids = [i for i in ids if i in apps]
    elif missing:
        raise StoreError(f"找不到申报 {', '.join(str(i) for i in missing[:3])}")
    return [assemble(apps[i], persons.get(apps[i].person_id), rows[i], files[i]) for i in ids]


@dataclass(frozen=True)
class Column:
    key: str  # the year (list grids) or the field's name (single-row grids)
    label: str
    spec: FieldSpec  # what a cell holds: its kind, code table, checks


@dataclass
class GridRow:
    data: ApplicationData
    name: str
    masked_id: str
    locked: str | None  # why edits are refused (R12.2); None while editable
    due: frozenset[str] = frozenset()  # the columns the rule asks for (R8.1's years)
    drafts: dict[str, str] = field(default_factory=dict)  # column → text not valid yet

    @property
    def application_id(self) -> uuid.UUID:
        return self.data.application.id


class SectionGrid(Writer):
    """The grid's data: rows, columns, the value shown in each cell, and the edits."""

    def __init__(
        self,
        store: Store,
        application_ids: Sequence[uuid.UUID],
        section: str = "annual_appraisal",
        *,
        catalog: Catalog | None = None,
        forms: Forms | None = None,
        on_saved: Callable[[], None] | None = None,
    ) -> None:
        self.catalog = catalog or load_catalog()
        self.forms = forms or load_forms()
        spec = _section(self.forms, section)
        self.section = spec
        # the person, the settings the rules read (R3, R4) and the section itself
        datas = load_many(store, application_ids, {*SINGLE_TABLES, spec.table})
        state_label = self.catalog.values("workflow_state").label_of
        self.rows: list[GridRow] = []
        for data in datas:
            basic = data.singles.get("basic_info")
            person = data.person
            name = getattr(basic, "name", None) or (person.name if person else "") or "（未填姓名）"
            state = data.application.state
            locked = None
            if state not in EDITABLE_STATES:
                why = "R12.2：已提交的申报只有被退回后才能修改"
                locked = f"{name}的申报{state_label(state)}，不能修改（{why}）"
            ident = mask_id(person.id_number if person else None) or ""
            self.rows.append(GridRow(data, name, ident, locked))
        self.columns: list[Column] = self._columns()
        self._index: dict[int, dict[str, Any]] = {}  # row → key → its record (list grids)
        super().__init__(store, on_saved=on_saved)

    # ------------------------------------------------------------------ shape
    def _columns(self) -> list[Column]:
        s = self.section
        if s.kind != "list":
            # a field whose edits a rule may refuse (R2.5) is left to the full form
            guarded = {a.field for a in s.asserts if a.blocks}
            return [
                Column(f.name, f.label, f)
                for f in s.fields
                if not f.readonly and f.name not in guarded
            ]
        g = s.grid
        assert g is not None  # _section refuses list sections without a grid
        check = next(c for c in s.checks if c.name == g.columns)
        key_spec = s.field(g.key)
        value_spec = s.field(g.value)
        assert key_spec is not None and value_spec is not None
        years: set[int] = set()
        for row in self.rows:
            facts = application_facts(row.data, self.catalog, self.forms)
            span = KEY_COLUMNS[check.name](facts, check)
            years.update(span)  # shown for everyone: enterprise staff may still enter them
            if holds(check.when, facts):
                row.due = frozenset(str(y) for y in span)
            for r in row.data.rows(s.table):
                y = normalise(key_spec, getattr(r, g.key))
                if isinstance(y, int):
                    years.add(y)
        return [Column(str(y), f"{y}年", value_spec) for y in sorted(years)]

    @property
    def title(self) -> str:
        return f"{self.section.title}  [{self.section.rule}]"

    # ------------------------------------------------------------------ reading
    def _record(self, r: int, key: str) -> Any:
        """The stored row behind a cell (None when there is none yet)."""
        data = self.rows[r].data
        s = self.section
        if s.kind != "list":
            return data.single(s.table)
        index = self._index.get(r)
        if index is None:  # built once per row: every cell drawn looks its record up
            g = s.grid
            key_spec = s.field(g.key) if g is not None else None
            assert g is not None and key_spec is not None
            index = {}
            for x in data.rows(s.table):  # the first of two records for one year is shown
                index.setdefault(str(normalise(key_spec, getattr(x, g.key))), x)
            self._index[r] = index
        return index.get(key)

    def _field(self, c: int) -> str:
        g = self.section.grid
        return g.value if g is not None else self.columns[c].key

    def stored(self, r: int, c: int) -> str | None:
        """What the file holds for the cell (a code for coded fields)."""
        rec = self._record(r, self.columns[c].key)
        return None if rec is None else getattr(rec, self._field(c), None)

    def _raw(self, r: int) -> dict[str, Any]:
        """The record as the field checks see it (a specialty depends on its series)."""
        rec = self.rows[r].data.single(self.section.table) if self.section.kind != "list" else None
        return {f.name: getattr(rec, f.name, None) for f in self.section.fields}

    def shown(self, r: int, c: int) -> str:
        """The text in the cell: a draft as typed, else the stored value's label."""
        col = self.columns[c]
        draft = self.rows[r].drafts.get(col.key)
        if draft is not None:
            return draft
        return label_of(col.spec, self.stored(r, c), self._raw(r), self.catalog)

    def draft_error(self, r: int, c: int) -> str | None:
        draft = self.rows[r].drafts.get(self.columns[c].key)
        return None if draft is None else self.parse(r, c, draft)[1]

    def missing(self, r: int, c: int) -> bool:
        """The rule asks for this cell and it is empty (R8.1: a year without appraisal)."""
        row = self.rows[r]
        key = self.columns[c].key
        if self.section.kind == "list":
            return key in row.due and blank(self.stored(r, c))
        return False

    def options(self, r: int, c: int) -> Sequence[Labelled]:
        """The code table of a coded cell (empty for free text)."""
        spec = self.columns[c].spec
        return options_for(spec, self._raw(r), self.catalog) if spec.kind == "select" else ()

    def parse(self, r: int, c: int, text: str) -> tuple[str | None, str | None]:
        """What typed text means: (value to store, None) or (None, the Chinese message).
        A coded cell takes the code, the label, or an unambiguous part of it or its pinyin
        initials (`yx` → 优秀)."""
        spec = self.columns[c].spec
        text = text.strip()
        if not text:
            return None, None
        value = text
        if spec.kind == "select":
            found = _resolve(text, self.options(r, c))
            if isinstance(found, str):
                return None, f"{spec.label}：{found}"
            value = found.code
        msg = field_error(spec, value, self._raw(r), self.catalog)
        return (None, msg) if msg else (value, None)

    # ------------------------------------------------------------------ editing
    def commit(self, r: int, c: int, text: str) -> str | None:
        """A cell typed and confirmed: saved when valid (None), else kept as a draft and
        its message returned. A locked application refuses with its reason."""
        row, key = self.rows[r], self.columns[c].key
        if row.locked:
            return row.locked
        value, error = self.parse(r, c, text)
        if error:
            row.drafts[key] = text
            return error
        row.drafts.pop(key, None)
        self._store(r, c, value)
        return None

    def clear(self, r: int, c: int) -> str | None:
        """Empty a cell (its draft too). An appraisal without files goes; one with a file keeps
        the file and loses its grade."""
        row = self.rows[r]
        if row.locked:
            return row.locked
        row.drafts.pop(self.columns[c].key, None)
        rec = self._record(r, self.columns[c].key)
        s = self.section
        if rec is not None and s.kind == "list":
            has_files = any(row.data.slot_count(rec.id, slot.code) for slot in s.slots)
            if not has_files:
                rows = row.data.lists.get(s.table, [])
                row.data.lists[s.table] = [x for x in rows if x.id != rec.id]
                self._index.pop(r, None)
                rid = rec.id
                self._enqueue(lambda: self.store.delete(s.table, rid))
                return None
        self._store(r, c, None)
        return None

    def _store(self, r: int, c: int, value: str | None) -> None:
        data, key, name = self.rows[r].data, self.columns[c].key, self._field(c)
        s = self.section
        rec = self._record(r, key)
        if rec is None:
            if value is None:
                return
            if s.kind == "list":
                self._add_row(data, key, value)
                self._index.pop(r, None)
                return
            rec = SINGLE_TABLES[s.table](application_id=data.application.id)
            data.singles[s.table] = rec
            self._enqueue(lambda: self.store.add(rec))
        if getattr(rec, name) == value:
            return
        setattr(rec, name, value)
        table, rid = str(rec.__tablename__), rec.id
        self._enqueue(lambda: self.store.set_field(table, rid, name, value))

    def _add_row(self, data: ApplicationData, key: str, value: str) -> None:
        g, table = self.section.grid, self.section.table
        assert g is not None
        rows = data.lists.setdefault(table, [])
        position = max((x.position for x in rows), default=0) + 1
        values: dict[str, Any] = {g.key: key, g.value: value}
        new = LIST_TABLES[table](application_id=data.application.id, position=position, **values)
        rows.append(new)
        self._enqueue(lambda: self.store.add(new))

    @property
    def drafts(self) -> int:
        """Cells holding text not valid yet (shown, not saved)."""
        return sum(len(r.drafts) for r in self.rows)


def _section(forms: Forms, code: str) -> SectionSpec:
    """A section by code or table name; a list section needs a `grid:` in forms.yaml."""
    spec = next((s for s in forms.sections if s.code == code), None) or forms.by_table(code)
    if spec is None:
        raise StoreError(f"没有名为 {code} 的栏目")
    if spec.kind == "slots" or (spec.kind == "list" and spec.grid is None):
        raise StoreError(f"{spec.title} 不能按表格录入（forms.yaml 中没有 grid 设置）")
    return spec


def _resolve(text: str, options: Iterable[Labelled]) -> Labelled | str:
    """A code from what was typed, or the message saying what is expected."""
    opts = list(options)
    q = text.lower()
    for o in opts:
        if q in (o.code.lower(), o.label.lower()):
            return o
    hits = [o for o in opts if o.matches(text)]
    if len(hits) == 1:
        return hits[0]
    choices = "、".join(f"{o.label}（{o.initials}）" for o in (hits or opts)[:8])
    if hits:
        return f"“{text}”可指多项：{choices}，请多输入几个字或按空格从列表中选择"
    return f"“{text}”不在可选范围内，请输入名称或拼音首字母：{choices}，或按空格从列表中选择"


def row_values(grid: SectionGrid, r: int) -> Mapping[str, str]:
    """A row as shown, column by column (tests and exports read the grid this way)."""
    return {col.key: grid.shown(r, c) for c, col in enumerate(grid.columns)}
