"""The dossier and the review form as a reviewer opens them: bookmarks that lead to the right
pages, page labels, Chinese that shows on any reader (an embedded font), the work summary on
the review form (R3.3), and the `zctui export` commands."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader

from conftest import need
from test_cli import zctui
from zctui.data.catalog import Catalog, load_catalog
from zctui.data.documents import load_documents
from zctui.data.forms import Forms, load_forms
from zctui.demo import SUMMARY, build_demo
from zctui.domain.aggregate import ApplicationData
from zctui.pdf.cidfont import CidFont, Unsupported
from zctui.pdf.direct import DirectCanvas
from zctui.pdf.dossier import DossierResult, build_dossier
from zctui.pdf.fonts import FontChoice, find_cjk_font
from zctui.pdf.layout import FpdfCanvas, image_page, make_canvas
from zctui.pdf.review_form import build_review_form
from zctui.store.blobs import BlobStore
from zctui.store.repository import Store

ID_NUMBER = "130902198010100011"  # the complete demo application (杨丰)
WORDS = load_documents().words


@dataclass
class Workspace:
    db: Path
    data: ApplicationData
    catalog: Catalog
    forms: Forms
    blobs: BlobStore


def _workspace(root: Path) -> Workspace:
    db = root / "ws.sqlite3"
    done, _half = build_demo(db, year=2025)
    with Store(db) as store:
        data = store.load(done.id)
    return Workspace(db, data, load_catalog(), load_forms(), BlobStore(root / "blobs"))


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return _workspace(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def font() -> FontChoice:
    choice = find_cjk_font()
    need(choice.embedded, "no CJK font on this system: apt-get install -y fonts-noto-cjk")
    return choice


@dataclass
class Built:
    result: DossierResult
    calls: list[tuple[int, int, str]]
    reader: PdfReader


@pytest.fixture(scope="module")
def dossier(ws: Workspace, font: FontChoice, tmp_path_factory: pytest.TempPathFactory) -> Built:
    out = tmp_path_factory.mktemp("out") / "dossier.pdf"
    calls: list[tuple[int, int, str]] = []
    result = build_dossier(
        ws.data,
        ws.catalog,
        ws.forms,
        ws.blobs,
        out,
        lambda d, t, label: calls.append((d, t, label)),
        font=font,
    )
    return Built(result, calls, PdfReader(out))


def _outline(reader: PdfReader) -> list[tuple[str, int, list[Any]]]:
    """The bookmark tree as (title, 0-based page, children)."""

    def walk(items: list[Any]) -> list[tuple[str, int, list[Any]]]:
        out: list[tuple[str, int, list[Any]]] = []
        for item in items:
            if isinstance(item, list):
                title, page, _ = out[-1]
                out[-1] = (title, page, walk(item))
            else:
                dest = reader.get_destination_page_number(item)
                assert dest is not None, f"bookmark {item.title} leads nowhere"
                out.append((str(item.title), dest, []))
        return out

    return walk(reader.outline)


def _expected(ws: Workspace) -> list[tuple[str, list[tuple[str, list[str]]]]]:
    """What the application holds, independently of the dossier code: for each step with
    files, its records with files, and their slots with files, in forms.yaml's order."""
    data, forms = ws.data, ws.forms
    out: list[tuple[str, list[tuple[str, list[str]]]]] = []
    for step in forms.steps:
        recs: list[tuple[str, list[str]]] = []
        for section in forms.sections_of(step.number):
            if not section.slots:
                continue
            if section.kind == "list":
                rows: list[Any] = list(data.rows(section.table))
            else:
                row = data.single(section.table)
                rows = [row] if row is not None else []
            for row in rows:
                slots = [s.label for s in section.slots if data.files_in(row.id, s.code)]
                if slots:
                    recs.append((section.title, slots))
        if recs:
            out.append((f"第{step.number}步 {step.title}", recs))
    return out


