"""The files the checks are tested (and benchmarked) on, made at run time: nothing binary is
committed. Ordinary PDFs come from reportlab and pypdf, as a Word/WPS/LibreOffice export would
look (an /OpenAction to page 1, outlines, form fields); the hostile ones are written by hand so
their structure is exactly what the test names."""

from __future__ import annotations

import io
import os
import random
import zlib
from pathlib import Path

from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    NameObject,
)
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

BOMB_BYTES = 400 * 1024 * 1024  # what the Flate bomb expands to


def multipage_pdf(pages: int = 3, title: str = "document") -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setTitle(title)
    for i in range(pages):
        c.setFont("Helvetica", 14)
        c.drawString(72, 760, f"{title}: page {i + 1} of {pages}")
        for line in range(40):
            c.drawString(72, 720 - 14 * line, f"line {line} " + "lorem ipsum " * 6)
        c.showPage()
    c.save()
    return buf.getvalue()


def office_pdf() -> bytes:
    """What Word, WPS or LibreOffice hand in: outline, a fillable field, a link, and an
    /OpenAction that only opens page 1 (as a /GoTo action; see also `open_dest_pdf`)."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.bookmarkPage("p1")
    c.addOutlineEntry("Chapter 1", "p1", level=0)
    c.drawString(72, 760, "Name:")
    c.acroForm.textfield(name="name", x=120, y=750, width=200, height=20, value="Yang Feng")
    c.acroForm.checkbox(name="agree", x=120, y=720, checked=True)
    c.linkURL("https://example.org/", (72, 700, 200, 712))
    c.showPage()
    c.bookmarkPage("p2")
    c.addOutlineEntry("Chapter 2", "p2", level=0)
    c.drawString(72, 760, "page 2")
    c.showPage()
    c.save()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(buf.getvalue())))
    first = writer.pages[0].indirect_reference
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {
            NameObject("/S"): NameObject("/GoTo"),
            NameObject("/D"): ArrayObject([first, NameObject("/Fit")]),
        }
    )
    writer.add_outline_item(title="Appendix", page_number=1)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def open_dest_pdf() -> bytes:
    """An /OpenAction that is a bare destination array (browsers' print-to-PDF, pdfTeX)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(multipage_pdf(2))))
    writer.open_destination = writer.pages[0]
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def raw_pdf(objects: list[bytes], trailer_extra: bytes = b"") -> bytes:
    """A PDF written by hand: object i+1 is objects[i]; object 1 is the catalog."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\n" % (len(objects) + 1, trailer_extra)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>"
HELLO = stream(b"BT /F1 12 Tf 72 760 Td (hello) Tj ET")


def one_page(catalog_extra: bytes = b"", more: tuple[bytes, ...] = (), page: bytes = PAGE) -> bytes:
    """Catalog (1), pages (2), page (3), contents (4), then `more` as objects 5, 6 …"""
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b">>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            page,
            HELLO,
            *more,
        ]
    )


def javascript_pdf() -> bytes:
    """A script that runs when the file is opened (R5: not acceptable in an upload)."""
    return one_page(b"/OpenAction 5 0 R", (b"<< /S /JavaScript /JS (app.alert\\('hi'\\);) >>",))


def document_js_pdf() -> bytes:
    """A document-level script (the /Names /JavaScript tree), run when the file opens."""
    return one_page(
        b"/Names << /JavaScript << /Names [(init) 5 0 R] >> >>",
        (b"<< /S /JavaScript /JS (this.print\\(\\);) >>",),
    )


def launch_pdf() -> bytes:
    """A link that starts a program."""
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 100 100]"
        b" /A << /S /Launch /F (cmd.exe) /Win << /F (cmd.exe) /P (/c calc) >> >> >>] >>"
    )
    return one_page(page=page)


def embedded_file_pdf() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(multipage_pdf(1))))
    writer.add_attachment("说明.docx", b"PK\x03\x04 not really a docx")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypted_pdf(user_password: str = "secret") -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(multipage_pdf(1))))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def zero_page_pdf() -> bytes:
    return raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"])


def truncated_pdf() -> bytes:
    data = multipage_pdf(3)
    return data[: len(data) * 2 // 3]


def corrupt_pdf() -> bytes:
    """Structure intact, but the page's content stream is not the Flate data it claims."""
    junk = bytes(random.Random(4).randrange(256) for _ in range(400))
    bad = stream(junk, b"/Filter /FlateDecode ")
    return one_page(more=(bad,), page=PAGE.replace(b"4 0 R", b"5 0 R"))


def flate_bomb_pdf(expands_to: int = BOMB_BYTES) -> bytes:
    """A page content stream of `expands_to` zero bytes, Flate-compressed twice: a few KB on
    disk. A reader that decodes it whole needs hundreds of MB."""
    co = zlib.compressobj(1)
    block = bytes(1 << 20)
    parts = [co.compress(block) for _ in range(expands_to >> 20)]
    parts.append(co.flush())
    twice = zlib.compress(b"".join(parts), 9)
    bomb = stream(twice, b"/Filter [/FlateDecode /FlateDecode] ")
    return one_page(more=(bomb,), page=PAGE.replace(b"4 0 R", b"5 0 R"))


def jpeg(width: int, height: int, *, noise: bool = False, quality: int = 85) -> bytes:
    """A JPEG; with `noise` it barely compresses (to pass a size limit on purpose)."""
    if noise:
        im = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    else:
        im = Image.new("RGB", (width, height), (70, 110, 190))
        for y in range(0, height, 8):  # a few stripes, like a face on a background
            im.paste((230, 200, 180), (width // 4, y, 3 * width // 4, y + 4))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def png(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


def build(folder: Path) -> dict[str, Path]:
    """Every corpus file in `folder`, by name."""
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {
        "valid_multipage.pdf": multipage_pdf(5),
        "office_goto_outline_form.pdf": office_pdf(),
        "open_dest_array.pdf": open_dest_pdf(),
        "truncated.pdf": truncated_pdf(),
        "corrupt_stream.pdf": corrupt_pdf(),
        "encrypted.pdf": encrypted_pdf(),
        "owner_password_only.pdf": encrypted_pdf(user_password=""),
        "zero_pages.pdf": zero_page_pdf(),
        "javascript_openaction.pdf": javascript_pdf(),
        "javascript_document.pdf": document_js_pdf(),
        "launch_link.pdf": launch_pdf(),
        "embedded_file.pdf": embedded_file_pdf(),
        "flate_bomb.pdf": flate_bomb_pdf(),
        "photo_renamed.pdf": jpeg(300, 400),
        "word.docx.pdf": b"PK\x03\x04\x14\x00\x06\x00word/document.xml" + bytes(200),
        "empty.pdf": b"",
        "photo_ok.jpg": jpeg(358, 441),
        "photo_ok.png": png(300, 420),
        "photo_big.jpg": jpeg(640, 900, noise=True, quality=95),
        "photo_landscape.jpg": jpeg(600, 400),
        "photo_truncated.jpg": jpeg(358, 441, noise=True)[:6000],
        "photo_is_pdf.jpg": multipage_pdf(1),
    }
    out = {}
    for name, data in files.items():
        (folder / name).write_bytes(data)
        out[name] = folder / name
    # Too large: 21 MB, sparse (no disk used); its size alone must refuse it.
    big = folder / "too_large.pdf"
    with big.open("wb") as fh:
        fh.write(multipage_pdf(1))
        fh.truncate(21 * 1024 * 1024)
    out["too_large.pdf"] = big
    return out
