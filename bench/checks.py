"""Attachment checks per second on a mixed corpus, against baselines measured in the same run.

The corpus: the test corpus (good PDFs, every kind of bad one, photos) plus a 30-page text PDF
and scanned-looking PDFs (a JPEG and a Flate image per page), repeated to ~200 files.
Figures:
- `Checker(workers=2).check_many` (children kept and reused: what `zctui files check` does),
  and with one worker;
- `check_file` per file (a fresh child each time: the cost of the isolation alone);
- baselines, in this process with no isolation: a bare `pypdf.PdfReader` open + page count
  (photos: `Image.open`), and the same plus decoding every page's content stream.

Run: `.venv/bin/python bench/checks.py`.
"""

from __future__ import annotations

import io
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pypdf
from PIL import Image
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import pdf_corpus
from zctui.pdf.checks import Checker, check_file

REPEAT = 8
ORDINARY = {
    "valid_multipage.pdf",
    "office_goto_outline_form.pdf",
    "open_dest_array.pdf",
    "text_30_pages.pdf",
    "scan_flate_4_pages.pdf",
    "scan_jpeg_4_pages.pdf",
    "photo_ok.jpg",
    "photo_ok.png",
}


def scan_pdf(pages: int, *, jpeg: bool) -> bytes:
    """Pages that are one full-page image each (A4 at 150 dpi), as an office scanner makes
    them: JPEG (Pillow's PDF writer) or Flate-compressed greyscale (reportlab)."""
    w, h = 1240, 1754
    images = []
    for i in range(pages):
        im = Image.new("RGB" if jpeg else "L", (w, h), (250, 250, 245) if jpeg else 250)
        for y in range(150, h - 150, 40):  # lines of "text"
            im.paste((30, 30, 30) if jpeg else 30, (120, y + i, w - 120 - (y * 7) % 300, y + 14))
        images.append(im)
    buf = io.BytesIO()
    if jpeg:
        images[0].save(buf, "PDF", save_all=True, append_images=images[1:], resolution=150)
        return buf.getvalue()
    c = canvas.Canvas(buf, pagesize=A4)
    for im in images:
        c.drawImage(ImageReader(im), 0, 0, *A4)
        c.showPage()
    c.save()
    return buf.getvalue()


def corpus(folder: Path) -> list[tuple[Path, str]]:
    files = pdf_corpus.build(folder)
    extra = {
        "text_30_pages.pdf": pdf_corpus.multipage_pdf(30),
        "scan_flate_4_pages.pdf": scan_pdf(4, jpeg=False),
        "scan_jpeg_4_pages.pdf": scan_pdf(4, jpeg=True),
    }
    for name, data in extra.items():
        (folder / name).write_bytes(data)
        files[name] = folder / name
    one = [
        (p, "photo" if n.startswith("photo_") and not n.endswith(".pdf") else "pdf")
        for n, p in sorted(files.items())
        if n != "too_large.pdf"  # a sparse file: the size check alone, it would flatter us
    ]
    return one * REPEAT


def bare_open(path: Path, kind: str, decode: bool) -> bool:
    """What a program without isolation would do; True when the file opened."""
    try:
        if kind == "photo":
            with Image.open(path) as im:
                return im.size[0] > 0
        reader = PdfReader(path)
        for page in reader.pages:
            if decode and (contents := page.get_contents()) is not None:
                contents.get_data()
        return True
    except Exception:
        return False


def rate(label: str, n: int, fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    took = time.perf_counter() - started
    print(f"  {label:<58} {took:7.2f} s  {n / took:8.1f} files/s")
    return n / took


def measure(title: str, files: list[tuple[Path, str]]) -> None:
    n = len(files)
    size = sum(p.stat().st_size for p, _ in files)
    pdfs = [p for p, k in files if k == "pdf"]
    photos = [p for p, k in files if k == "photo"]
    print(f"\n{title}: {n} files ({len(pdfs)} PDF, {len(photos)} photos), {size / 1e6:.1f} MB")
    base = rate(
        "baseline: bare PdfReader open + pages (no isolation)",
        n,
        lambda: [bare_open(p, k, False) for p, k in files],
    )
    base_dec = rate(
        "baseline: open + decode each page's contents (no isolation)",
        n,
        lambda: [bare_open(p, k, True) for p, k in files],
    )

    def pool(workers: int) -> None:
        with Checker(workers=workers) as c:
            for _ in c.check_many(pdfs, "pdf"):
                pass
            for _ in c.check_many(photos, "photo"):
                pass

    two = rate("Checker(workers=2).check_many  (children reused)", n, lambda: pool(2))
    with Checker(workers=2) as warm:
        list(warm.check_many(pdfs[:2], "pdf"))  # both children started before the clock

        def warm_pool() -> None:
            for _ in warm.check_many(pdfs, "pdf"):
                pass
            for _ in warm.check_many(photos, "photo"):
                pass

        hot = rate("Checker(workers=2), children already started", n, warm_pool)
    one = rate("Checker(workers=1).check_many  (children reused)", n, lambda: pool(1))
    few = files[: max(1, len(files) // REPEAT)]
    fresh = rate(
        f"check_file per file (a fresh child each; {len(few)} files)",
        len(few),
        lambda: [check_file(p, "photo" if k == "photo" else "pdf") for p, k in few],
    )
    print(f"  time ratio Checker(2)   vs bare open:     {base / two:6.2f}× the time")
    print(f"  time ratio Checker(2)   vs open+decode:   {base_dec / two:6.2f}× the time")
    print(f"  time ratio Checker(1)   vs open+decode:   {base_dec / one:6.2f}× the time")
    print(f"  time ratio warm Checker vs open+decode:   {base_dec / hot:6.2f}× the time")
    print(f"  time ratio check_file   vs bare open:     {base / fresh:6.2f}× the time")


def main() -> None:
    logging.disable(logging.WARNING)  # pypdf's complaints about the bad files in the baseline
    print(f"machine: {os.cpu_count()} cores, pypdf {pypdf.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        files = corpus(Path(tmp))
        measure("mixed corpus (good, bad and hostile files, photos)", files)
        ordinary = [(p, k) for p, k in files if p.name in ORDINARY]
        measure("ordinary files only (what applicants usually attach)", ordinary)


if __name__ == "__main__":
    main()
