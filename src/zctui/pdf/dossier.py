"""The dossier: one PDF with a cover, a summary of every section, then every attachment.

Attachments follow the guide's order: step, then record (the list's order), then slot (as
forms.yaml lists them), then file. Bookmarks go step → record → slot (→ file when a slot
holds several); the cover and summary pages are numbered i, ii …, the attachments 1, 2 ….
Inputs are copied one at a time straight into the output file (see `merge`), so memory does
not grow with the number or size of the attachments. A file that cannot be read gets a page
saying so, and a warning, instead of stopping the export.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from zctui.data.catalog import Catalog
from zctui.data.documents import Documents, load_documents
from zctui.data.forms import Forms, holds
from zctui.domain.aggregate import ApplicationData
from zctui.domain.facts import application_facts
from zctui.domain.models import Attachment
from zctui.pdf.fonts import FontChoice, find_cjk_font
from zctui.pdf.layout import Anchor, Flow, fit_image, image_page, make_canvas
from zctui.pdf.merge import Bookmark, PdfInputError, StreamingPdfWriter
from zctui.pdf.sections import (
    applicable,
    display,
    list_section,
    record_label,
    records,
    single_section,
    step_title,
    values_of,
)
from zctui.store.blobs import BlobStore

#: progress(done, total, label): `done` items of `total` finished; `label` is the one now
#: being worked on (the last call has done == total).
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class DossierItem:
    """One attached file in its place in the dossier."""

    step: str  # 第3步 录入基础信息
    record: str  # 个人基本信息, 论文 1：…
    record_key: tuple[str, str]  # (section code, row id): records can share a label
    slot: str  # the slot's label from forms.yaml
    attachment: Attachment

    @property
    def label(self) -> str:
        return f"{self.step} · {self.record} · {self.slot}"


@dataclass
class DossierResult:
    path: Path
    pages: int
    attachments: int
    font: FontChoice
    warnings: list[str] = field(default_factory=list)
    seconds_front: float = 0.0  # drawing the cover and summary, subsetting the font
    seconds_attachments: float = 0.0  # copying the attachments, writing the file …
    seconds_sync: float = 0.0  # … of which the final fsync


def dossier_plan(
    data: ApplicationData, catalog: Catalog, forms: Forms, docs: Documents | None = None
) -> list[DossierItem]:
    """Every live attachment of the sections that apply, in the guide's order. A file in a
    slot the form no longer has comes last in its record, as 其他附件."""
    docs = docs or load_documents()
    items: list[DossierItem] = []
    for section in applicable(data, catalog, forms):
        if not section.slots:
            continue
        step = step_title(forms, docs.words, section.step)
        rows = records(data, section)
        for n, row in enumerate(rows, start=1):
            label = record_label(section, row, n if section.kind == "list" else None, catalog)
            key = (section.code, str(row.id))
            files = sorted(
                (a for a in data.attachments if a.owner_id == row.id and not a.deleted),
                key=lambda a: (a.position, a.updated_at),  # position, then when attached
            )
            known = {s.code for s in section.slots}
            for slot in section.slots:
                for a in files:
                    if a.slot == slot.code:
                        items.append(DossierItem(step, label, key, slot.label, a))
            for a in files:
                if a.slot not in known and a.owner_table == section.table:
                    items.append(DossierItem(step, label, key, docs.words.other_files, a))
    return items


def _front(
    data: ApplicationData,
    catalog: Catalog,
    forms: Forms,
    docs: Documents,
    font: FontChoice,
    blobs: BlobStore,
    plan: Sequence[DossierItem],
) -> tuple[bytes, list[Anchor], int]:
    """The cover and the summary: (pdf, heading anchors, pages)."""
    words = docs.words
    title = docs.dossier.title
    canvas = make_canvas(font, title)
    flow = Flow(canvas)
    flow.page()
    photo = _photo(data, forms, docs, blobs)
    if photo is not None:
        fit_image(canvas, photo, flow.right - 96, flow.top, 96, 128)
    flow.y = 230
    flow.heading(title, 24, centre=True)
    flow.gap(40)
    name_sec = forms.section(docs.dossier.name.section)
    name_spec = name_sec.field(docs.dossier.name.field)
    name_row = records(data, name_sec)
    name = ""
    if name_spec is not None and name_row:
        name = display(name_spec, values_of(name_sec, name_row[0]), catalog)
    if not name and data.person is not None:
        name = data.person.name
    rows = [[name_spec.label if name_spec else "", name], [words.year, str(data.application.year)]]
    settings = forms.section(docs.dossier.settings.section)
    values = values_of(settings, data.application)
    for fname in docs.dossier.settings.fields:
        spec = settings.field(fname)
        if spec is not None:
            rows.append([spec.label, display(spec, values, catalog)])
    flow.left, flow.right = 110.0, canvas.width - 110.0
    flow.table(
        rows, widths=[flow.width * 0.32, flow.width * 0.68], shade_cols=frozenset({0}), size=12
    )
    flow.left, flow.right = flow.margin, canvas.width - flow.margin
    flow.y = flow.bottom - 10
    stamp = words.generated.format(date=date.today().isoformat())
    canvas.text((canvas.width - canvas.measure(stamp, 9)) / 2, flow.y, stamp, 9)

    flow.page()
    flow.heading(words.summary, 16, level=0)
    sections = [s for s in applicable(data, catalog, forms) if s.fields or s.kind == "slots"]
    facts = application_facts(data, catalog, forms)
    counts: dict[tuple[str, str], int] = {}
    for item in plan:
        key = (item.record_key[1], item.attachment.slot)
        counts[key] = counts.get(key, 0) + 1
    for step in forms.steps:
        mine = [s for s in sections if s.step == step.number]
        if not mine:
            continue
        flow.heading(step_title(forms, words, step.number), 13, level=1)
        for section in mine:
            flow.heading(section.title, 11, level=2)
            rows_of = records(data, section)
            if section.kind == "list":
                list_section(flow, section, rows_of, catalog, words)
            elif section.kind == "single":
                single_section(flow, section, rows_of[0] if rows_of else None, catalog)
            else:  # a section of slots only (R5): each material and how many files it has
                owner = str(rows_of[0].id) if rows_of else ""
                pairs = [
                    (s.label, str(counts.get((owner, s.code), 0)))
                    for s in section.slots
                    if counts.get((owner, s.code), 0) or holds(s.required, facts)
                ]
                _slot_counts(flow, pairs, docs)
            flow.gap(6)
    return canvas.output(), flow.anchors, canvas.pages


def _slot_counts(flow: Flow, pairs: list[tuple[str, str]], docs: Documents) -> None:
    widths = [flow.width * 0.8, flow.width * 0.2]
    flow.table([list(p) for p in pairs], header=[docs.words.item, docs.words.files], widths=widths)


def _photo(data: ApplicationData, forms: Forms, docs: Documents, blobs: BlobStore) -> Path | None:
    ref = docs.dossier.photo
    rows = records(data, forms.section(ref.section))
    if not rows:
        return None
    files = data.files_in(rows[0].id, ref.slot)
    if not files:
        return None
    path = blobs.path(files[0].sha256)
    return path if path.is_file() else None


def _tree(anchors: Sequence[Anchor], offset: int) -> list[Bookmark]:
    """Bookmarks from heading anchors, nested by level."""
    roots: list[Bookmark] = []
    stack: list[tuple[int, Bookmark]] = []
    for a in anchors:
        mark = Bookmark(a.title, a.page + offset, a.top)
        while stack and stack[-1][0] >= a.level:
            stack.pop()
        (stack[-1][1].children if stack else roots).append(mark)
        stack.append((a.level, mark))
    return roots


def _is_pdf(attachment: Attachment, path: Path) -> bool:
    """From the type the check recorded; only rows saved without one are sniffed."""
    if attachment.media_type:
        return attachment.media_type == "application/pdf"
    with open(path, "rb") as fh:
        return b"%PDF-" in fh.read(1024)


def _notice(font: FontChoice, docs: Documents, name: str, reason: str) -> bytes:
    canvas = make_canvas(font)
    flow = Flow(canvas)
    flow.page()
    flow.y = 200
    flow.heading(docs.words.unreadable.format(name=name), 14)
    flow.paragraph(docs.words.reason.format(reason=reason), 11)
    return canvas.output()


def build_dossier(
    data: ApplicationData,
    catalog: Catalog,
    forms: Forms,
    blobs: BlobStore,
    out_path: Path,
    progress: Progress | None = None,
    *,
    font: FontChoice | None = None,
    docs: Documents | None = None,
) -> DossierResult:
    """Write the dossier to `out_path` (atomically: a `.part` file renamed at the end)."""
    docs = docs or load_documents()
    font = font or find_cjk_font()
    warnings = [font.warning] if font.warning else []
    plan = dossier_plan(data, catalog, forms, docs)
    total = len(plan) + 1
    report = progress or (lambda _d, _t, _l: None)
    report(0, total, docs.words.summary)
    started = time.perf_counter()
    front, anchors, front_pages = _front(data, catalog, forms, docs, font, blobs, plan)
    front_done = time.perf_counter()

    out_path = Path(out_path)
    part = out_path.with_name(out_path.name + ".part")
    try:
        with open(part, "wb", buffering=1 << 20) as fh:
            writer = StreamingPdfWriter(fh)
            writer.append(front)
            outline = [Bookmark(docs.words.cover, 0), *_tree(anchors, 0)]
            steps: dict[str, Bookmark] = {}
            recs: dict[tuple[str, str], Bookmark] = {}
            slots: dict[tuple[tuple[str, str], str], Bookmark] = {}
            for done, item in enumerate(plan, start=1):
                report(done, total, item.label)
                first = len(writer.pages)
                a = item.attachment
                path = blobs.path(a.sha256)
                try:
                    if not path.is_file():
                        raise PdfInputError("附件文件不在工作区的 blobs 文件夹中")
                    if _is_pdf(a, path):
                        writer.append(path)
                    else:
                        try:
                            writer.append(image_page(path))
                        except Exception as exc:
                            raise PdfInputError("既不是 PDF 也不是可以识别的图片") from exc
                except PdfInputError as exc:
                    warnings.append(f"{item.label}：{a.original_name}：{exc}")
                    writer.append(_notice(font, docs, a.original_name, str(exc)))
                step = steps.get(item.step)
                if step is None:
                    step = steps[item.step] = Bookmark(item.step, first)
                    outline.append(step)
                rec = recs.get(item.record_key)
                if rec is None:
                    rec = recs[item.record_key] = Bookmark(item.record, first)
                    step.children.append(rec)
                slot = slots.get((item.record_key, item.slot))
                if slot is None:
                    slot = slots[(item.record_key, item.slot)] = Bookmark(item.slot, first)
                    rec.children.append(slot)
                slot.children.append(Bookmark(a.original_name, first))
            # A slot with one file needs no child bookmark naming it.
            for slot in slots.values():
                if len(slot.children) == 1:
                    slot.children.clear()
            labels = [(0, "r")]
            if len(writer.pages) > front_pages:
                labels.append((front_pages, "D"))
            writer.finish(outline, labels, title=docs.dossier.title)
            pages = len(writer.pages)
            synced = writer.seconds_sync
        os.replace(part, out_path)
    except BaseException:
        with contextlib.suppress(OSError):
            part.unlink()
        raise
    report(total, total, docs.dossier.title)
    return DossierResult(
        out_path, pages, len(plan), font, warnings,
        seconds_front=front_done - started,
        seconds_attachments=time.perf_counter() - front_done, seconds_sync=synced,
    )  # fmt: skip
