"""Concatenating PDFs into one file as it goes, so memory stays bounded by one input object.

pypdf's own PdfWriter keeps every copied object (with its stream data) in memory until it
writes, so merging 100 MB of scans holds 100 MB or more. Here each input is read lazily from
its open file, every object reachable from its pages is renumbered and written out at once,
and the reader is dropped before the next input: peak memory follows the largest input
object, not the sum. The page tree, bookmarks and page labels are written at the end.
Streams are copied as they are (still encoded): nothing is decompressed, so a decompression
bomb costs nothing here.
"""

from __future__ import annotations

import io
import os
import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DecodedStreamObject,
    DictionaryObject,
    EncodedStreamObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    PdfObject,
    StreamObject,
    TextStringObject,
)

# Keys of a page not copied: its parent is our page tree; beads point into article threads
# that lead back through the whole source document.
_PAGE_SKIP = frozenset({"/Parent", "/B"})
# Hand the output to the disk in steps of this many bytes (see `_write_behind`).
_WRITE_BEHIND = 4 << 20
_DONTNEED = getattr(os, "POSIX_FADV_DONTNEED", 4)


class PdfInputError(Exception):
    """An input cannot be copied (unreadable, encrypted with a password, no pages)."""


@dataclass
class Bookmark:
    title: str
    page: int  # index into the output's pages
    top: float | None = None  # points from the top of the page, or None for the whole page
    children: list[Bookmark] = field(default_factory=list)


def _name(s: str) -> NameObject:
    return NameObject(s)


