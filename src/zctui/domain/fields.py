"""One field's value: normalising it for rules, and the Chinese message when it is wrong.

The store keeps what the user typed; these functions decide what it means. They never
raise: a value that cannot be read is reported, not rejected.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from zctui.data.base import Labelled
from zctui.data.catalog import Catalog, Series
from zctui.data.forms import FieldSpec, holds
from zctui.domain import validators as v

FIELD_CHECKS: dict[str, Callable[[str], str | None]] = {
    "id_number": lambda s: v.check_id_number(s),
    "mobile": v.check_mobile,
    "landline": v.check_landline,
    "phone": v.check_phone,
    "journal_numbers": v.check_journal_numbers,
    "isbn": v.check_isbn,
    "chsi_code": v.check_chsi_code,
    "thousand_words": v.check_thousand_words,
    "retrieval_url": v.check_retrieval_url,
    "url": v.check_url,
}


def blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def normalise(spec: FieldSpec, value: str | None) -> Any:
    """The value as rules compare it: ISO dates, `YYYY-MM`, numbers; None when blank.
    A value that cannot be read stays the raw text (so it is never equal to a real one)."""
    if blank(value):
        return None
    assert value is not None
    text = value.strip()
    if spec.kind == "date":
        d = v.parse_date(text)
        return d.isoformat() if d else text
    if spec.kind == "year_month":
        ym = v.parse_year_month(text)
        return f"{ym[0]:04d}-{ym[1]:02d}" if ym else text
    if spec.kind in ("int", "year"):
        try:
            return int(text)
        except ValueError:
            return text
    if spec.kind == "decimal":
        try:
            return float(text)
        except ValueError:
            return text
    return text


def year_of(spec: FieldSpec, value: str | None) -> int | None:
    norm = normalise(spec, value)
    if isinstance(norm, int) and spec.kind == "year":
        return norm
    if isinstance(norm, str) and spec.kind in ("date", "year_month") and norm[:4].isdigit():
        return int(norm[:4]) if norm[4:5] == "-" else None
    return None


def parent_series(spec: FieldSpec, record: Mapping[str, Any], catalog: Catalog) -> Series | None:
    """The series that a specialty or title field depends on: its sibling `…series` field."""
    sibling = spec.name.replace("specialty", "series").replace("title", "series")
    code = record.get(sibling)
    return catalog.series_by_code(code) if isinstance(code, str) else None


def select_error(
    spec: FieldSpec, value: str, record: Mapping[str, Any], catalog: Catalog
) -> str | None:
    src = spec.source or ""
    if src.startswith("values:"):
        vl = catalog.values(src.removeprefix("values:"))
        return None if vl.get(value) else f"“{value}”不是有效的{spec.label}，请从列表中选择"
    if src == "categories":
        ok = catalog.category(value) is not None
    elif src == "series":
        series = catalog.series_by_code(value)
        ok = series is not None
        cat_field = spec.name.replace("series", "category")
        cat = record.get(cat_field) if cat_field != spec.name else None
        if series is not None and isinstance(cat, str) and cat and series.category != cat:
            return f"{spec.label}“{series.label}”不属于所选类别，请先选择类别再选择系列"
    elif src in ("specialties", "titles"):
        series = parent_series(spec, record, catalog)
        if series is None:
            return f"请先选择系列，再选择{spec.label}"
        found = series.specialty(value) if src == "specialties" else series.title(value)
        ok = found is not None
        if not ok:
            return f"“{value}”不在系列“{series.label}”的{spec.label}列表中，请重新选择"
    elif src == "levels":
        ok = any(level.code == value for level in catalog.levels)
    elif src == "methods":
        ok = catalog.method(value) is not None
    elif src == "review_modes":
        ok = catalog.review_mode(value) is not None
    else:
        ok = False
    return None if ok else f"“{value}”不是有效的{spec.label}，请从列表中选择"


def field_error(
    spec: FieldSpec, value: str | None, record: Mapping[str, Any], catalog: Catalog
) -> str | None:
    """What is wrong with a filled-in value (required-ness is the checklist's business)."""
    if blank(value):
        return None
    assert value is not None
    text = value.strip()
    if spec.max_len is not None and (msg := v.check_length(value, spec.max_len)):
        return f"{spec.label}：{msg}"
    if spec.max_lines is not None and (msg := v.check_max_lines(value, spec.max_lines)):
        return f"{spec.label}：{msg}"
    msg = None
    if spec.kind == "select":
        msg = select_error(spec, text, record, catalog)
    elif spec.kind == "date":
        msg = v.check_date(text, allow_future=spec.future)
    elif spec.kind == "year_month":
        msg = v.check_year_month(text)
    elif spec.kind == "year":
        msg = v.check_year(text)
    elif spec.kind == "int":
        if not text.isdigit():
            msg = f"“{text}”不是整数，请填写阿拉伯数字，例如 5"
    elif spec.kind == "decimal":
        try:
            if float(text) < 0:
                msg = "请填写不小于 0 的数字"
        except ValueError:
            msg = f"“{text}”不是数字，请填写如 85 或 85.5 的数字"
    if msg is None and spec.check is not None and holds(spec.check_when, {"record": record}):
        msg = FIELD_CHECKS[spec.check](text)
    if msg is None:
        return None
    return msg if msg.startswith(spec.label) else f"{spec.label}：{msg}"


def options_for(spec: FieldSpec, record: Mapping[str, Any], catalog: Catalog) -> Sequence[Labelled]:
    """The choices of a select field, following the cascade 类别 → 系列 → 专业/职称 (R2.2)."""
    src = spec.source or ""
    if src.startswith("values:"):
        return catalog.values(src.removeprefix("values:")).items
    if src == "categories":
        return catalog.categories
    if src == "series":
        cat = record.get(spec.name.replace("series", "category"))
        return catalog.series_in(cat) if isinstance(cat, str) and cat else catalog.series
    if src in ("specialties", "titles"):
        series = parent_series(spec, record, catalog)
        if series is None:
            return ()
        return series.specialties if src == "specialties" else series.titles
    if src == "levels":
        return catalog.levels
    if src == "methods":
        return catalog.methods
    if src == "review_modes":
        return catalog.review_modes
    return ()


def derived_values(spec: FieldSpec, value: str | None) -> dict[str, str]:
    """What a value lets the form fill in: gender and birth date from an ID number (R3.1)."""
    if not spec.fills or blank(value):
        return {}
    facts = v.id_number_facts(value or "")
    if facts is None:
        return {}
    known = {"id_gender": facts.gender, "id_birth_date": facts.birth_date.isoformat()}
    return {target: known[fact] for target, fact in spec.fills.items() if fact in known}


def label_of(
    spec: FieldSpec, value: str | None, record: Mapping[str, Any], catalog: Catalog
) -> str:
    """A stored value as the form shows it: a code's label, other values as typed."""
    if value is None:
        return ""
    if spec.kind == "select":
        for option in options_for(spec, record, catalog):
            if option.code == value:
                return option.label
    return value
