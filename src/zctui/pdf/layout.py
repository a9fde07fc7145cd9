"""Drawing pages: a small canvas over two backends, and a flow that wraps text and tables.

A CID-keyed CFF font (Noto Sans CJK …) is drawn by `direct.DirectCanvas`, which subsets it
itself in a few hundredths of a second; fpdf2 embeds a subset of any other font file
(TrueType outlines, collections too, with a ToUnicode map so text can be searched and
copied). reportlab draws only the fallback: the
CID font STSong-Light, which is named but not embedded. The flow lays out headings,
paragraphs and ruled tables the same way on both, page-breaking as it goes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from zctui.pdf.fonts import CID_FALLBACK, FontChoice

A4 = (595.28, 841.89)  # points
# Chinese typesetting: these never start a line (they stay, slightly over, on the last one).
NO_LINE_START = frozenset("，。、；：？！）》」』】〉’”,.;:?!)]")


class Canvas(Protocol):
    """Coordinates in points from the top-left corner; `y` of text is its baseline."""

    width: float
    height: float
    pages: int

    def new_page(self) -> None: ...
    def text(self, x: float, y: float, s: str, size: float) -> None: ...
    def measure(self, s: str, size: float) -> float: ...
    def line(self, x1: float, y1: float, x2: float, y2: float, w: float = 0.5) -> None: ...
    def fill(self, x: float, y: float, w: float, h: float, gray: float) -> None: ...
    def image(self, path: Path, x: float, y: float, w: float, h: float) -> None: ...
    def output(self) -> bytes: ...


class FpdfCanvas:
    """A real CJK font, embedded as a subset."""

    def __init__(self, font: FontChoice, title: str = "") -> None:
        from fpdf import FPDF
        from fpdf.fonts import TTFFont

        assert font.path is not None
        self.width, self.height = A4
        self.pages = 0
        pdf = FPDF(unit="pt", format="A4")
        pdf.set_auto_page_break(False)
        pdf.set_margins(0, 0, 0)
        pdf.set_creator("zctui")
        if title:
            pdf.set_title(title)
        pdf.add_font("cjk", fname=str(font.path), collection_font_number=font.index)
        # The subset's bounding box is not recomputed from every outline when it is saved:
        # that took half the time of a summary, and the descriptor keeps the font's own box.
        loaded = pdf.fonts["cjk"]
        if isinstance(loaded, TTFFont):
            loaded.ttfont.recalcBBoxes = False
        pdf.set_font("cjk", size=10)
        self._pdf = pdf
        self._size = 10.0
        self._widths: dict[str, float] = {}

    def new_page(self) -> None:
        self._pdf.add_page()
        self.pages += 1

    def _font_size(self, size: float) -> None:
        if size != self._size:
            self._pdf.set_font_size(size)
            self._size = size

    def text(self, x: float, y: float, s: str, size: float) -> None:
        self._font_size(size)
        self._pdf.text(x, y, s)

    def measure(self, s: str, size: float) -> float:
        # Width per character at size 1, cached: wrapping measures every character.
        total = 0.0
        for ch in s:
            w = self._widths.get(ch)
            if w is None:
                self._font_size(100)
                w = self._widths[ch] = self._pdf.get_string_width(ch) / 100
            total += w
        return total * size

    def line(self, x1: float, y1: float, x2: float, y2: float, w: float = 0.5) -> None:
        self._pdf.set_line_width(w)
        self._pdf.line(x1, y1, x2, y2)

    def fill(self, x: float, y: float, w: float, h: float, gray: float) -> None:
        level = round(gray * 255)
        self._pdf.set_fill_color(level, level, level)
        self._pdf.rect(x, y, w, h, style="F")

    def image(self, path: Path, x: float, y: float, w: float, h: float) -> None:
        self._pdf.image(str(path), x, y, w, h)

    def output(self) -> bytes:
        return bytes(self._pdf.output())


class CidCanvas:
    """The fallback: STSong-Light by name only (shows as boxes where no CJK font is)."""

    def __init__(self, title: str = "") -> None:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont
        from reportlab.pdfgen.canvas import Canvas as RlCanvas

        pdfmetrics.registerFont(UnicodeCIDFont(CID_FALLBACK))
        self._metrics = pdfmetrics
        self.width, self.height = A4
        self.pages = 0
        self._buf = io.BytesIO()
        self._c = RlCanvas(self._buf, pagesize=A4, pageCompression=1)
        self._c.setCreator("zctui")
        if title:
            self._c.setTitle(title)

    def new_page(self) -> None:
        if self.pages:
            self._c.showPage()
        self.pages += 1

    def text(self, x: float, y: float, s: str, size: float) -> None:
        self._c.setFont(CID_FALLBACK, size)
        self._c.drawString(x, self.height - y, s)

    def measure(self, s: str, size: float) -> float:
        return float(self._metrics.stringWidth(s, CID_FALLBACK, size))

    def line(self, x1: float, y1: float, x2: float, y2: float, w: float = 0.5) -> None:
        self._c.setLineWidth(w)
        self._c.line(x1, self.height - y1, x2, self.height - y2)

    def fill(self, x: float, y: float, w: float, h: float, gray: float) -> None:
        self._c.setFillGray(gray)
        self._c.rect(x, self.height - y - h, w, h, stroke=0, fill=1)
        self._c.setFillGray(0)

    def image(self, path: Path, x: float, y: float, w: float, h: float) -> None:
        self._c.drawImage(str(path), x, self.height - y - h, w, h)

    def output(self) -> bytes:
        self._c.showPage()
        self._c.save()
        return self._buf.getvalue()


def make_canvas(font: FontChoice, title: str = "") -> Canvas:
    """The direct canvas for a CID-keyed CFF font (Noto Sans CJK, Source Han: the usual
    Chinese fonts on Linux), fpdf2 for any other font file, reportlab's CID font without one."""
    if not font.embedded:
        return CidCanvas(title)
    assert font.path is not None
    from zctui.pdf.cidfont import CidFont, Unsupported
    from zctui.pdf.direct import DirectCanvas

    try:
        return DirectCanvas(CidFont(font.path, font.index), title)
    except (Unsupported, OSError):
        return FpdfCanvas(font, title)