class StreamingPdfWriter:
    """Writes objects to `fh` as they come; `finish` adds the page tree and the catalog."""

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh = fh
        self.offsets: list[int] = [0]  # by object number; 0 = reserved, not written yet
        self.pages: list[int] = []  # object numbers of the output's pages, in order
        self.heights: list[float] = []  # each page's height, for bookmarks to a position
        self.pages_root = self.reserve()
        self._synced = 0  # the output up to here has been handed to the disk
        self.seconds_sync = 0.0  # the final fsync
        fh.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

    def reserve(self) -> int:
        self.offsets.append(0)
        return len(self.offsets) - 1

    def write(self, num: int, obj: PdfObject) -> None:
        self.offsets[num] = self.fh.tell()
        self.fh.write(b"%d 0 obj\n" % num)
        obj.write_to_stream(self.fh)
        self.fh.write(b"\nendobj\n")

    def ref(self, num: int) -> IndirectObject:
        return IndirectObject(num, 0, None)

    def append(self, source: Path | bytes) -> int:
        """Copy every page of a PDF; returns how many. Raises PdfInputError when it cannot."""
        if isinstance(source, bytes):
            return self._append(io.BytesIO(source))
        with open(source, "rb") as fh:
            return self._append(fh)

    def _append(self, fh: IO[bytes]) -> int:
        try:
            reader = PdfReader(fh, strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                raise PdfInputError("文件已加密，需要密码才能打开")
            pages = list(reader.pages)
        except PdfInputError:
            raise
        except Exception as exc:  # pypdf raises many kinds on damaged files
            raise PdfInputError(f"无法解析：{exc}") from exc
        if not pages:
            raise PdfInputError("文件没有页面")
        # Pages are numbered first, so links and annotations between them stay inside.
        mapping: dict[tuple[int, int], int] = {}
        new_nums = []
        for page in pages:
            ref = page.indirect_reference
            num = self.reserve()
            new_nums.append(num)
            if ref is not None:
                mapping[(ref.idnum, ref.generation)] = num
        # A stray reference to the source's catalog or page-tree nodes becomes null rather
        # than dragging the whole source document (again) into the output.
        null = self.reserve()
        self.write(null, NullObject())
        root = reader.trailer.raw_get("/Root")
        if isinstance(root, IndirectObject):
            mapping[(root.idnum, root.generation)] = null
        for page in pages:
            parent = dict.get(page, "/Parent")
            while isinstance(parent, IndirectObject):
                key = (parent.idnum, parent.generation)
                if key in mapping:
                    break
                mapping[key] = null
                node = parent.get_object()
                parent = dict.get(node, "/Parent") if isinstance(node, dict) else None
        queue: deque[tuple[IndirectObject, int]] = deque()
        cache: dict[Any, Any] = getattr(reader, "resolved_objects", {})

        def conv(obj: Any) -> Any:
            if isinstance(obj, IndirectObject):
                key = (obj.idnum, obj.generation)
                num = mapping.get(key)
                if num is None:
                    num = mapping[key] = self.reserve()
                    queue.append((obj, num))
                return IndirectObject(num, 0, None)
            if isinstance(obj, StreamObject):
                new: DictionaryObject = (
                    EncodedStreamObject()
                    if isinstance(obj, EncodedStreamObject)
                    else DecodedStreamObject()
                )
                new._data = obj._data  # type: ignore[attr-defined]  # still encoded
                for k, v in dict.items(obj):
                    dict.__setitem__(new, k, conv(v))
                return new
            if isinstance(obj, DictionaryObject):
                out = DictionaryObject()
                for k, v in dict.items(obj):
                    dict.__setitem__(out, k, conv(v))
                return out
            if isinstance(obj, ArrayObject):
                return ArrayObject([conv(v) for v in obj])
            return obj

        done: list[int] = []
        heights: list[float] = []
        try:
            for page, num in zip(pages, new_nums, strict=True):
                copy = DictionaryObject()
                for k, v in dict.items(page):
                    if k not in _PAGE_SKIP:
                        dict.__setitem__(copy, k, conv(v))
                copy[_name("/Parent")] = self.ref(self.pages_root)
                box = page.mediabox
                self.write(num, copy)
                while queue:
                    src, target = queue.popleft()
                    obj = src.get_object()
                    self.write(target, conv(obj) if obj is not None else NullObject())
                    if isinstance(obj, StreamObject):
                        # Written: let its data go (no page needs a resolved object twice).
                        cache.pop((src.generation, src.idnum), None)
                done.append(num)
                heights.append(float(box.top))
        except Exception as exc:
            raise PdfInputError(f"无法读取页面内容：{exc}") from exc
        self._write_behind()
        # Only a whole input joins the page tree: a half-copied one leaves unused objects.
        self.pages += done
        self.heights += heights
        return len(pages)

    def _write_behind(self) -> None:
        """Start writing what is done to the disk while the next inputs are copied, so that
        the final fsync waits for the tail only, and the output does not fill the page cache.
        (Linux starts the writeback of a dirty range on POSIX_FADV_DONTNEED; elsewhere this
        is a hint or nothing.)"""
        end = self.fh.tell()
        if end - self._synced < _WRITE_BEHIND or not hasattr(os, "posix_fadvise"):
            return
        try:
            self.fh.flush()
            os.posix_fadvise(self.fh.fileno(), self._synced, end - self._synced, _DONTNEED)
        except (OSError, AttributeError, io.UnsupportedOperation):
            return
        self._synced = end

    def _outline(self, items: Sequence[Bookmark], parent: int) -> tuple[int, int, int]:
        """Write a level of bookmarks; returns (first, last, count of visible items)."""
        nums = [self.reserve() for _ in items]
        for i, (item, num) in enumerate(zip(items, nums, strict=True)):
            d = DictionaryObject()
            d[_name("/Title")] = TextStringObject(item.title)
            d[_name("/Parent")] = self.ref(parent)
            if i > 0:
                d[_name("/Prev")] = self.ref(nums[i - 1])
            if i + 1 < len(nums):
                d[_name("/Next")] = self.ref(nums[i + 1])
            page = min(item.page, len(self.pages) - 1)
            dest: list[PdfObject] = [self.ref(self.pages[page])]
            if item.top is None:
                dest.append(_name("/Fit"))
            else:
                y = self.heights[page] - item.top
                dest += [_name("/XYZ"), NullObject(), FloatObject(round(y, 2)), NullObject()]
            d[_name("/Dest")] = ArrayObject(dest)
            if item.children:
                first, last, _ = self._outline(item.children, num)
                d[_name("/First")] = self.ref(first)
                d[_name("/Last")] = self.ref(last)
                d[_name("/Count")] = NumberObject(-len(item.children))  # closed
            self.write(num, d)
        return nums[0], nums[-1], len(nums)

    def finish(
        self,
        outline: Sequence[Bookmark] = (),
        labels: Sequence[tuple[int, str]] = (),
        title: str = "",
    ) -> None:
        """Page tree, bookmarks, page labels ((first page, style) with style r/R/D/a/A),
        document info, cross-reference table."""
        kids = ArrayObject([self.ref(n) for n in self.pages])
        pages = DictionaryObject(
            {
                _name("/Type"): _name("/Pages"),
                _name("/Kids"): kids,
                _name("/Count"): NumberObject(len(self.pages)),
            }
        )
        self.write(self.pages_root, pages)
        catalog = DictionaryObject(
            {_name("/Type"): _name("/Catalog"), _name("/Pages"): self.ref(self.pages_root)}
        )
        if outline and self.pages:
            root = self.reserve()
            first, last, count = self._outline(outline, root)
            self.write(
                root,
                DictionaryObject(
                    {
                        _name("/Type"): _name("/Outlines"),
                        _name("/First"): self.ref(first),
                        _name("/Last"): self.ref(last),
                        _name("/Count"): NumberObject(count),
                    }
                ),
            )
            catalog[_name("/Outlines")] = self.ref(root)
            catalog[_name("/PageMode")] = _name("/UseOutlines")
        if labels:
            nums = ArrayObject()
            for start, style in labels:
                nums.append(NumberObject(start))
                nums.append(DictionaryObject({_name("/S"): _name(f"/{style}")}))
            catalog[_name("/PageLabels")] = DictionaryObject({_name("/Nums"): nums})
        cat_num = self.reserve()
        self.write(cat_num, catalog)
        info_num = self.reserve()
        stamp = datetime.now(UTC).strftime("D:%Y%m%d%H%M%SZ")
        info = DictionaryObject(
            {
                _name("/Producer"): TextStringObject("zctui"),
                _name("/CreationDate"): TextStringObject(stamp),
            }
        )
        if title:
            info[_name("/Title")] = TextStringObject(title)
        self.write(info_num, info)
        for num, off in enumerate(self.offsets):
            if num and not off:  # reserved for an input that failed half-way
                self.write(num, NullObject())
        xref = self.fh.tell()
        out = [b"xref\n0 %d\n0000000000 65535 f \n" % len(self.offsets)]
        out += [b"%010d 00000 n \n" % off for off in self.offsets[1:]]
        self.fh.write(b"".join(out))
        file_id = ByteStringObject(uuid.uuid4().bytes)
        trailer = DictionaryObject(
            {
                _name("/Size"): NumberObject(len(self.offsets)),
                _name("/Root"): self.ref(cat_num),
                _name("/Info"): self.ref(info_num),
                _name("/ID"): ArrayObject([file_id, file_id]),
            }
        )
        self.fh.write(b"trailer\n")
        trailer.write_to_stream(self.fh)
        self.fh.write(b"\nstartxref\n%d\n%%%%EOF\n" % xref)
        self.fh.flush()
        started = time.perf_counter()
        os.fsync(self.fh.fileno())
        self.seconds_sync = time.perf_counter() - started