def test_r5_r10_bookmarks_go_step_record_slot_in_the_guides_order(
    dossier: Built, ws: Workspace
) -> None:
    """The bookmark tree: 封面, 申报信息摘要, then step → record → slot, with the form's own
    labels, for exactly the files the application holds (R5 materials, R10.1 paper items)."""
    tree = _outline(dossier.reader)
    assert [t for t, _, _ in tree[:2]] == [WORDS.cover, WORDS.summary]
    steps = tree[2:]
    expected = _expected(ws)
    assert [t for t, _, _ in steps] == [t for t, _ in expected]
    for (_, _, records), (_, want) in zip(steps, expected, strict=True):
        assert len(records) == len(want)
        for (title, _, slots), (section_title, slot_labels) in zip(records, want, strict=True):
            assert title.startswith(section_title)
            assert [s for s, _, _ in slots] == slot_labels
    papers = [r for r in steps[-1][2] if r[0].startswith("论文")]
    first = ws.data.rows("paper")[0]
    assert papers[0][0] == f"论文 1：{first.title}"  # type: ignore[attr-defined]
    materials = next(s for s in steps if s[0].startswith("第5步"))[2][0][2]
    assert [s for s, _, _ in materials][:4] == [
        ws.forms.section("materials").slot(c).label  # type: ignore[union-attr]
        for c in ("m01", "m02", "m03", "m04")
    ]


def test_r10_1_a_slot_bookmark_opens_that_file(dossier: Built) -> None:
    """Each demo file says what it is (`paper cover` …): the bookmark 论文 1 → 封面 lands on
    the paper's cover, and 第5步 → 承诺书 on material 1."""
    reader = dossier.reader
    tree = _outline(reader)
    paper_step = tree[-1]
    cover = paper_step[2][0][2][0]
    assert cover[0] == "封面"
    assert "paper cover" in reader.pages[cover[1]].extract_text()
    step5 = next(s for s in tree if s[0].startswith("第5步"))
    pledge = step5[2][0][2][0]
    assert "application m01" in reader.pages[pledge[1]].extract_text()


def test_page_count_and_labels_match_the_attachments(dossier: Built, ws: Workspace) -> None:
    """Cover and summary are numbered i, ii …; the attachments 1 … N, one page per demo file."""
    reader = dossier.reader
    files = [a for a in ws.data.attachments if not a.deleted]
    attached_pages = sum(a.pages or 1 for a in files)
    front = len(reader.pages) - attached_pages
    assert front >= 2  # the cover and at least one summary page
    assert dossier.result.pages == len(reader.pages)
    assert dossier.result.attachments == len(files)
    labels = reader.page_labels
    assert labels[:2] == ["i", "ii"]
    assert labels[front] == "1" and labels[-1] == str(attached_pages)


def test_progress_counts_every_file(dossier: Built) -> None:
    """The TUI's progress bar: done goes 0 → total, total is the files plus the summary, and
    each label names the step, the record and the slot."""
    calls = dossier.calls
    total = dossier.result.attachments + 1
    assert [d for d, _, _ in calls] == list(range(total + 1))
    assert {t for _, t, _ in calls} == {total}
    assert any("第10步 论文论著 · 论文 1" in label and "封面" in label for _, _, label in calls)


def _render(pdf: Path, page: int, out: Path, dpi: int = 72) -> Image.Image:
    need(bool(shutil.which("pdftoppm")), "pdftoppm missing: apt-get install -y poppler-utils")
    pages = ["-f", str(page), "-l", str(page)]
    cmd = ["pdftoppm", "-r", str(dpi), *pages, "-gray", "-png", "-singlefile", str(pdf), str(out)]
    subprocess.run(cmd, check=True, timeout=60)
    return Image.open(out.with_suffix(".png"))


def _word_boxes(pdf: Path, page: int) -> list[tuple[str, float, float, float, float]]:
    need(bool(shutil.which("pdftotext")), "pdftotext missing: apt-get install -y poppler-utils")
    html = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    pattern = r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<'
    return [
        (w, float(a), float(b), float(c), float(d)) for a, b, c, d, w in re.findall(pattern, html)
    ]


