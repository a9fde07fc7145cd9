"""The facts that the rules in data/ talk about, computed from an application."""

from __future__ import annotations

from typing import Any

from zctui.data.catalog import Catalog
from zctui.data.forms import Forms, SectionSpec
from zctui.domain import validators as v
from zctui.domain.aggregate import ApplicationData
from zctui.domain.fields import normalise, year_of
from zctui.domain.models import LIST_TABLES


def record_facts(section: SectionSpec, row: object) -> dict[str, Any]:
    """A row as rules see it: normalised values, plus `<field>_year` for dated fields."""
    out: dict[str, Any] = {}
    for spec in section.fields:
        raw = getattr(row, spec.name, None)
        out[spec.name] = normalise(spec, raw)
        if spec.kind in ("date", "year_month", "year"):
            out[f"{spec.name}_year"] = year_of(spec, raw)
    return out


def application_facts(data: ApplicationData, catalog: Catalog, forms: Forms) -> dict[str, Any]:
    app = data.application
    series = catalog.series_by_code(app.series) if app.series else None
    title = series.title(app.title) if series and app.title else None
    method = catalog.method(app.method) if app.method else None
    status = data.singles.get("current_status")
    basic = data.singles.get("basic_info")

    has_title = getattr(status, "has_title", None) == "1"
    title_year = None
    if status is not None and has_title:
        spec = forms.section("status").field("cur_title_date")
        title_year = year_of(spec, status.cur_title_date) if spec else None  # type: ignore[attr-defined]
    id_facts = v.id_number_facts(basic.id_number or "") if basic is not None else None  # type: ignore[attr-defined]

    level = title.level if title else None
    return {
        "category": app.category,
        "series": app.series,
        "series_tags": series.tags if series else frozenset(),
        "specialty": app.specialty,
        "title": app.title,
        "level": level,
        "title_evaluation": title.evaluation if title else None,
        "method": app.method,
        "method_exempts_title": bool(method and method.exempts_title_certificate),
        "review_mode": app.review_mode,
        "may_self_review": bool(
            series
            and level
            and catalog.may_self_review(app.city or "", app.unit_name or "", series.code, level)
        ),
        "city": app.city,
        "unit": app.unit_name,
        "year": app.year,
        "has_title": has_title,
        "unit_type": getattr(status, "unit_type", None),
        "current_title_year": title_year,
        "id_gender": id_facts.gender if id_facts else None,
        "id_birth_date": id_facts.birth_date.isoformat() if id_facts else None,
        "counts": {t: len(data.rows(t)) for t in LIST_TABLES},
    }
