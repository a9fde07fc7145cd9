"""The application's sections as printed: values shown by their labels, lists as tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from zctui.data.catalog import Catalog
from zctui.data.documents import Words
from zctui.data.forms import FieldSpec, Forms, SectionSpec, holds
from zctui.domain.aggregate import ApplicationData
from zctui.domain.facts import application_facts
from zctui.domain.fields import blank, normalise, options_for
from zctui.pdf.layout import Flow

SHORT_KINDS = frozenset({"text", "select", "date", "year_month", "year", "int", "decimal"})
# A list with more columns than this is printed turned (fields down, records across).
MAX_COLUMNS = 6
RECORDS_ACROSS = 3


def values_of(section: SectionSpec, row: object | None) -> dict[str, Any]:
    return {f.name: getattr(row, f.name, None) for f in section.fields} if row else {}


def display(spec: FieldSpec, values: Mapping[str, Any], catalog: Catalog) -> str:
    """A value as a person reads it: the label of a code, a date as 2021-05-01."""
    raw = values.get(spec.name)
    if blank(raw):
        return ""
    text = str(raw).strip()
    if spec.kind == "select":
        for option in options_for(spec, values, catalog):
            if option.code == text:
                return option.label
        if spec.source == "series" and (series := catalog.series_by_code(text)):
            return series.label
        return text
    if spec.kind in ("date", "year_month"):
        norm = normalise(spec, text)
        return norm if isinstance(norm, str) and norm[:4].isdigit() else text
    return text


def step_title(forms: Forms, words: Words, number: int) -> str:
    step = next(s for s in forms.steps if s.number == number)
    return words.step.format(number=number, title=step.title)


def applicable(data: ApplicationData, catalog: Catalog, forms: Forms) -> list[SectionSpec]:
    """The sections that apply to this application, in the form's order."""
    facts = application_facts(data, catalog, forms)
    return [s for s in forms.sections if holds(s.applies_when, facts)]


def records(data: ApplicationData, section: SectionSpec) -> list[Any]:
    """The rows of a section: its list rows, its single row, or the application (R5 slots)."""
    if section.kind == "list":
        return list(data.rows(section.table))
    row = data.single(section.table)
    return [row] if row is not None else []


def record_label(section: SectionSpec, row: object, index: int | None, catalog: Catalog) -> str:
    """How a record is named in a bookmark: `论文 1：中药外敷…`, or `学习经历 1：参评学历
    河北中医学院` (a leading choice, a kind or role, is kept with the first value typed in)."""
    if index is None:
        return section.title
    values = values_of(section, row)
    parts: list[str] = []
    for spec in section.fields:
        if spec.kind not in SHORT_KINDS:
            continue
        shown = display(spec, values, catalog)
        if not shown:
            continue
        parts.append(shown)
        if spec.kind != "select" or len(parts) == 2:
            break
    head = f"{section.title} {index}"
    return f"{head}：{' '.join(parts)}" if parts else head


def pick(section: SectionSpec, names: Sequence[str] = ()) -> list[FieldSpec]:
    if not names:
        return list(section.fields)
    return [f for n in names if (f := section.field(n)) is not None]


def grid(
    flow: Flow, pairs: Sequence[tuple[str, str]], long: Sequence[tuple[str, str]] = ()
) -> None:
    """Label/value pairs two to a row; long texts get a row of their own."""
    if pairs:
        rows = []
        for i in range(0, len(pairs), 2):
            a = pairs[i]
            b = pairs[i + 1] if i + 1 < len(pairs) else ("", "")
            rows.append([a[0], a[1], b[0], b[1]])
        label_w = flow.width * 0.2
        value_w = flow.width * 0.3
        flow.table(rows, widths=[label_w, value_w, label_w, value_w], shade_cols=frozenset({0, 2}))
    if long:
        widths = [flow.width * 0.2, flow.width * 0.8]
        flow.table([list(p) for p in long], widths=widths, shade_cols=frozenset({0}))


def single_section(
    flow: Flow,
    section: SectionSpec,
    row: object | None,
    catalog: Catalog,
    fields: Sequence[str] = (),
) -> None:
    values = values_of(section, row)
    short: list[tuple[str, str]] = []
    long: list[tuple[str, str]] = []
    for spec in pick(section, fields):
        pair = (spec.label, display(spec, values, catalog))
        (long if spec.kind == "textarea" else short).append(pair)
    grid(flow, short, long)


def list_section(
    flow: Flow,
    section: SectionSpec,
    rows: Sequence[object],
    catalog: Catalog,
    words: Words,
    fields: Sequence[str] = (),
) -> None:
    """Records as a table, or, when there are many fields, fields down and records across;
    columns that no record fills are left out."""
    if not rows:
        flow.paragraph(f"（{words.none}）")
        return
    specs = pick(section, fields)
    table = [[display(s, values_of(section, r), catalog) for s in specs] for r in rows]
    keep = [i for i, s in enumerate(specs) if any(t[i] for t in table)]
    specs = [specs[i] for i in keep]
    table = [[t[i] for i in keep] for t in table]
    if len(specs) <= MAX_COLUMNS:
        header = [words.number, *(s.label for s in specs)]
        body = [[str(n), *t] for n, t in enumerate(table, start=1)]
        flow.table(body, header=header)
        return
    for start in range(0, len(table), RECORDS_ACROSS):
        chunk = table[start : start + RECORDS_ACROSS]
        header = [words.item, *(str(start + k + 1) for k in range(len(chunk)))]
        body = [[s.label, *(t[i] for t in chunk)] for i, s in enumerate(specs)]
        label_w = flow.width * 0.22
        value_w = (flow.width - label_w) / len(chunk)
        widths = [label_w, *([value_w] * len(chunk))]
        flow.table(body, header=header, widths=widths, shade_cols=frozenset({0}))
        flow.gap(6)
