"""The review form (评审表) summary: personal data, the 专业技术工作小结 (R3.3: the work
summary as the applicant wrote it, line for line), education, certificates, appraisals,
achievements, papers and books. Which sections and fields it shows is `documents.yaml`'s
`review_form`; labels come from forms.yaml and the catalog."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from zctui.data.catalog import Catalog
from zctui.data.documents import Documents, load_documents
from zctui.data.forms import Forms
from zctui.domain.aggregate import ApplicationData
from zctui.pdf.fonts import FontChoice, find_cjk_font
from zctui.pdf.layout import Flow, fit_image, make_canvas
from zctui.pdf.sections import (
    applicable,
    display,
    grid,
    list_section,
    pick,
    records,
    values_of,
)
from zctui.store.blobs import BlobStore


@dataclass
class ReviewFormResult:
    path: Path
    pages: int
    font: FontChoice
    warnings: list[str]


def build_review_form(
    data: ApplicationData,
    catalog: Catalog,
    forms: Forms,
    out_path: Path,
    *,
    blobs: BlobStore | None = None,
    font: FontChoice | None = None,
    docs: Documents | None = None,
) -> ReviewFormResult:
    """Write the review form to `out_path`; with `blobs`, the ID photo is printed too."""
    docs = docs or load_documents()
    font = font or find_cjk_font()
    doc = docs.review_form
    canvas = make_canvas(font, doc.title)
    flow = Flow(canvas)
    flow.page()
    photo_w, photo_h = 84.0, 112.0
    if blobs is not None:
        rows = records(data, forms.section(doc.photo.section))
        files = data.files_in(rows[0].id, doc.photo.slot) if rows else []
        path = blobs.path(files[0].sha256) if files else None
        if path is not None and path.is_file():
            fit_image(canvas, path, flow.right - photo_w, flow.top, photo_w, photo_h)
    flow.y = flow.top + 30
    flow.heading(doc.title, 20, centre=True)
    flow.y = max(flow.y, flow.top + photo_h) + 12
    live = {s.code for s in applicable(data, catalog, forms)}
    for part in doc.parts:
        flow.heading(part.heading, 13)
        if part.grid:
            pairs: list[tuple[str, str]] = []
            for ref in part.grid:
                section = forms.section(ref.section)
                rows = records(data, section)
                values = values_of(section, rows[0] if rows else None)
                pairs += [(s.label, display(s, values, catalog)) for s in pick(section, ref.fields)]
            grid(flow, pairs)
        if part.text is not None:
            section = forms.section(part.text.section)
            rows = records(data, section)
            text = getattr(rows[0], part.text.field, None) if rows else None
            _boxed(flow, (text or "").strip() or f"（{docs.words.none}）")
        for ref in part.tables:
            section = forms.section(ref.section)
            if section.code not in live:
                continue
            flow.heading(section.title, 11)
            list_section(flow, section, records(data, section), catalog, docs.words, ref.fields)
        flow.gap(8)
    out_path = Path(out_path)
    part_path = out_path.with_name(out_path.name + ".part")
    part_path.write_bytes(canvas.output())
    part_path.replace(out_path)
    return ReviewFormResult(out_path, canvas.pages, font, [font.warning] if font.warning else [])


def _boxed(flow: Flow, text: str) -> None:
    """The work summary in a ruled box, its lines as written (R3.3: at most 17)."""
    flow.table([[text]], widths=[flow.width], size=10.5)
