"""Pages drawn straight into PDF operators, with a CID-keyed CFF font subset by `cidfont`.

This is the canvas for the usual Chinese fonts on Linux (Noto Sans CJK, Source Han): no fpdf2
(0.3 s to import) and no fontTools (0.4 s to load and subset such a face), so a cover and
summary cost a few hundredths of a second. What it draws is what `FpdfCanvas` draws: text at
a baseline, lines, grey fills, an image; the font is embedded as a Type0 font over a
CIDFontType0 (FontFile3/CIDFontType0C), with widths and a ToUnicode map so the text can be
searched and copied.
"""

from __future__ import annotations

import zlib
from pathlib import Path

from zctui.pdf.cidfont import CidFont

A4 = (595.28, 841.89)


def _num(v: float) -> str:
    s = f"{v:.2f}".rstrip("0").rstrip(".")
    return s if s not in ("-0", "") else "0"


def _stream(dictionary: str, data: bytes, compress: bool = True) -> bytes:
    if compress:
        data = zlib.compress(data, 6)
        dictionary += " /Filter /FlateDecode"
    return b"<<%s /Length %d>>\nstream\n%s\nendstream" % (dictionary.encode(), len(data), data)


class DirectCanvas:
    """Coordinates in points from the top-left corner; `y` of text is its baseline."""

    def __init__(self, font: CidFont, title: str = "") -> None:
        self.width, self.height = A4
        self.pages = 0
        self._font = font
        self._title = title
        # Each page's operators; a text run is (its operators before the string, its GIDs).
        self._pages: list[list[str | tuple[str, list[int]]]] = []
        self._images: list[bytes] = []  # image XObjects, in order (/Im1 …)
        self._page_images: list[set[int]] = []
        self._used: dict[int, int] = {}  # gid -> first code point drawn with it
        self._gids: dict[str, int] = {}

    def _gid(self, ch: str) -> int:
        g = self._gids.get(ch)
        if g is None:
            g = self._gids[ch] = self._font.gid(ord(ch))
        return g

    def new_page(self) -> None:
        self._pages.append([])
        self._page_images.append(set())
        self.pages += 1

    def text(self, x: float, y: float, s: str, size: float) -> None:
        if not s:
            return
        codes = []
        for ch in s:
            g = self._gid(ch)
            self._used.setdefault(g, ord(ch))
            codes.append(g)
        # GIDs here; `output` writes them as the CIDs the subset keeps.
        self._pages[-1].append(
            (f"BT /F1 {_num(size)} Tf {_num(x)} {_num(self.height - y)} Td", codes)
        )

    def measure(self, s: str, size: float) -> float:
        font = self._font
        return sum(font.advance(self._gid(ch)) for ch in s) * size / 1000

    def line(self, x1: float, y1: float, x2: float, y2: float, w: float = 0.5) -> None:
        h = self.height
        self._pages[-1].append(
            f"{_num(w)} w {_num(x1)} {_num(h - y1)} m {_num(x2)} {_num(h - y2)} l S"
        )

    def fill(self, x: float, y: float, w: float, h: float, gray: float) -> None:
        top = self.height - y - h
        self._pages[-1].append(f"q {_num(gray)} g {_num(x)} {_num(top)} {_num(w)} {_num(h)} re f Q")

    def image(self, path: Path, x: float, y: float, w: float, h: float) -> None:
        self._images.append(image_xobject(path))
        n = len(self._images)
        self._page_images[-1].add(n)
        self._pages[-1].append(_place(n, self.height, x, y, w, h))

    def output(self) -> bytes:
        font = self._font
        gids = sorted({0, *self._used})
        cids = font.cids(gids)
        program = font.subset(gids)
        objects: list[bytes] = []

        def add(body: bytes) -> int:
            objects.append(body)
            return len(objects)

        catalog = add(b"")
        pages_num = add(b"")
        tag = "ZCTUIA+"
        name = tag + font.ps_name
        m = font.metrics
        flags = 4 | (1 if m.fixed_pitch else 0)
        file3 = add(_stream(" /Subtype /CIDFontType0C", program))
        descriptor = add(
            (
                f"<</Type /FontDescriptor /FontName /{name} /Flags {flags} "
                f"/FontBBox [{' '.join(map(str, m.bbox))}] /ItalicAngle {_num(m.italic_angle)} "
                f"/Ascent {m.ascent} /Descent {m.descent} /CapHeight {m.cap_height} "
                f"/StemV {round(50 + (m.weight / 65) ** 2)} /FontFile3 {file3} 0 R>>"
            ).encode()
        )
        widths = " ".join(f"{cids[g]} [{font.advance(g)}]" for g in gids)
        registry, ordering, supplement = font.registry
        cidfont = add(
            (
                f"<</Type /Font /Subtype /CIDFontType0 /BaseFont /{name} "
                f"/CIDSystemInfo <</Registry ({registry}) /Ordering ({ordering}) "
                f"/Supplement {supplement}>> /FontDescriptor {descriptor} 0 R "
                f"/DW {font.advance(0)} /W [{widths}]>>"
            ).encode()
        )
        tounicode = add(_stream("", self._cmap(cids).encode()))
        type0 = add(
            (
                f"<</Type /Font /Subtype /Type0 /BaseFont /{name} /Encoding /Identity-H "
                f"/DescendantFonts [{cidfont} 0 R] /ToUnicode {tounicode} 0 R>>"
            ).encode()
        )
        image_nums = [add(img) for img in self._images]
        kids = []
        for ops, imgs in zip(self._pages, self._page_images, strict=True):
            lines = [
                op
                if isinstance(op, str)
                else f"{op[0]} <{''.join(f'{cids[g]:04X}' for g in op[1])}> Tj ET"
                for op in ops
            ]
            stream = add(_stream("", "\n".join(lines).encode("latin-1")))
            xobjects = " ".join(f"/Im{n} {image_nums[n - 1]} 0 R" for n in sorted(imgs))
            resources = f"/Font <</F1 {type0} 0 R>>"
            if xobjects:
                resources += f" /XObject <<{xobjects}>>"
            kids.append(
                add(
                    (
                        f"<</Type /Page /Parent {pages_num} 0 R "
                        f"/MediaBox [0 0 {_num(self.width)} {_num(self.height)}] "
                        f"/Resources <<{resources}>> /Contents {stream} 0 R>>"
                    ).encode()
                )
            )
        objects[catalog - 1] = f"<</Type /Catalog /Pages {pages_num} 0 R>>".encode()
        refs = " ".join(f"{k} 0 R" for k in kids)
        objects[pages_num - 1] = f"<</Type /Pages /Kids [{refs}] /Count {len(kids)}>>".encode()
        info = add(f"<</Producer (zctui) /Title <{_utf16(self._title, bom=True)}>>>".encode())
        return assemble(objects, catalog, info)

    def _cmap(self, cids: dict[int, int]) -> str:
        pairs = [
            f"<{cids[g]:04X}> <{_utf16(chr(cp))}>"
            for g, cp in sorted(self._used.items())
            if g in cids and g != 0
        ]
        blocks = []
        for k in range(0, len(pairs), 100):  # at most 100 entries a block
            chunk = pairs[k : k + 100]
            blocks.append(f"{len(chunk)} beginbfchar\n" + "\n".join(chunk) + "\nendbfchar")
        return (
            "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CIDSystemInfo <</Registry (Adobe) /Ordering (UCS) /Supplement 0>> def\n"
            "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
            "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
            + "\n".join(blocks)
            + "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"
        )


