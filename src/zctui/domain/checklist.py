"""The checklist engine: an application in, per step and section what is complete and what
is missing, each item with its rule id and the guide's own words.

Every condition comes from `data/forms.yaml`; this module only knows how to apply the kinds
of rule there are (required fields, field checks, attachment slots, minimum records,
assertions, and a few named computations such as the years of annual appraisal).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel

from zctui.data.catalog import Catalog, load_catalog
from zctui.data.forms import CheckSpec, Forms, SectionSpec, holds, load_forms
from zctui.domain.aggregate import ApplicationData
from zctui.domain.facts import application_facts, record_facts
from zctui.domain.fields import blank, field_error

Status = Literal["complete", "incomplete", "not_applicable"]
STATUS_LABEL: dict[str, str] = {
    "complete": "完成",
    "incomplete": "未完成",
    "not_applicable": "不适用",
}


class Item(BaseModel):
    """One thing missing or wrong, where it is, and why (rule and guide)."""

    rule: str
    section: str
    message: str
    guide: str = ""
    severity: Literal["error", "warning"] = "error"
    field: str | None = None
    slot: str | None = None
    record_id: uuid.UUID | None = None
    record_index: int | None = None  # 1-based position in a list section


class SectionResult(BaseModel):
    code: str
    title: str
    step: int
    rule: str
    status: Status
    records: int = 0
    items: list[Item] = []

    @property
    def missing(self) -> int:
        return sum(1 for i in self.items if i.severity == "error")


class StepResult(BaseModel):
    number: int
    title: str
    rule: str
    status: Status
    sections: list[SectionResult] = []


class Checklist(BaseModel):
    steps: list[StepResult]

    @property
    def sections(self) -> list[SectionResult]:
        return [s for step in self.steps for s in step.sections]

    @property
    def errors(self) -> list[Item]:
        return [i for s in self.sections for i in s.items if i.severity == "error"]

    @property
    def warnings(self) -> list[Item]:
        return [i for s in self.sections for i in s.items if i.severity == "warning"]

    @property
    def complete(self) -> bool:
        return not self.errors

    @property
    def missing(self) -> int:
        """What the sidebar counts as 缺n, over the whole application."""
        return sum(s.missing for s in self.sections)

    def section(self, code: str) -> SectionResult:
        return next(s for s in self.sections if s.code == code)

    @property
    def current_step(self) -> StepResult | None:
        """The step a person is on: the first with something missing (None: all done)."""
        return next((s for s in self.steps if s.status == "incomplete"), None)


class _Ctx:
    def __init__(self, data: ApplicationData, catalog: Catalog, forms: Forms) -> None:
        self.data = data
        self.catalog = catalog
        self.forms = forms
        self.facts = application_facts(data, catalog, forms)
        self.step_guides = {s.number: s.guide for s in forms.steps}

    def with_record(self, record: Mapping[str, Any]) -> dict[str, Any]:
        return {**self.facts, "record": record}


def _prefix(section: SectionSpec, index: int | None) -> str:
    return f"第{index}条{section.title}：" if index is not None else ""


def _check_row(
    ctx: _Ctx, section: SectionSpec, row: Any, index: int | None, items: list[Item]
) -> None:
    """Required fields, field checks, attachment slots and assertions of one record."""
    record = record_facts(section, row)
    raw = {f.name: getattr(row, f.name, None) for f in section.fields}
    row_id = getattr(row, "id", None)
    owner = ctx.data.application.id if section.table == "application" else row_id
    files = {s.code: ctx.data.slot_count(owner, s.code) if owner else 0 for s in section.slots}
    facts = {**ctx.with_record(record), "files": files}
    where = _prefix(section, index)

    def report(rule: str, message: str, guide: str, **where_in_record: Any) -> None:
        items.append(
            Item(
                rule=rule,
                section=section.code,
                message=where + message,
                guide=guide or section.guide,
                record_id=row_id,
                record_index=index,
                **where_in_record,
            )
        )

    for spec in section.fields:
        value = raw[spec.name]
        if blank(value):
            if not spec.readonly and holds(spec.required, facts):
                verb = "选择" if spec.kind == "select" else "填写"
                report(spec.rule, f"请{verb}{spec.label}", spec.guide, field=spec.name)
        elif msg := field_error(spec, value, raw, ctx.catalog):
            report(spec.rule, msg, spec.guide, field=spec.name)
    for slot in section.slots:
        if files[slot.code] == 0 and holds(slot.required, facts):
            report(slot.rule, f"请上传{slot.label}", slot.guide, slot=slot.code)
    for rule in section.asserts:
        if holds(rule.when, facts) and not holds(rule.expr, facts):
            report(
                rule.rule, rule.message, rule.guide,
                severity=rule.severity, field=rule.field, slot=rule.slot,
            )  # fmt: skip


def appraisal_years_due(facts: Mapping[str, Any], check: CheckSpec) -> range:
    """R8.1: the years that need an appraisal: each year since the current title, at most
    the last N (`params.years`) before the application's year. Also the unit's grid columns."""
    year = facts["year"]
    first = year - int(check.params.get("years", 5))
    if facts["current_title_year"]:
        first = max(first, facts["current_title_year"] + 1)
    return range(first, year)


def _appraisal_years(
    ctx: _Ctx, section: SectionSpec, rows: list[Any], check: CheckSpec
) -> list[str]:
    """R8.1: one appraisal for each year since the current title, at most the last N years."""
    have = {record_facts(section, r).get("year") for r in rows}
    due = appraisal_years_due(ctx.facts, check)
    return [check.message.format(year=y) for y in due if y not in have]


# The named checks whose result is a set of keys (years) a grid shows as its columns.
KEY_COLUMNS: dict[str, Callable[[Mapping[str, Any], CheckSpec], range]] = {
    "appraisal_years": appraisal_years_due,
}


def _kind_order(ctx: _Ctx, section: SectionSpec, rows: list[Any], check: CheckSpec) -> list[str]:
    order = list(check.params["order"])
    field = check.params["field"]
    ranks = [order.index(k) for r in rows if (k := getattr(r, field, None)) in order]
    return [] if ranks == sorted(ranks) else [check.message]


def _time_order(ctx: _Ctx, section: SectionSpec, rows: list[Any], check: CheckSpec) -> list[str]:
    field = check.params["field"]
    spec = section.field(field)
    keys = [str(record_facts(section, r)[field]) for r in rows if spec and getattr(r, field, None)]
    return [] if keys == sorted(keys) else [check.message]


NAMED: dict[str, Callable[[_Ctx, SectionSpec, list[Any], CheckSpec], list[str]]] = {
    "appraisal_years": _appraisal_years,
    "kind_order": _kind_order,
    "time_order": _time_order,
}


def _section(ctx: _Ctx, section: SectionSpec) -> SectionResult:
    items: list[Item] = []
    result = SectionResult(
        code=section.code,
        title=section.title,
        step=section.step,
        rule=section.rule,
        status="complete",
    )
    if not holds(section.applies_when, ctx.facts):
        result.status = "not_applicable"
        return result
    if section.kind == "list":
        rows = ctx.data.rows(section.table)
        result.records = len(rows)
        for i, row in enumerate(rows, start=1):
            _check_row(ctx, section, row, i, items)
        for req in section.require:
            if not holds(req.when, ctx.facts):
                continue
            found = sum(
                1 for r in rows if holds(req.where, ctx.with_record(record_facts(section, r)))
            )
            if found < req.min:
                items.append(
                    Item(rule=req.rule, section=section.code, message=req.message, guide=req.guide)
                )
        for check in section.checks:
            if holds(check.when, ctx.facts):
                for msg in NAMED[check.name](ctx, section, rows, check):
                    items.append(
                        Item(
                            rule=check.rule,
                            section=section.code,
                            message=msg,
                            guide=check.guide,
                            severity=check.severity,
                        )
                    )
        if not rows and not items:
            result.status = "not_applicable"  # optional and left empty: "enter only what applies"
    else:
        single = ctx.data.single(section.table)
        _check_row(ctx, section, single if single is not None else _EMPTY, None, items)
    step_guide = ctx.step_guides.get(section.step, "")
    for item in items:  # every item carries the guide's words: the field's, else the step's
        item.guide = item.guide or section.guide or step_guide
    result.items = items
    if any(i.severity == "error" for i in items):
        result.status = "incomplete"
    return result


class _Empty:
    """A single-row section nobody has typed into yet: every field blank."""

    id = None

    def __getattr__(self, name: str) -> None:
        return None


_EMPTY = _Empty()


def run_checklist(
    data: ApplicationData, catalog: Catalog | None = None, forms: Forms | None = None
) -> Checklist:
    catalog = catalog or load_catalog()
    forms = forms or load_forms()
    ctx = _Ctx(data, catalog, forms)
    by_step: dict[int, list[SectionResult]] = {}
    for section in forms.sections:
        by_step.setdefault(section.step, []).append(_section(ctx, section))
    steps: list[StepResult] = []
    for step in forms.steps:
        sections = by_step.get(step.number, [])
        if sections:
            status: Status = (
                "incomplete"
                if any(s.status == "incomplete" for s in sections)
                else "not_applicable"
                if all(s.status == "not_applicable" for s in sections)
                else "complete"
            )
        elif step.number == 6:  # R6 is generated from R2
            status = next(s.status for s in steps if s.number == 2)
        else:
            status = "not_applicable"
        steps.append(
            StepResult(
                number=step.number,
                title=step.title,
                rule=step.rule,
                status=status,
                sections=sections,
            )
        )
    return Checklist(steps=steps)
