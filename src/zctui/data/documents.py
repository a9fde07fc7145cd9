"""What the generated PDFs (the dossier, the review form) print beyond the form's own labels.

`documents.yaml` holds the words (titles, headings) and which sections and fields the review
form shows; every section, field and slot it names is checked against `forms.yaml` on load.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import Field

from zctui.data.base import DATA_DIR, CatalogError, Frozen, validate_file
from zctui.data.forms import Forms, load_forms

FILE = "documents.yaml"


class Words(Frozen):
    cover: str
    summary: str
    year: str
    number: str
    item: str
    none: str
    files: str
    other_files: str
    step: str  # "{number}", "{title}"
    unreadable: str  # "{name}"
    reason: str  # "{reason}"
    generated: str  # "{date}"


class FieldRef(Frozen):
    section: str
    field: str


class SlotRef(Frozen):
    section: str
    slot: str


class FieldsRef(Frozen):
    """Some fields of a section, in this order; all of them when `fields` is empty."""

    section: str
    fields: tuple[str, ...] = ()


class DossierDoc(Frozen):
    title: str
    name: FieldRef
    settings: FieldsRef
    photo: SlotRef


class Part(Frozen):
    """One part of the review form: a grid of label/value pairs, a text, or tables."""

    heading: str
    grid: tuple[FieldsRef, ...] = ()
    text: FieldRef | None = None
    tables: tuple[FieldsRef, ...] = ()


class ReviewFormDoc(Frozen):
    title: str
    photo: SlotRef
    parts: tuple[Part, ...] = Field(min_length=1)


class OverviewColumns(FieldsRef):
    """Columns of the overview table from one section; for a list section, the row whose
    `pick_field` holds `pick_value` (the first row when none does)."""

    pick_field: str | None = None
    pick_value: str | None = None


class OverviewDoc(Frozen):
    """The overview table (一览表) the unit prints, stamps and hands in."""

    title: str  # "{year}", "{city}"
    sheet: str
    unit: str  # "{unit}"
    date: str  # "{date}"
    stamp: str  # the line under the table, for the seal and signatures
    columns: tuple[OverviewColumns, ...] = Field(min_length=1)


class Documents(Frozen):
    version: int
    words: Words
    dossier: DossierDoc
    review_form: ReviewFormDoc
    overview: OverviewDoc


def _check(docs: Documents, forms: Forms) -> None:
    def section(key: str, code: str) -> None:
        try:
            forms.section(code)
        except KeyError:
            raise CatalogError(f"{FILE}: {key}: forms.yaml 中没有小节 {code}") from None

    def fields(key: str, ref: FieldsRef | FieldRef) -> None:
        section(key, ref.section)
        sec = forms.section(ref.section)
        names = ref.fields if isinstance(ref, FieldsRef) else (ref.field,)
        for name in names:
            if sec.field(name) is None:
                raise CatalogError(f"{FILE}: {key}: 小节 {ref.section} 没有字段 {name}")

    def slot(key: str, ref: SlotRef) -> None:
        section(key, ref.section)
        if forms.section(ref.section).slot(ref.slot) is None:
            raise CatalogError(f"{FILE}: {key}: 小节 {ref.section} 没有附件项 {ref.slot}")

    fields("dossier.name", docs.dossier.name)
    fields("dossier.settings", docs.dossier.settings)
    slot("dossier.photo", docs.dossier.photo)
    slot("review_form.photo", docs.review_form.photo)
    for i, part in enumerate(docs.review_form.parts):
        key = f"review_form.parts[{i}]"
        for j, ref in enumerate(part.grid):
            fields(f"{key}.grid[{j}]", ref)
        if part.text is not None:
            fields(f"{key}.text", part.text)
        for j, ref in enumerate(part.tables):
            fields(f"{key}.tables[{j}]", ref)
    for i, col in enumerate(docs.overview.columns):
        fields(f"overview.columns[{i}]", col)
        if col.pick_field is not None:
            fields(
                f"overview.columns[{i}].pick_field",
                FieldRef(section=col.section, field=col.pick_field),
            )


def load_documents(directory: Path | None = None) -> Documents:
    if directory is None:
        return _default()
    docs = validate_file(Documents, FILE, directory)
    _check(docs, load_forms(directory))
    return docs


@cache
def _default() -> Documents:
    docs = validate_file(Documents, FILE, DATA_DIR)
    _check(docs, load_forms())
    return docs