def _utf16(s: str, bom: bool = False) -> str:
    return (("\ufeff" if bom and s else "") + s).encode("utf-16-be").hex().upper()


def _place(n: int, page_h: float, x: float, y: float, w: float, h: float) -> str:
    return f"q {_num(w)} 0 0 {_num(h)} {_num(x)} {_num(page_h - y - h)} cm /Im{n} Do Q"


def image_xobject(path: Path) -> bytes:
    """An image XObject: a JPEG as it is, anything else PIL reads as flate-compressed RGB
    (transparency laid over white paper)."""
    from PIL import Image

    with Image.open(path) as im:
        head = f" /Type /XObject /Subtype /Image /Width {im.width} /Height {im.height}"
        if im.format == "JPEG" and im.mode in ("L", "RGB"):
            space = "/DeviceGray" if im.mode == "L" else "/DeviceRGB"
            return _stream(
                f"{head} /ColorSpace {space} /BitsPerComponent 8 /Filter /DCTDecode",
                path.read_bytes(),
                compress=False,
            )
        rgba = im.convert("RGBA")
    flat = Image.new("RGB", rgba.size, (255, 255, 255))
    flat.paste(rgba, mask=rgba.getchannel("A"))
    return _stream(f"{head} /ColorSpace /DeviceRGB /BitsPerComponent 8", flat.tobytes())


def image_pdf(path: Path, x: float, y: float, w: float, h: float) -> bytes:
    """A one-page A4 PDF showing the image in the box (x, y from the top-left, in points)."""
    page_w, page_h = A4
    content = _place(1, page_h, x, y, w, h).encode()
    objects = [
        b"<</Type /Catalog /Pages 2 0 R>>",
        b"<</Type /Pages /Kids [3 0 R] /Count 1>>",
        (
            f"<</Type /Page /Parent 2 0 R /MediaBox [0 0 {_num(page_w)} {_num(page_h)}] "
            "/Resources <</XObject <</Im1 5 0 R>>>> /Contents 4 0 R>>"
        ).encode(),
        _stream("", content),
        image_xobject(path),
        b"<</Producer (zctui)>>",
    ]
    return assemble(objects, 1, 6)


def assemble(objects: list[bytes], catalog: int, info: int) -> bytes:
    """A whole PDF file from its objects (numbered from 1)."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for num, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (num, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<</Size %d /Root %d 0 R /Info %d 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        catalog,
        info,
        xref,
    )
    return bytes(out)