def _dark(image: Image.Image, box: tuple[float, float, float, float] | None = None) -> float:
    """The share of dark pixels (in `box`, in points at 72 dpi)."""
    region = image.crop(tuple(round(v) for v in box)) if box else image  # type: ignore[arg-type]
    hist = region.histogram()
    return sum(hist[:128]) / max(1, sum(hist))


def test_r3_1_summary_page_shows_chinese_where_the_text_is(dossier: Built, tmp_path: Path) -> None:
    """The summary page rendered by poppler is not blank, and where it lays out 杨丰 (the
    name) and 中医外科 there are dark pixels: the glyphs are drawn, not left empty."""
    pdf = dossier.result.path
    image = _render(pdf, 2, tmp_path / "summary")
    assert 0.005 < _dark(image) < 0.5
    words = _word_boxes(pdf, 2)
    for text in ("杨丰", "中医外科"):
        box = next((b for w, *b in words if w == text), None)
        assert box is not None, f"{text} not laid out on the summary page"
        assert _dark(image, tuple(box)) > 0.05  # type: ignore[arg-type]


def _fonts(pdf: Path, first: int | None = None, last: int | None = None) -> list[list[str]]:
    need(bool(shutil.which("pdffonts")), "pdffonts missing: apt-get install -y poppler-utils")
    pages = [*(["-f", str(first)] if first else []), *(["-l", str(last)] if last else [])]
    out = subprocess.run(
        ["pdffonts", *pages, str(pdf)], capture_output=True, text=True, check=True, timeout=60
    ).stdout.splitlines()[2:]
    return [line.split() for line in out]


def test_every_font_of_the_generated_pages_is_embedded(dossier: Built, ws: Workspace) -> None:
    """pdffonts on the cover and summary: each font is embedded (emb = yes), so Chinese shows
    on a reader without Chinese fonts. (The attachments are copied as their authors made
    them.)"""
    files = sum(a.pages or 1 for a in ws.data.attachments if not a.deleted)
    front = dossier.result.pages - files
    fonts = _fonts(dossier.result.path, 1, front)
    assert fonts, "the summary draws text with a font"
    for row in fonts:
        assert row[-5] == "yes", row  # columns: … emb sub uni object ID


