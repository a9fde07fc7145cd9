"""A CID-keyed CFF font (Noto Sans CJK, Source Han …) read and subset directly from the file.

fpdf2 loads such a face with fontTools: it decodes the whole cmap (45,000 entries) and hmtx
(65,535), runs the CFF subsetter (which executes every kept charstring twice) and compiles
the font twice, after importing fpdf itself: about 0.7 s before a single page, most of a
dossier's fixed cost. Here only what is used is read: the cmap and hmtx entries of the
characters drawn (binary search, `struct`), and the CFF's indexes by offset. The subset keeps
the glyphs drawn, with their original CIDs (so a content stream's Identity-H codes are the
CIDs and no remapping is needed), their Font DICTs, and every subroutine they call; the
subroutines they do not call are replaced by a one-byte `return`, so the subroutine numbers
inside the charstrings stay valid without rewriting them.

Anything unexpected (a TrueType or name-keyed CFF font, a CFF2 table, charstring arithmetic)
raises `Unsupported`, and the caller draws with fpdf2 instead.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_I16 = struct.Struct(">h")


class Unsupported(Exception):
    """The font is not a CID-keyed CFF OpenType face this module can subset."""


def _u16(b: bytes | mmap.mmap, o: int) -> int:
    return int(_U16.unpack_from(b, o)[0])


def _u32(b: bytes | mmap.mmap, o: int) -> int:
    return int(_U32.unpack_from(b, o)[0])


def _i16(b: bytes | mmap.mmap, o: int) -> int:
    return int(_I16.unpack_from(b, o)[0])


class _Index:
    """A CFF INDEX, read lazily: `count`, `item(i)`, `end` (the offset after it)."""

    def __init__(self, data: bytes | mmap.mmap, pos: int) -> None:
        self.data = data
        self.count = _u16(data, pos)
        if self.count == 0:
            self.off_size = 0
            self.base = self.end = pos + 2
            return
        self.off_size = data[pos + 2]
        self.offsets_at = pos + 3
        self.base = pos + 3 + (self.count + 1) * self.off_size - 1
        self.end = self.base + self._offset(self.count)

    def _offset(self, i: int) -> int:
        at = self.offsets_at + i * self.off_size
        return int.from_bytes(self.data[at : at + self.off_size], "big")

    def item(self, i: int) -> bytes:
        if not 0 <= i < self.count:
            raise Unsupported(f"CFF index {i} out of range")
        return bytes(self.data[self.base + self._offset(i) : self.base + self._offset(i + 1)])


def _index_bytes(items: list[bytes]) -> bytes:
    if not items:
        return b"\x00\x00"
    total = sum(len(x) for x in items) + 1
    size = 1 if total < 1 << 8 else 2 if total < 1 << 16 else 3 if total < 1 << 24 else 4
    out = bytearray(_U16.pack(len(items)) + bytes([size]))
    off = 1
    out += off.to_bytes(size, "big")
    for x in items:
        off += len(x)
        out += off.to_bytes(size, "big")
    for x in items:
        out += x
    return bytes(out)


# A DICT as (operator, operand values, the entry's raw bytes).
_Entry = tuple[int, list[float], bytes]


def _parse_dict(d: bytes) -> list[_Entry]:
    out: list[_Entry] = []
    args: list[float] = []
    start = i = 0
    while i < len(d):
        b = d[i]
        if b <= 21:
            if b == 12:
                op, i = 1200 + d[i + 1], i + 2
            else:
                op, i = b, i + 1
            out.append((op, args, d[start:i]))
            args, start = [], i
        elif b == 28:
            args.append(_i16(d, i + 1))
            i += 3
        elif b == 29:
            args.append(int(struct.unpack_from(">i", d, i + 1)[0]))
            i += 5
        elif b == 30:  # a real: nibbles up to 0xf (its value is never needed here)
            i += 1
            while d[i] & 0x0F != 0x0F and d[i] >> 4 != 0x0F:
                i += 1
            i += 1
            args.append(0.0)
        elif 32 <= b <= 246:
            args.append(b - 139)
            i += 1
        elif 247 <= b <= 250:
            args.append((b - 247) * 256 + d[i + 1] + 108)
            i += 2
        elif 251 <= b <= 254:
            args.append(-(b - 251) * 256 - d[i + 1] - 108)
            i += 2
        else:
            raise Unsupported(f"bad DICT byte {b}")
    return out


def _int5(v: int) -> bytes:
    return b"\x1d" + struct.pack(">i", v)


def _op(op: int) -> bytes:
    return bytes([12, op - 1200]) if op >= 1200 else bytes([op])


def _bias(count: int) -> int:
    return 107 if count < 1240 else 1131 if count < 33900 else 32768


_BINARY = {10: lambda a, b: a + b, 11: lambda a, b: a - b, 24: lambda a, b: a * b}


@dataclass
class _Scan:
    """Marks the subroutines the charstrings call; tracks stems for hintmask lengths."""

    gsubrs: _Index
    used_g: set[int] = field(default_factory=set)
    stack: list[float] = field(default_factory=list)
    stems: int = 0

    def glyph(self, cs: bytes, lsubrs: _Index | None, used_l: set[int]) -> None:
        self.stack.clear()
        self.stems = 0
        self._run(cs, lsubrs, used_l, 0)

    def _run(self, cs: bytes, lsubrs: _Index | None, used_l: set[int], depth: int) -> bool:
        """True when the glyph ended (endchar)."""
        if depth > 10:
            raise Unsupported("subroutines nested too deep")
        stack = self.stack
        i, n = 0, len(cs)
        while i < n:
            b = cs[i]
            if b >= 32:
                if b <= 246:
                    stack.append(b - 139)
                    i += 1
                elif b <= 250:
                    stack.append((b - 247) * 256 + cs[i + 1] + 108)
                    i += 2
                elif b <= 254:
                    stack.append(-(b - 251) * 256 - cs[i + 1] - 108)
                    i += 2
                else:
                    stack.append(int(struct.unpack_from(">i", cs, i + 1)[0]) / 65536)
                    i += 5
            elif b == 28:
                stack.append(_i16(cs, i + 1))
                i += 3
            elif b in (1, 3, 18, 23):  # hstem vstem hstemhm vstemhm
                self.stems += len(stack) // 2
                stack.clear()
                i += 1
            elif b in (19, 20):  # hintmask cntrmask: an implied vstem, then the mask bytes
                self.stems += len(stack) // 2
                stack.clear()
                i += 1 + (self.stems + 7) // 8
            elif b in (10, 29):  # callsubr callgsubr
                if not stack:
                    raise Unsupported("callsubr without an operand")
                if b == 10:
                    if lsubrs is None:
                        raise Unsupported("callsubr without local subroutines")
                    subrs, used = lsubrs, used_l
                else:
                    subrs, used = self.gsubrs, self.used_g
                num = int(stack.pop()) + _bias(subrs.count)
                used.add(num)
                if self._run(subrs.item(num), lsubrs, used_l, depth + 1):
                    return True
                i += 1
            elif b == 11:  # return
                return False
            elif b == 14:  # endchar
                return True
            elif b == 12:
                esc = cs[i + 1]
                if esc in _BINARY and len(stack) >= 2:
                    y, x = stack.pop(), stack.pop()
                    stack.append(_BINARY[esc](x, y))
                elif esc in (34, 35, 36, 37, 0):  # flex ops, dotsection
                    stack.clear()
                else:
                    raise Unsupported(f"charstring operator 12 {esc}")
                i += 2
            else:
                stack.clear()
                i += 1
        return False


@dataclass(frozen=True)
class Metrics:
    units_per_em: int
    bbox: tuple[int, int, int, int]
    ascent: int
    descent: int
    cap_height: int
    italic_angle: float
    weight: int
    fixed_pitch: bool


def face_count(path: Path) -> int:
    """How many faces a font file holds (1 unless it is a collection)."""
    with open(path, "rb") as fh:
        head = fh.read(12)
    if len(head) < 12:
        raise Unsupported("not a font file")
    return _u32(head, 8) if head[:4] == b"ttcf" else 1


class Sfnt:
    """One face of a TrueType or OpenType font file or collection: its tables, its Unicode
    cmap (looked up by binary search, never decoded whole) and its names."""

    def __init__(self, path: Path, index: int = 0) -> None:
        with open(path, "rb") as fh:
            try:
                self._map = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
            except ValueError as exc:  # an empty file
                raise Unsupported(f"unreadable font: {exc}") from exc
        try:
            self._open(index)
        except (struct.error, IndexError, ValueError, UnicodeDecodeError) as exc:
            self._map.close()
            raise Unsupported(f"unreadable font: {exc}") from exc
        except Unsupported:
            self._map.close()
            raise

    def _open(self, index: int) -> None:
        data = self._map
        base = 0
        if data[:4] == b"ttcf":
            if index >= _u32(data, 8):
                raise Unsupported(f"no face {index} in the collection")
            base = _u32(data, 12 + 4 * index)
        self.flavour = bytes(data[base : base + 4])
        if self.flavour not in (b"OTTO", b"\x00\x01\x00\x00", b"true"):
            raise Unsupported("not a TrueType or OpenType face")
        tables: dict[bytes, tuple[int, int]] = {}
        for k in range(_u16(data, base + 4)):
            rec = base + 12 + 16 * k
            tables[bytes(data[rec : rec + 4])] = (_u32(data, rec + 8), _u32(data, rec + 12))
        if b"cmap" not in tables:
            raise Unsupported("no cmap table")
        self._tables = tables
        self._cmap = self._pick_cmap(tables[b"cmap"][0])

    def _pick_cmap(self, at: int) -> tuple[int, int]:
        data = self._map
        best: tuple[int, int, int] | None = None  # (rank, format, offset)
        for k in range(_u16(data, at + 2)):
            rec = at + 4 + 8 * k
            pid, eid, off = _u16(data, rec), _u16(data, rec + 2), _u32(data, rec + 4)
            fmt = _u16(data, at + off)
            if fmt not in (4, 12):
                continue
            rank = 0 if (pid, eid) == (3, 10) else 1 if pid == 0 and fmt == 12 else 2
            if (pid, eid) not in ((3, 10), (3, 1)) and pid != 0:
                continue
            if best is None or rank < best[0]:
                best = (rank, fmt, at + off)
        if best is None:
            raise Unsupported("no Unicode cmap")
        return best[1], best[2]

    def gid(self, code: int) -> int:
        """The glyph of a code point (0, .notdef, when the font has none)."""
        data = self._map
        fmt, at = self._cmap
        if fmt == 12:
            lo, hi = 0, _u32(data, at + 12) - 1
            while lo <= hi:
                mid = (lo + hi) // 2
                g = at + 16 + 12 * mid
                start, end = _u32(data, g), _u32(data, g + 4)
                if code < start:
                    hi = mid - 1
                elif code > end:
                    lo = mid + 1
                else:
                    return _u32(data, g + 8) + code - start
            return 0
        if code > 0xFFFF:
            return 0
        segs = _u16(data, at + 6) // 2
        ends = at + 14
        lo, hi = 0, segs - 1
        while lo < hi:  # the first segment whose end >= code
            mid = (lo + hi) // 2
            if _u16(data, ends + 2 * mid) < code:
                lo = mid + 1
            else:
                hi = mid
        starts = ends + 2 * segs + 2
        start = _u16(data, starts + 2 * lo)
        if code < start:
            return 0
        delta_at = starts + 2 * segs + 2 * lo
        range_at = delta_at + 2 * segs
        delta, roff = _u16(data, delta_at), _u16(data, range_at)
        if roff == 0:
            return (code + delta) & 0xFFFF
        g = _u16(data, range_at + roff + 2 * (code - start))
        return (g + delta) & 0xFFFF if g else 0

    def _name(self, ids: tuple[int, ...]) -> str:
        """The first of these name IDs the face has, in US English or else any language."""
        if b"name" not in self._tables:
            return ""
        data, at = self._map, self._tables[b"name"][0]
        strings = at + _u16(data, at + 4)
        found: dict[tuple[int, int], str] = {}  # (rank of the ID, rank of the record) -> text
        for k in range(_u16(data, at + 2)):
            rec = at + 6 + 12 * k
            pid, eid, lang, nid = (_u16(data, rec + 2 * j) for j in range(4))
            if nid not in ids:
                continue
            raw = bytes(data[strings + _u16(data, rec + 10) :][: _u16(data, rec + 8)])
            if pid == 3 and eid in (0, 1, 10):
                found[(ids.index(nid), 0 if lang == 0x409 else 1)] = raw.decode("utf-16-be")
            elif pid == 0:
                found[(ids.index(nid), 2)] = raw.decode("utf-16-be")
            elif pid == 1 and eid == 0:
                found[(ids.index(nid), 3)] = raw.decode("latin-1")
        return found[min(found)] if found else ""

    def family_name(self) -> str:
        return self._name((16, 1))  # the typographic family, else the family

    def _postscript_name(self) -> str:
        found = self._name((6,))
        return "".join(c for c in found if c.isascii() and (c.isalnum() or c in "-_"))

    def close(self) -> None:
        self._map.close()


class CidFont(Sfnt):
    """One face of an OpenType (CFF, CID-keyed) font file or collection."""

    def _open(self, index: int) -> None:
        super()._open(index)
        tables, data = self._tables, self._map
        if self.flavour != b"OTTO":
            raise Unsupported("not a CFF-flavoured OpenType face")
        for tag in (b"CFF ", b"head", b"hhea", b"hmtx"):
            if tag not in tables:
                raise Unsupported(f"no {tag.decode()} table")
        self.ps_name = ""
        head, hhea = tables[b"head"][0], tables[b"hhea"][0]
        self.units_per_em = _u16(data, head + 18)
        self._hmtx = tables[b"hmtx"][0]
        self._n_hmetrics = _u16(data, hhea + 34)
        self._read_cff(tables[b"CFF "][0])
        # A collection's faces share one CFF table: name the face used.
        self.ps_name = self._postscript_name() or self.ps_name
        self.metrics = self._metrics(head, hhea)
        self._widths: dict[int, int] = {}

    def advance(self, gid: int) -> int:
        """The glyph's advance in 1/1000 em, rounded as fpdf2 rounds it."""
        w = self._widths.get(gid)
        if w is None:
            at = self._hmtx + 4 * min(gid, self._n_hmetrics - 1)
            w = self._widths[gid] = round(_u16(self._map, at) * 1000 / self.units_per_em)
        return w

    def _metrics(self, head: int, hhea: int) -> Metrics:
        data, t = self._map, self._tables
        scale = 1000 / self.units_per_em
        x0, y0, x1, y1 = (round(_i16(data, head + 36 + 2 * k) * scale) for k in range(4))
        ascent = round(_i16(data, hhea + 4) * scale)
        descent = round(_i16(data, hhea + 6) * scale)
        cap, weight = ascent, 400
        if b"OS/2" in t:
            os2 = t[b"OS/2"][0]
            weight = _u16(data, os2 + 4)
            if _u16(data, os2) >= 2:
                cap = round(_i16(data, os2 + 88) * scale)
        angle, fixed = 0.0, False
        if b"post" in t:
            post = t[b"post"][0]
            angle = struct.unpack_from(">i", data, post + 4)[0] / 65536
            fixed = _u32(data, post + 12) != 0
        return Metrics(
            self.units_per_em, (x0, y0, x1, y1), ascent, descent, cap, angle, weight, fixed
        )

    # ------------------------------------------------------------------ CFF

    def _read_cff(self, at: int) -> None:
        data = self._map
        if data[at] != 1:
            raise Unsupported("CFF2 or an unknown CFF version")
        self._cff = at
        names = _Index(data, at + data[at + 2])
        self.ps_name = names.item(0).decode("latin-1")
        tops = _Index(data, names.end)
        self._top = _parse_dict(tops.item(0))
        strings = _Index(data, tops.end)
        self._strings_raw = bytes(data[tops.end : strings.end])
        self._gsubrs = _Index(data, strings.end)
        top = {op: args for op, args, _ in self._top}
        if 1230 not in top:
            raise Unsupported("a name-keyed CFF font (no ROS)")
        if 1237 not in top or 1236 not in top or 17 not in top:
            raise Unsupported("a CID font without FDSelect, FDArray or CharStrings")
        self.ros = top[1230]
        self._charstrings = _Index(data, at + int(top[17][0]))
        self._fdarray = _Index(data, at + int(top[1236][0]))
        self._fdselect = at + int(top[1237][0])
        self._charset = at + int(top[15][0]) if 15 in top else None
        self._registry = self._sid(int(self.ros[0])), self._sid(int(self.ros[1]))

    def _sid(self, sid: int) -> str:
        if sid < 391:
            raise Unsupported("a standard string in ROS")  # never so in CID fonts
        return _Index(self._strings_raw, 0).item(sid - 391).decode("latin-1")

    def _fd_of(self, gids: list[int]) -> dict[int, int]:
        data, at = self._map, self._fdselect
        fmt = data[at]
        if fmt == 0:
            return {g: data[at + 1 + g] for g in gids}
        if fmt != 3:
            raise Unsupported(f"FDSelect format {fmt}")
        n = _u16(data, at + 1)
        firsts = [_u16(data, at + 3 + 3 * k) for k in range(n + 1)]
        out = {}
        for g in gids:
            lo, hi = 0, n - 1
            while lo < hi:  # the last range whose first <= g
                mid = (lo + hi + 1) // 2
                if firsts[mid] <= g:
                    lo = mid
                else:
                    hi = mid - 1
            out[g] = data[at + 3 + 3 * lo + 2]
        return out

    def cids(self, gids: list[int]) -> dict[int, int]:
        """GID → CID, from the charset."""
        if self._charset is None:
            return {g: g for g in gids}  # no charset: the identity
        data, at = self._map, self._charset
        fmt = data[at]
        want = set(gids)
        out = {0: 0} if 0 in want else {}
        if fmt == 0:
            for g in want - {0}:
                out[g] = _u16(data, at + 1 + 2 * (g - 1))
            return out
        if fmt not in (1, 2):
            raise Unsupported(f"charset format {fmt}")
        gid, pos, total = 1, at + 1, self._charstrings.count
        step = 3 if fmt == 1 else 4
        while gid < total and len(out) < len(want):
            first = _u16(data, pos)
            left = data[pos + 2] if fmt == 1 else _u16(data, pos + 2)
            for g in want:
                if gid <= g <= gid + left:
                    out[g] = first + g - gid
            gid += left + 1
            pos += step
        return out

    def subset(self, gids: list[int]) -> bytes:
        """A CFF font program (CIDFontType0C) holding these glyphs, and .notdef, under their
        original CIDs."""
        keep = sorted({0, *gids})
        cids = self.cids(keep)
        fds = self._fd_of(keep)
        used_fds = sorted(set(fds.values()))
        new_fd = {fd: k for k, fd in enumerate(used_fds)}
        fd_dicts = {fd: _parse_dict(self._fdarray.item(fd)) for fd in used_fds}
        privates: dict[int, tuple[list[_Entry], _Index | None]] = {}
        for fd, entries in fd_dicts.items():
            priv = next((a for op, a, _ in entries if op == 18), None)
            if priv is None:
                raise Unsupported("a Font DICT without Private")
            size, off = int(priv[0]), self._cff + int(priv[1])
            pdict = _parse_dict(bytes(self._map[off : off + size]))
            subrs_off = next((a[0] for op, a, _ in pdict if op == 19), None)
            local = _Index(self._map, off + int(subrs_off)) if subrs_off is not None else None
            privates[fd] = (pdict, local)
        scan = _Scan(self._gsubrs)
        used_local: dict[int, set[int]] = {fd: set() for fd in used_fds}
        charstrings = [self._charstrings.item(g) for g in keep]
        try:
            for g, cs in zip(keep, charstrings, strict=True):
                scan.glyph(cs, privates[fds[g]][1], used_local[fds[g]])
        except (Unsupported, IndexError, struct.error):
            # Charstrings this scan cannot follow: keep every subroutine (a larger font,
            # still a correct one) rather than fail after the pages are drawn.
            scan.used_g = set(range(self._gsubrs.count))
            for fd in used_fds:
                local = privates[fd][1]
                used_local[fd] = set(range(local.count)) if local is not None else set()

        def stubbed(index: _Index | None, used: set[int]) -> bytes:
            if index is None:
                return b""
            return _index_bytes(
                [index.item(k) if k in used else b"\x0b" for k in range(index.count)]
            )

        gsubrs = stubbed(self._gsubrs, scan.used_g)
        name = _index_bytes([self.ps_name.encode("latin-1")])
        skip = {15, 16, 17, 18, 1236, 1237}
        top_fixed = b"".join(raw for op, _, raw in self._top if op not in skip)
        top_len = len(top_fixed) + 4 * 6  # four offsets, 5 bytes + 1-byte operator, …
        top_len += 2  # … and FDArray, FDSelect are two-byte operators
        header = b"\x01\x00\x04\x04"
        top_index_len = len(_index_bytes([b"\x00" * top_len]))
        charset_at = len(header) + len(name) + top_index_len + len(self._strings_raw)
        charset_at += len(gsubrs)
        charset = b"\x00" + b"".join(_U16.pack(cids[g]) for g in keep[1:])
        fdselect_at = charset_at + len(charset)
        fdselect = b"\x00" + bytes(new_fd[fds[g]] for g in keep)
        charstrings_at = fdselect_at + len(fdselect)
        cs_index = _index_bytes(charstrings)
        fdarray_at = charstrings_at + len(cs_index)
        # Font DICTs point at their Private DICTs, which follow the FDArray.
        fd_fixed = [b"".join(raw for op, _, raw in fd_dicts[fd] if op != 18) for fd in used_fds]
        fd_lens = [len(x) + 5 + 5 + 1 for x in fd_fixed]
        fdarray_len = len(_index_bytes([b"\x00" * n for n in fd_lens]))
        pos = fdarray_at + fdarray_len
        private_blobs, fd_items = [], []
        for fd, fixed in zip(used_fds, fd_fixed, strict=True):
            pdict, local = privates[fd]
            body = b"".join(raw for op, _, raw in pdict if op != 19)
            if local is not None:
                body += _int5(len(body) + 6) + b"\x13"  # Subrs, just after this DICT
            blob = body + stubbed(local, used_local[fd])
            fd_items.append(fixed + _int5(len(body)) + _int5(pos) + b"\x12")
            private_blobs.append(blob)
            pos += len(blob)
        fdarray = _index_bytes(fd_items)
        assert len(fdarray) == fdarray_len
        top = top_fixed + b"".join(
            (
                _int5(charset_at) + b"\x0f",
                _int5(fdselect_at) + _op(1237),
                _int5(charstrings_at) + b"\x11",
                _int5(fdarray_at) + _op(1236),
            )
        )
        assert len(top) == top_len
        out = b"".join(
            (header, name, _index_bytes([top]), self._strings_raw, gsubrs, charset, fdselect)
        )
        assert len(out) == charstrings_at
        return out + cs_index + fdarray + b"".join(private_blobs)

    @property
    def registry(self) -> tuple[str, str, int]:
        return self._registry[0], self._registry[1], int(self.ros[2])
