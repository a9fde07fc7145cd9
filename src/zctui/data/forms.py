"""The form and its rules as data: steps, sections, fields, attachment slots, requirements.

`forms.yaml` is the single source for what each section holds, which fields are required
(always or under a condition), the limits the guide gives, the attachment slots, and the
section-level rules with the guide's own words. The TUI builds its forms from it; the
checklist engine reads its rules from it.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from zctui.data.base import DATA_DIR, CatalogError, Frozen, Searchable, validate_file
from zctui.data.expr import ExprError, Facts, Predicate, compile_condition

Condition = bool | str
FieldKind = Literal["text", "textarea", "select", "date", "year_month", "year", "int", "decimal"]
Severity = Literal["error", "warning"]

# What a condition may name. Application-wide facts are computed by domain.facts;
# `record` is the row being checked (its fields, plus `<field>_year` for dates), and
# `files` the number of files in each of its attachment slots (`files.cover`).
APP_FACTS = frozenset(
    {
        "category", "series", "series_tags", "specialty", "title", "level", "title_evaluation",
        "method", "method_exempts_title", "review_mode", "may_self_review", "city", "unit",
        "year", "has_title", "unit_type", "current_title_year", "id_gender", "id_birth_date",
        "counts", "record", "files",
    }
)  # fmt: skip
SOURCES = {"categories", "series", "specialties", "titles", "levels", "methods", "review_modes"}
CHECKS = {
    "id_number", "mobile", "landline", "phone", "journal_numbers", "isbn", "chsi_code",
    "thousand_words", "retrieval_url", "url",
}  # fmt: skip
DERIVABLE = {"id_gender", "id_birth_date"}  # values a field can fill in from another (R3.1)
NAMED_CHECKS = {"appraisal_years", "kind_order", "time_order"}
GRID_COLUMNS = {"appraisal_years"}  # named checks that give a grid its columns (years)

_PREDICATES: dict[str, Predicate] = {}


def predicate(cond: Condition) -> Predicate:
    if isinstance(cond, bool):
        return (lambda _f: True) if cond else (lambda _f: False)
    fn = _PREDICATES.get(cond)
    if fn is None:
        fn = _PREDICATES[cond] = compile_condition(cond, APP_FACTS)
    return fn


def holds(cond: Condition, facts: Facts) -> bool:
    return predicate(cond)(facts)


def _record_attrs(cond: Condition) -> set[str]:
    if isinstance(cond, bool):
        return set()
    return {
        n.attr
        for n in ast.walk(ast.parse(cond.strip(), mode="eval"))
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "record"
    }


class StepSpec(Frozen):
    number: int = Field(ge=1, le=12)
    title: str
    rule: str
    guide: str = ""
    notes: str = ""  # more of the guide's words for the step (R12.3's 注意事项), verbatim


class FieldSpec(Searchable):
    name: str
    kind: FieldKind = "text"
    required: Condition = False
    max_len: int | None = None
    max_lines: int | None = None
    source: str | None = None
    check: str | None = None
    check_when: Condition = True  # e.g. the ID-card check only when 证件类型 is 居民身份证
    fills: dict[str, str] = Field(default_factory=dict)  # field → fact derived from this value
    future: bool = False  # a date that may lie ahead (成绩有效期)
    readonly: bool = False
    rule: str
    help: str = Field(min_length=1)  # what to enter, in our words, with an example
    guide: str = ""  # the guide's own words about this field, quoted exactly, where it has any

    def topic(self) -> tuple[str, str, str, str]:
        """F1's (label, rule, help, guide)."""
        return (self.label, self.rule, self.help, self.guide)

    @model_validator(mode="after")
    def _source_fits_kind(self) -> FieldSpec:
        if self.kind == "select":
            ok = self.source in SOURCES or (self.source or "").startswith("values:")
            if not ok:
                raise ValueError(
                    f"选择框 {self.name} 的 source 必须是 {sorted(SOURCES)} 或 values:<列表>"
                )
        if self.check is not None and self.check not in CHECKS:
            raise ValueError(f"未知的校验 {self.check!r}，可用：{sorted(CHECKS)}")
        return self


class SlotSpec(Searchable):
    code: str
    # What the file must be: a PDF, or (R3.1) an ID photo in any common image format.
    kind: Literal["pdf", "photo"] = "pdf"
    required: Condition = False
    rule: str
    help: str = Field(min_length=1)
    guide: str = ""

    def topic(self) -> tuple[str, str, str, str]:
        """F1's (label, rule, help, guide)."""
        return (self.label, self.rule, self.help, self.guide)


class RequireSpec(Frozen):
    """At least `min` live rows (matching `where`) when `when` holds."""

    where: Condition = True
    min: int = 1
    when: Condition = True
    rule: str
    message: str
    guide: str = ""


class AssertSpec(Frozen):
    """A rule over one record (or the section's single row); `expr` must hold."""

    expr: str
    when: Condition = True
    rule: str
    message: str
    guide: str = ""
    severity: Severity = "error"
    field: str | None = None  # the field the rule is about: F2 lands there
    slot: str | None = None  # or the attachment slot
    blocks: bool = False  # the form refuses an edit of `field` that breaks the rule (R2.5)


class CheckSpec(Frozen):
    """A named computation in domain.checklist, parametrised here."""

    name: str
    params: dict[str, Any] = Field(default_factory=dict)
    when: Condition = True
    rule: str
    message: str
    guide: str = ""
    severity: Severity = "error"


class GridSpec(Frozen):
    """How a list section is entered for many people at once (the unit's grid): one column
    per value of `key` (a year), the cell holding `value`; the columns the rule asks for come
    from the named check `columns` (e.g. appraisal_years: the years R8.1 requires)."""

    key: str
    value: str
    columns: str