def image_page(path: Path, max_scale: float = 4.0) -> bytes:
    """One A4 page showing an image (a photo attachment), fitted, centred, never blown up
    more than `max_scale` times its size at 72 dpi. No text, so no font is needed."""
    from PIL import Image

    from zctui.pdf.direct import image_pdf

    with Image.open(path) as im:
        px_w, px_h = im.size
    page_w, page_h = A4
    margin = 50.0
    scale = min((page_w - 2 * margin) / px_w, (page_h - 2 * margin) / px_h, max_scale)
    w, h = px_w * scale, px_h * scale
    return image_pdf(path, (page_w - w) / 2, (page_h - h) / 2, w, h)


def fit_image(canvas: Canvas, path: Path, x: float, y: float, w: float, h: float) -> bool:
    """An image (the ID photo) in a w×h box at its top, keeping its proportions. One that
    does not decode is left out (the attachment checks report it): returns False."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            px_w, px_h = im.size
        scale = min(w / px_w, h / px_h)
        canvas.image(path, x + (w - px_w * scale) / 2, y, px_w * scale, px_h * scale)
    except Exception:
        return False
    return True


@dataclass
class Anchor:
    """A heading's place, for a bookmark: level 0 is the outermost."""

    level: int
    title: str
    page: int  # 0-based page of this document
    top: float  # from the top of the page, in points


def wrap(canvas: Canvas, text: str, size: float, width: float) -> list[str]:
    """Lines of `text` no wider than `width`; breaks anywhere in CJK, at spaces in Latin."""
    lines: list[str] = []
    for para in text.replace("\r\n", "\n").split("\n"):
        if not para:
            lines.append("")
            continue
        line = ""
        line_w = 0.0
        for ch in para:
            w = canvas.measure(ch, size)
            if line and line_w + w > width and ch not in NO_LINE_START:
                cut = line.rfind(" ")
                # Keep a Latin word whole when the line has room before it.
                if ch != " " and ch.isascii() and cut > 0 and line[cut + 1 :].isascii():
                    lines.append(line[:cut])
                    line = line[cut + 1 :]
                else:
                    lines.append(line.rstrip())
                    line = ""
                line_w = canvas.measure(line, size)
                if ch == " " and not line:
                    continue
            line += ch
            line_w += w
        lines.append(line)
    return lines