@pytest.fixture(scope="module")
def review_form(ws: Workspace, font: FontChoice, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rf") / "review.pdf"
    build_review_form(ws.data, ws.catalog, ws.forms, out, blobs=ws.blobs, font=font)
    return out


def _text(pdf: Path, page: int | None = None) -> str:
    """The text a reader finds, without white space. poppler, not pypdf: fpdf2 encodes a CFF
    CJK font's codes with an embedded CMap, which pypdf 7 reads as single bytes."""
    need(bool(shutil.which("pdftotext")), "pdftotext missing: apt-get install -y poppler-utils")
    pages = ["-f", str(page), "-l", str(page)] if page else []
    out = subprocess.run(
        ["pdftotext", *pages, str(pdf), "-"], capture_output=True, text=True, timeout=60
    ).stdout
    return "".join(out.split())


def test_r3_3_review_form_carries_the_work_summary(review_form: Path) -> None:
    """R3.3: the 工作总结摘要 is the review form's 专业技术工作小结, every line of it, with the
    other parts (education, appraisals, papers) labelled as the form labels them."""
    text = _text(review_form)
    for line in SUMMARY.splitlines():
        assert "".join(line.split()) in text
    for label in (
        "专业技术工作小结",
        "学习经历",
        "任现职以来年度考核",
        "论文",
        "中药外敷治疗糖尿病足溃疡临床观察",
    ):
        assert label in text
    assert "副主任医师" in text and "中医外科" in text  # codes shown as their labels


def test_review_form_fonts_are_embedded(review_form: Path) -> None:
    fonts = _fonts(review_form)
    assert fonts and all(row[-5] == "yes" for row in fonts)


def test_cid_fallback_warns_and_still_writes(ws: Workspace, tmp_path: Path) -> None:
    """Without a font file the PDFs name STSong-Light (not embedded), and say so."""
    fallback = FontChoice(None, warning="没有找到可以嵌入的中文字体")
    out = tmp_path / "review.pdf"
    result = build_review_form(ws.data, ws.catalog, ws.forms, out, font=fallback)
    assert result.warnings == ["没有找到可以嵌入的中文字体"]
    fonts = {
        str(f.get_object()["/BaseFont"])
        for page in PdfReader(out).pages
        for f in page["/Resources"]["/Font"].values()  # type: ignore[index]
    }
    assert "/STSong-Light" in fonts


def test_font_search_explains_a_bad_configured_font(tmp_path: Path, font: FontChoice) -> None:
    bad = tmp_path / "not-a-font.ttf"
    bad.write_bytes(b"nothing")
    choice = find_cjk_font(bad)
    assert choice.embedded and choice.warning and str(bad) in choice.warning
    assert font.path is not None
    again = find_cjk_font(font.path)  # a collection: the face with Chinese is chosen
    assert again.path == font.path and again.warning is None


def test_an_unreadable_file_gets_a_notice_page_not_a_failure(
    tmp_path: Path, font: FontChoice
) -> None:
    """A damaged PDF does not stop the export: it gets a page saying it could not be read,
    keeps its bookmark, and the caller gets a warning naming it."""
    ws = _workspace(tmp_path)
    broken = b"%PDF-1.4\n1 0 obj <<\ntruncated"
    digest = ws.blobs.put(broken)
    with Store(ws.db) as store:
        store.attach(
            application_id=ws.data.application.id, owner_table="application",
            owner_id=ws.data.application.id, slot="m15", sha256=digest,
            original_name="扫描件.pdf", size=len(broken), pages=1, media_type="application/pdf",
        )  # fmt: skip
        data = store.load(ws.data.application.id)
    out = tmp_path / "d.pdf"
    result = build_dossier(data, ws.catalog, ws.forms, ws.blobs, out, font=font)
    assert any("扫描件.pdf" in w for w in result.warnings)
    reader = PdfReader(out)
    tree = _outline(reader)
    step5 = next(s for s in tree if s[0].startswith("第5步"))
    other = step5[2][0][2][-1]
    assert other[0] == "其他申报材料" and [c[0] for c in other[2]] == ["m15.pdf", "扫描件.pdf"]
    assert "扫描件.pdf" in _text(out, other[2][1][1] + 1)


# ---------------------------------------------------------------- the CLI


@pytest.fixture
def demo_db(tmp_path: Path) -> Iterator[Path]:
    db = tmp_path / "ws" / "zctui.sqlite3"
    assert zctui("demo", db=db).returncode == 0
    yield db


def test_cli_export_dossier_and_review_form(demo_db: Path, tmp_path: Path) -> None:
    """`zctui export dossier -a <ID number>` writes the PDF, shows progress on stderr and
    says where the file is; `export review-form` likewise."""
    out = tmp_path / "材料.pdf"
    run = zctui("export", "dossier", "-a", ID_NUMBER, "--out", str(out), db=demo_db)
    assert run.returncode == 0, run.stderr
    assert str(out) in run.stdout and "页" in run.stdout
    assert "第10步 论文论著" in run.stderr  # the progress lines
    assert len(PdfReader(out).pages) > 20
    form = tmp_path / "评审表.pdf"
    run = zctui("export", "review-form", "-a", ID_NUMBER, "-o", str(form), db=demo_db)
    assert run.returncode == 0, run.stderr
    assert "评审表" in run.stdout and form.is_file()


def test_cli_export_says_what_is_missing(demo_db: Path, tmp_path: Path) -> None:
    """Exit 2 with a Chinese message: no workspace, two applications and no -a, unknown -a."""
    none = zctui("export", "dossier", db=tmp_path / "none.sqlite3")
    assert none.returncode == 2 and "zctui demo" in none.stderr
    both = zctui("export", "dossier", db=demo_db)
    assert both.returncode == 2 and "-a" in both.stderr and ID_NUMBER in both.stderr
    unknown = zctui("export", "review-form", "-a", str(uuid.uuid4()), db=demo_db)
    assert unknown.returncode == 2 and "找不到申报" in unknown.stderr


def test_r5_summary_lists_the_materials_that_apply(dossier: Built, ws: Workspace) -> None:
    """The summary's R5 table lists each required material and the number of files: 医德医风
    考核表 for this health-series applicant, not the 绿色通道 or 破格 forms, which do not apply."""
    files = sum(a.pages or 1 for a in ws.data.attachments if not a.deleted)
    front = dossier.result.pages - files
    text = "".join(_text(dossier.result.path, p) for p in range(2, front + 1))
    materials = ws.forms.section("materials")
    label = {s.code: s.label for s in materials.slots}
    assert label["m01"] in text and label["m07"] in text and label["m15"] in text
    assert label["m06"] not in text and label["m11"] not in text


# ---------------------------------------------------------------- the font subset, images


def _cid_font(font: FontChoice) -> CidFont:
    assert font.path is not None
    try:
        return CidFont(font.path, font.index)
    except Unsupported as exc:
        pytest.skip(f"{font.path} is not a CID-keyed CFF font ({exc}): fpdf2 draws with it")


def test_the_cff_subset_keeps_the_fonts_own_outlines_and_widths(font: FontChoice) -> None:
    """The direct subset of Noto Sans CJK: every glyph of the work summary draws exactly as
    in the font file (fontTools reads both), under its original CID, with the width hmtx
    gives it; the subroutines the glyphs do not call are left out, so it stays small."""
    from fontTools.cffLib import CFFFontSet  # type: ignore[import-untyped]
    from fontTools.pens.recordingPen import RecordingPen  # type: ignore[import-untyped]
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

    cid = _cid_font(font)
    chars = sorted({ord(c) for c in SUMMARY + "ABCxyz0123，。（）·"} - {ord("\n")})
    gids = [cid.gid(c) for c in chars]
    program = cid.subset(gids)
    assert len(program) < 400_000
    subset = CFFFontSet()
    subset.decompile(io.BytesIO(program), None)
    top = subset.topDictIndex[0]
    assert top.ROS[0] == "Adobe"
    ref = TTFont(str(font.path), fontNumber=font.index, lazy=True)
    order, cmap = ref.getGlyphOrder(), ref.getBestCmap()
    original = ref["CFF "].cff.topDictIndex[0].CharStrings
    assert sorted(top.charset) == sorted({order[g] for g in [0, *gids]})
    for code, gid in zip(chars, gids, strict=True):
        name = order[gid]
        assert cmap.get(code, ".notdef") == name, chr(code)
        assert cid.advance(gid) == round(ref["hmtx"][name][0] * 1000 / cid.units_per_em)
        mine, theirs = RecordingPen(), RecordingPen()
        top.CharStrings[name].draw(mine)
        original[name].draw(theirs)
        assert mine.value == theirs.value, chr(code)


def _truetype_font(path: Path) -> None:
    """A TrueType font with one Chinese glyph (中, a square) and .notdef."""
    from fontTools.fontBuilder import FontBuilder  # type: ignore[import-untyped]
    from fontTools.pens.ttGlyphPen import TTGlyphPen  # type: ignore[import-untyped]

    pen = TTGlyphPen(None)
    for x, y in ((100, 0), (900, 0), (900, 800), (100, 800)):
        (pen.lineTo if x != 100 or y != 0 else pen.moveTo)((x, y))
    pen.closePath()
    square = pen.glyph()
    fb = FontBuilder(1000, isTTF=True)
    fb.setupGlyphOrder([".notdef", "uni4E2D"])
    fb.setupCharacterMap({ord("中"): "uni4E2D"})
    fb.setupGlyf({".notdef": square, "uni4E2D": square})
    fb.setupHorizontalMetrics({".notdef": (1000, 100), "uni4E2D": (1000, 100)})
    fb.setupHorizontalHeader(ascent=880, descent=-120)
    fb.setupNameTable({"familyName": "Test Zhong", "styleName": "Regular"})
    fb.setupOS2()
    fb.setupPost()
    fb.save(str(path))


def test_a_truetype_font_is_drawn_by_fpdf2_and_embedded(tmp_path: Path, font: FontChoice) -> None:
    """Noto's CID-keyed CFF goes through the direct canvas; any other font file (a TrueType
    one here: SimSun, WenQuanYi) through fpdf2, and is embedded as well."""
    assert isinstance(make_canvas(font), DirectCanvas)
    ttf = tmp_path / "zhong.ttf"
    _truetype_font(ttf)
    choice = find_cjk_font(ttf)
    assert choice.path == ttf and choice.warning is None
    canvas = make_canvas(choice)
    assert isinstance(canvas, FpdfCanvas)
    canvas.new_page()
    canvas.text(100, 100, "中", 20)
    out = tmp_path / "ttf.pdf"
    out.write_bytes(canvas.output())
    rows = _fonts(out)
    assert rows and all(row[-5] == "yes" for row in rows)
    assert "TrueType" in " ".join(rows[0])


@pytest.mark.parametrize("kind", ["png", "jpeg"])
def test_an_image_attachment_gets_a_page_of_its_own(tmp_path: Path, kind: str) -> None:
    """A photo attached as an image becomes one A4 page showing it: a JPEG as it is (no
    re-encoding), a PNG with transparency over white. Rendered, the middle is dark."""
    path = tmp_path / f"photo.{kind}"
    image = Image.new("RGBA" if kind == "png" else "RGB", (300, 400), (20, 20, 20, 255))
    image.save(path, format=kind.upper())
    pdf = tmp_path / f"{kind}.pdf"
    pdf.write_bytes(image_page(path))
    reader = PdfReader(pdf)
    assert len(reader.pages) == 1
    xobjects = reader.pages[0]["/Resources"]["/XObject"]  # type: ignore[index]
    im = next(iter(xobjects.values())).get_object()
    assert (im["/Width"], im["/Height"]) == (300, 400)
    assert (im["/Filter"] == "/DCTDecode") == (kind == "jpeg")
    rendered = _render(pdf, 1, tmp_path / kind).convert("L")
    w, h = rendered.size
    assert _dark(rendered, (w * 0.4, h * 0.4, w * 0.6, h * 0.6)) > 0.9
    assert _dark(rendered, (0, 0, w * 0.05, h * 0.05)) == 0


def test_write_behind_keeps_the_output_whole(
    ws: Workspace, font: FontChoice, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer hands what it has written to the disk as it goes (every input here): the
    file is the same dossier, every page and bookmark readable."""
    import zctui.pdf.merge as merge

    monkeypatch.setattr(merge, "_WRITE_BEHIND", 1)
    out = tmp_path / "d.pdf"
    result = build_dossier(ws.data, ws.catalog, ws.forms, ws.blobs, out, font=font)
    reader = PdfReader(out)
    assert len(reader.pages) == result.pages
    assert _outline(reader)[0][0] == WORDS.cover
    assert "paper cover" in "".join(p.extract_text() for p in reader.pages[-12:])


def test_the_font_search_reads_faces_as_fonttools_does(font: FontChoice, tmp_path: Path) -> None:
    """The search reads each face's cmap and name by itself (a millisecond for all ten faces
    of Noto's collection, not a second): the same faces and family names as fontTools, for a
    collection, a TrueType font, and files that are not fonts."""
    from zctui.pdf.fonts import _faces, _faces_fonttools

    assert font.path is not None
    faces = _faces(font.path)
    assert faces == _faces_fonttools(font.path)
    assert (font.index, font.name) in faces
    ttf = tmp_path / "zhong.ttf"
    _truetype_font(ttf)
    assert _faces(ttf) == _faces_fonttools(ttf) == [(0, "Test Zhong")]
    for junk in (b"", b"ttcf", b"\x00\x01\x00\x00" + b"\x00" * 8, b"%PDF-1.4\n"):
        bad = tmp_path / "bad.ttf"
        bad.write_bytes(junk)
        assert _faces(bad) == []