class SectionSpec(Frozen):
    code: str
    step: int = Field(ge=1, le=12)
    title: str
    table: str
    kind: Literal["single", "list", "slots"]
    rule: str
    guide: str = ""
    applies_when: Condition = True
    reusable: bool = False
    fields: tuple[FieldSpec, ...] = ()
    slots: tuple[SlotSpec, ...] = ()
    require: tuple[RequireSpec, ...] = ()
    asserts: tuple[AssertSpec, ...] = ()
    checks: tuple[CheckSpec, ...] = ()
    grid: GridSpec | None = None

    @model_validator(mode="after")
    def _grid_fits(self) -> SectionSpec:
        g = self.grid
        if g is None:
            return self
        key, value = self.field(g.key), self.field(g.value)
        if self.kind != "list" or key is None or key.kind != "year" or value is None:
            raise ValueError(f"grid: {self.code} 须为列表栏目，key 为年份字段、value 为本节字段")
        if g.columns not in GRID_COLUMNS or not any(c.name == g.columns for c in self.checks):
            known = sorted(GRID_COLUMNS)
            raise ValueError(f"grid.columns: {g.columns!r} 须为本节给出年份的检查之一：{known}")
        return self

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)

    def slot(self, code: str) -> SlotSpec | None:
        return next((s for s in self.slots if s.code == code), None)


class Forms(Frozen):
    version: int
    steps: tuple[StepSpec, ...]
    sections: tuple[SectionSpec, ...]

    def section(self, code: str) -> SectionSpec:
        for s in self.sections:
            if s.code == code:
                return s
        raise KeyError(code)

    def sections_of(self, step: int) -> tuple[SectionSpec, ...]:
        return tuple(s for s in self.sections if s.step == step)

    def by_table(self, table: str) -> SectionSpec | None:
        return next((s for s in self.sections if s.table == table and s.kind != "slots"), None)

    def help_topic(
        self, section: str, field: str | None = None, slot: str | None = None
    ) -> tuple[str, str, str, str]:
        """What F1 shows for a field, a slot or a section: (label, rule, help, guide). The
        form's widgets and the helpdesk read it here, so both show the same words."""
        sec = self.section(section)
        spec = (sec.field(field) if field else None) or (sec.slot(slot) if slot else None)
        if spec is not None:
            return spec.topic()
        return (sec.title, sec.rule, "", sec.guide)


def _check_conditions(forms: Forms, name: str) -> None:
    """Compile every condition once: a bad one fails the load, naming file and key."""
    for i, sec in enumerate(forms.sections):
        dated = {f.name for f in sec.fields if f.kind in ("date", "year_month", "year")}
        known = {f.name for f in sec.fields} | {f"{d}_year" for d in dated}
        conds: list[tuple[str, Condition]] = [(f"sections[{i}].applies_when", sec.applies_when)]
        for j, f in enumerate(sec.fields):
            conds.append((f"sections[{i}].fields[{j}].required", f.required))
            conds.append((f"sections[{i}].fields[{j}].check_when", f.check_when))
            for target, fact in f.fills.items():
                if target not in {g.name for g in sec.fields} or fact not in DERIVABLE:
                    raise CatalogError(
                        f"{name}: sections[{i}].fields[{j}].fills: {target} ← {fact} 无法推导"
                    )
        for j, s in enumerate(sec.slots):
            conds.append((f"sections[{i}].slots[{j}].required", s.required))
        for j, r in enumerate(sec.require):
            conds += [(f"sections[{i}].require[{j}].where", r.where)]
            conds += [(f"sections[{i}].require[{j}].when", r.when)]
        for j, a in enumerate(sec.asserts):
            if (a.field and not sec.field(a.field)) or (a.slot and not sec.slot(a.slot)):
                raise CatalogError(
                    f"{name}: sections[{i}].asserts[{j}]: 本节没有字段或附件 {a.field or a.slot}"
                )
            conds += [(f"sections[{i}].asserts[{j}].expr", a.expr)]
            conds += [(f"sections[{i}].asserts[{j}].when", a.when)]
        for j, c in enumerate(sec.checks):
            if c.name not in NAMED_CHECKS:
                raise CatalogError(f"{name}: sections[{i}].checks[{j}].name: 未知的检查 {c.name!r}")
            conds.append((f"sections[{i}].checks[{j}].when", c.when))
        for key, cond in conds:
            try:
                predicate(cond)
            except ExprError as exc:
                raise CatalogError(f"{name}: {key}: {exc}") from exc
            unknown = _record_attrs(cond) - known
            if unknown and not key.endswith(".when") and not key.endswith("applies_when"):
                raise CatalogError(f"{name}: {key}: 本节没有字段 {', '.join(sorted(unknown))}")


def load_forms(directory: Path | None = None) -> Forms:
    if directory is None:
        return _default_forms()
    return _load(directory)


@cache
def _default_forms() -> Forms:
    return _load(DATA_DIR)


def _load(directory: Path) -> Forms:
    forms = validate_file(Forms, "forms.yaml", directory)
    seen: set[str] = set()
    for i, sec in enumerate(forms.sections):
        if sec.code in seen:
            raise CatalogError(f"forms.yaml: sections[{i}].code: 重复的编码 {sec.code}")
        seen.add(sec.code)
        names = [f.name for f in sec.fields]
        if len(names) != len(set(names)):
            raise CatalogError(f"forms.yaml: sections[{i}].fields: 字段名重复")
    _check_conditions(forms, "forms.yaml")
    return forms