class Flow:
    """Top-to-bottom layout with page breaks; records heading anchors for bookmarks."""

    def __init__(self, canvas: Canvas, margin: float = 56.0, size: float = 10.0) -> None:
        self.c = canvas
        self.margin = margin
        self.size = size
        self.left = margin
        self.right = canvas.width - margin
        self.top = margin
        self.bottom = canvas.height - margin
        self.y = self.top
        self.anchors: list[Anchor] = []
        self._started = False

    @property
    def width(self) -> float:
        return self.right - self.left

    def page(self) -> None:
        self.c.new_page()
        self._started = True
        self.y = self.top

    def room(self, h: float) -> None:
        """Start a new page unless `h` points still fit on this one."""
        if not self._started or self.y + h > self.bottom:
            self.page()

    def gap(self, h: float) -> None:
        self.y += h

    def heading(
        self, text: str, size: float, level: int | None = None, centre: bool = False
    ) -> None:
        self.room(size * 1.6 + 3 * self.size)  # never alone at the foot of a page
        self.y += size * 0.4
        if level is not None:
            self.anchors.append(Anchor(level, text, self.c.pages - 1, self.y - size * 0.4))
        x = self.left
        if centre:
            x = (self.c.width - self.c.measure(text, size)) / 2
        self.y += size
        self.c.text(x, self.y, text, size)
        self.y += size * 0.6

    def paragraph(self, text: str, size: float | None = None, indent: float = 0.0) -> None:
        size = size or self.size
        lead = size * 1.5
        for line in wrap(self.c, text, size, self.width - indent):
            self.room(lead)
            self.y += lead
            self.c.text(self.left + indent, self.y - size * 0.35, line, size)

    def table(
        self,
        rows: Sequence[Sequence[str]],
        header: Sequence[str] | None = None,
        widths: Sequence[float] | None = None,
        shade_cols: frozenset[int] = frozenset(),
        size: float | None = None,
    ) -> None:
        """A ruled table; rows break across pages line by line, the header repeats."""
        size = size or self.size
        ncols = len(header) if header is not None else max((len(r) for r in rows), default=0)
        if ncols == 0:
            return
        cols = list(widths) if widths is not None else self.auto_widths(rows, header, size)
        pad = 3.0
        lead = size * 1.35

        def cells(row: Sequence[str]) -> list[list[str]]:
            return [
                wrap(self.c, str(row[i]) if i < len(row) else "", size, cols[i] - 2 * pad)
                for i in range(ncols)
            ]

        head = cells(header) if header is not None else None

        def draw(lines: list[list[str]], start: int, count: int, shade: bool) -> None:
            h = count * lead + 2 * pad
            x = self.left
            for i, col in enumerate(lines):
                if shade or i in shade_cols:
                    self.c.fill(x, self.y, cols[i], h, 0.92)
                for k, text in enumerate(col[start : start + count]):
                    baseline = self.y + pad + (k + 1) * lead - lead * 0.28
                    self.c.text(x + pad, baseline, text, size)
                x += cols[i]
            right = self.left + sum(cols)
            self.c.line(self.left, self.y, right, self.y)
            self.c.line(self.left, self.y + h, right, self.y + h)
            x = self.left
            for col_w in [0.0, *cols]:
                x += col_w
                self.c.line(x, self.y, x, self.y + h)
            self.y += h

        def new_page_with_header() -> None:
            self.page()
            if head is not None:
                draw(head, 0, max(len(c) for c in head), True)

        self.room(lead * 2 + 4 * pad + (lead * max(len(c) for c in head) if head else 0))
        if head is not None:
            draw(head, 0, max(len(c) for c in head), True)
        for row in rows:
            lines = cells(row)
            total = max(len(c) for c in lines)
            done = 0
            while done < total:
                fit = int((self.bottom - self.y - 2 * pad) // lead)
                if fit < 1 or (done == 0 and fit < total and total <= 8):
                    new_page_with_header()  # short rows are not split
                    continue
                count = min(fit, total - done)
                draw(lines, done, count, False)
                done += count
                if done < total:
                    new_page_with_header()

    def auto_widths(
        self, rows: Sequence[Sequence[str]], header: Sequence[str] | None, size: float
    ) -> list[float]:
        """Columns share the width by their natural widths, each at least a few characters."""
        ncols = len(header) if header is not None else max(len(r) for r in rows)
        pad = 8.0
        natural = [size * 2.5] * ncols
        for row in [*([header] if header is not None else []), *rows]:
            for i in range(min(ncols, len(row))):
                longest = max((self.c.measure(p, size) for p in str(row[i]).split("\n")), default=0)
                natural[i] = max(natural[i], longest + pad)
        floor = size * 3 + pad
        total = sum(natural)
        if total <= self.width:
            return [n * self.width / total for n in natural]
        # Too wide: narrow columns keep their width, wide ones share what is left.
        cols = [min(n, self.width / ncols) for n in natural]
        spare = self.width - sum(cols)
        wide = [i for i, n in enumerate(natural) if n > cols[i]]
        want = sum(natural[i] - cols[i] for i in wide)
        for i in wide:
            cols[i] += spare * (natural[i] - cols[i]) / want
        floored = [max(c, floor) for c in cols]
        return floored if sum(floored) <= self.width else cols
