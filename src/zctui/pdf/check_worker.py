"""The child process that looks inside untrusted files (run as `python -P -m zctui.pdf.check_worker
LIMITS_JSON`; only `zctui.pdf.checks` starts it).

It reads one JSON request per line on stdin and answers one JSON line on stdout with *facts*
(a code, its parameters, warning codes, pages, media type); the parent turns them into the
Chinese verdict. Limits are set before pypdf or Pillow are imported: address space for the
whole process, CPU time per file (the soft limit is moved up before each file, so a file gets
its own budget; SIGXCPU ends the process, the parent reports it). No core dumps, no files
written, no external decoders (pypdf's jbig2dec is switched off).

Policy on active content (the parent's messages say what to do):
- JavaScript anywhere (document scripts, /OpenAction, /AA triggers, links, form fields) and
  /Launch actions are REJECTED. They run code in the reviewer's reader when the file is
  opened or clicked, no ordinary export of a scan, a Word/WPS/LibreOffice document, pdfTeX or
  a browser's print-to-PDF emits them, and "print to PDF" removes them.
- Embedded files (/EmbeddedFiles, file-attachment annotations) are REJECTED. Reviewers read
  pages; a file inside the file is never shown in the review or the printed dossier, so what
  it holds would silently not count (and it is the usual carrier of malware). The applicant
  attaches its content as pages instead.
- /OpenAction is judged by what it does: a destination array or a /GoTo (what Word, WPS,
  LibreOffice and browsers write to open page 1) is fine, as are /Named and /URI actions.
  Form fields, outlines, links and signatures are fine.
- Actions that reach outside the document without running code (/SubmitForm, /ImportData,
  /GoToR, /GoToE) and multimedia (/Sound, /Movie, /RichMedia, /Rendition without script) and
  XFA forms are a WARNING: harmless for reading, merely not carried into the dossier.

Decompression bombs: every stream reachable from the catalog (page contents, images, forms,
fonts, appearance streams …) is decoded, Flate chains incrementally in 1 MiB pieces so memory
stays flat, with a cap per stream and on the document's total. Text extraction is never used
as the test. Image codecs (DCT, JPX, JBIG2, CCITT) are not expanded; their declared pixel
count is capped instead.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import resource
import sys
import time
import zlib
from collections.abc import Iterator
from typing import Any

CHUNK = 1 << 16  # raw bytes fed to zlib at a time
PIECE = 1 << 20  # most decoded bytes zlib may return at once


def set_process_limits(memory_bytes: int) -> None:
    """Limits that hold for the child's whole life (set before the parsers are imported)."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # SIGXCPU would otherwise dump core
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # a checker never writes files


def set_cpu_budget(seconds: int) -> None:
    """Give the next file `seconds` of CPU time from now: the soft limit moves up, the hard
    limit stays where it was (unlimited unless the parent's was lower)."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = int(used.ru_utime + used.ru_stime) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = spent + seconds
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


# ---------------------------------------------------------------------------- what a file is
def sniff(head: bytes) -> str:
    """What the first bytes say a file is (a key of the parent's FORMATS table)."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"BM") and len(head) > 14:
        return "bmp"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"hevc"):
        return "heic"
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        for marker, kind in ((b"word/", "docx"), (b"xl/", "xlsx"), (b"ppt/", "pptx")):
            if marker in head:
                return kind
        if b"OFD.xml" in head or b"Doc_0/" in head:
            return "ofd"
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if head.startswith((b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c")):
        return "archive"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    low = head[:512].lstrip().lower()
    if low.startswith((b"<!doctype html", b"<html")):
        return "html"
    if low.startswith(b"<?xml"):
        return "xml"
    try:
        head[:4096].decode("utf-8")
        return "text"
    except UnicodeDecodeError:
        pass
    try:
        head[:4096].decode("gb18030")
        return "text" if b"\x00" not in head[:4096] else "unknown"
    except UnicodeDecodeError:
        return "unknown"


class Refuse(Exception):
    """A verdict other than ok, found part-way through."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


# ---------------------------------------------------------------------------- photos
PHOTO_FORMATS = {"JPEG", "PNG", "GIF", "BMP", "WEBP", "TIFF", "MPO"}


def inspect_photo(data: bytes, limits: dict[str, Any]) -> dict[str, Any]:
    import warnings

    from PIL import Image

    Image.MAX_IMAGE_PIXELS = limits["max_photo_pixels"]
    head = data[:4096]
    try:
        with warnings.catch_warnings():
            # Pillow only warns between 1× and 2× its pixel limit: refuse there too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                fmt = im.format or "?"
                w, h = im.size
                if fmt not in PHOTO_FORMATS:
                    raise Refuse("unsupported_image", format=fmt)
                im.load()  # every pixel decoded: a truncated file fails here
                orientation = im.getexif().get(0x0112)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Refuse("bomb", what="pixels") from None
    except Image.UnidentifiedImageError:
        what = sniff(head)
        if what == "heic":
            raise Refuse("unsupported_image", format="HEIC") from None
        raise Refuse("not_image", format=what) from None
    except Refuse:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError) as exc:
        raise Refuse("image_corrupt", detail=type(exc).__name__) from None
    if orientation in (5, 6, 7, 8):  # a phone photo stored sideways: judge it as shown
        w, h = h, w
    if h <= w:
        raise Refuse("not_portrait", width=w, height=h)
    warns = ["low_resolution"] if w < limits["min_photo_width"] else []
    mime = Image.MIME.get(fmt, f"image/{fmt.lower()}")
    return {"code": "ok", "params": {"format": fmt, "width": w, "height": h,
                                     "min_width": limits["min_photo_width"]},
            "warnings": warns, "media_type": mime}  # fmt: skip


# ---------------------------------------------------------------------------- PDFs
FLATE = {"/FlateDecode", "/Fl"}
IMAGE_CODECS = {"/DCTDecode", "/DCT", "/JPXDecode", "/JBIG2Decode", "/CCITTFaxDecode", "/CCF"}
CODE_ACTIONS = {"/JavaScript": "javascript", "/Launch": "launch"}
OUTSIDE_ACTIONS = {"/SubmitForm", "/ImportData", "/GoToR", "/GoToE"}
MEDIA = {"/Sound", "/Movie", "/RichMediaExecute", "/Rendition"}
MEDIA_ANNOTS = {"/Sound", "/Movie", "/Screen", "/RichMedia", "/3D"}
SKIP_KEYS = {"/Parent", "/P"}  # back-links up the tree: the walk covers everything anyway


def tighten_pypdf(limits: dict[str, Any]) -> None:
    """pypdf's own limits (pypdf ≥ 6 keeps them in a Configuration; the old module constants
    in pypdf.filters are deprecated aliases), tightened to what an attachment can need."""
    from pypdf import overwrite_configuration

    per_stream = limits["max_stream_bytes"]
    overwrite_configuration(
        disable_legacy_handling=True,
        maximum_declared_stream_length=limits["max_pdf_bytes"],  # no stream beats its file
        array_based_stream_maximum_output_length=per_stream,
        zlib_maximum_output_length=per_stream,
        lzw_maximum_output_length=per_stream,
        run_length_maximum_output_length=per_stream,
        jbig2_maximum_output_length=per_stream,
        brotli_maximum_output_length=per_stream,
        image_maximum_buffer_size=per_stream,
        zlib_maximum_recovery_input_length=1_000_000,  # recovery goes byte by byte: slow
        stream_decoding_work_maximum_length=2 * per_stream,
        xmp_maximum_input_length=1_000_000,
        outline_maximum_entries=20_000,
        page_tree_maximum_entries=20_000,
        page_tree_maximum_page_entries=200_000,
        form_fields_maximum_entries=20_000,
        named_destinations_maximum_entries=20_000,
        jbig2dec_binary=None,  # never start another program on untrusted bytes
    )


class Damaged(Exception):
    """A stream that does not decode (its bytes are not what its filter says)."""


def _inflate(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """One Flate stage, incremental: at most PIECE bytes of output held at a time. Lenient
    like readers are: trailing junk or a missing checksum after good data is accepted."""
    d = zlib.decompressobj()
    produced = 0
    try:
        for chunk in chunks:
            buf = chunk
            while buf and not d.eof:
                out = d.decompress(buf, PIECE)
                produced += len(out)
                yield out
                buf = d.unconsumed_tail
            if d.eof:
                return
        yield d.flush()
    except zlib.error as exc:
        if produced == 0:
            raise Damaged(str(exc)) from None


def _raw_chunks(raw: bytes) -> Iterator[bytes]:
    for i in range(0, len(raw), CHUNK):
        yield raw[i : i + CHUNK]


def _filters(stream: Any) -> list[str]:
    f = stream.get("/Filter")
    f = f.get_object() if f is not None else None
    if f is None:
        return []
    if isinstance(f, list):
        return [str(x.get_object()) for x in f]
    return [str(f)]


def decoded_size(stream: Any, cap: int) -> int:
    """Bytes the stream decodes to (up to the image codec, if any); Refuse('bomb') past cap."""
    filters = _filters(stream)
    raw: bytes = getattr(stream, "_data", b"") or b""
    k = 0
    while k < len(filters) and filters[k] in FLATE:
        k += 1
    rest = filters[k:]
    if all(f in IMAGE_CODECS for f in rest):
        if k == 0:
            return len(raw)
        gen: Iterator[bytes] = _raw_chunks(raw)
        for _ in range(k):
            gen = _inflate(gen)
        total = 0
        for piece in gen:
            total += len(piece)
            if total > cap:
                raise Refuse("bomb", what="stream", limit=cap)
        return total
    # Rarer chains (ASCII85, LZW, RunLength …): pypdf decodes them, under its tightened limits.
    from pypdf.errors import LimitReachedError

    try:
        data = stream.get_data()
    except LimitReachedError:
        raise Refuse("bomb", what="stream", limit=cap) from None
    except Exception as exc:
        raise Damaged(str(exc)) from None
    if len(data) > cap:
        raise Refuse("bomb", what="stream", limit=cap)
    return len(data)


class Walker:
    """One pass over every object reachable from the catalog: judges actions and embedded
    files, decodes each stream once, and remembers what it saw."""

    def __init__(self, limits: dict[str, Any]) -> None:
        self.limits = limits
        self.total = 0
        self.rejects: dict[str, set[str]] = {}
        self.warnings: set[str] = set()
        self.outside: set[str] = set()
        self.embedded: list[str] = []
        self.damaged_other = 0

    def _reject(self, code: str, where: str) -> None:
        self.rejects.setdefault(code, set()).add(where)

    def _judge_dict(self, d: Any, where: str) -> None:
        from pypdf.generic import NameObject

        s = d.get("/S")
        if isinstance(s, NameObject) and str(s) in CODE_ACTIONS:
            self._reject(CODE_ACTIONS[str(s)], where)
        elif "/JS" in d and s is not None:
            self._reject("javascript", where)  # a /Rendition may carry a script too
        elif isinstance(s, NameObject) and str(s) in OUTSIDE_ACTIONS:
            self.outside.add(str(s)[1:])
        elif isinstance(s, NameObject) and str(s) in MEDIA:
            self.warnings.add("multimedia")
        if "/EF" in d:  # a file specification carrying the file's bytes
            name = d.get("/UF") or d.get("/F") or "?"
            self.embedded.append(str(name.get_object() if hasattr(name, "get_object") else name))
        subtype = d.get("/Subtype")
        if subtype in MEDIA_ANNOTS and d.get("/Type", "/Annot") == "/Annot":
            self.warnings.add("multimedia")

    def walk(self, root: Any) -> None:
        from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

        cap_stream = self.limits["max_stream_bytes"]
        cap_total = self.limits["max_decoded_bytes"]
        max_pixels = self.limits["max_image_pixels"]
        seen: set[tuple[int, int]] = set()
        # (object, where: the top-level catalog key it hangs from, essential: content/xobject)
        stack: list[tuple[Any, str, bool]] = [(root, "", False)]
        while stack:
            obj, where, essential = stack.pop()
            if isinstance(obj, IndirectObject):
                key = (obj.idnum, obj.generation)
                if key in seen:
                    continue
                seen.add(key)
                try:
                    obj = obj.get_object()
                except Exception as exc:
                    if essential:
                        raise Refuse("corrupt", detail="object") from exc
                    self.damaged_other += 1
                    continue
                if obj is None:
                    if essential:
                        raise Refuse("corrupt", detail="object")
                    continue
            if isinstance(obj, DictionaryObject):
                self._judge_dict(obj, where)
                if isinstance(obj, StreamObject):
                    image = obj.get("/Subtype") == "/Image"
                    if image:
                        try:
                            pixels = int(obj.get("/Width", 0)) * int(obj.get("/Height", 0))
                        except (TypeError, ValueError):
                            pixels = 0
                        if pixels > max_pixels:
                            raise Refuse("bomb", what="pixels", limit=max_pixels)
                    try:
                        self.total += decoded_size(obj, min(cap_stream, cap_total - self.total))
                    except Damaged:
                        if essential or image or obj.get("/Subtype") == "/Form":
                            raise Refuse("corrupt", detail="stream") from None
                        self.damaged_other += 1
                    if self.total > cap_total:
                        raise Refuse("bomb", what="total", limit=cap_total)
                for k, v in obj.items():
                    if k in SKIP_KEYS:
                        continue
                    here = where or str(k)
                    stack.append((v, here, k in ("/Contents", "/XObject") or essential))
            elif isinstance(obj, ArrayObject):
                stack.extend((v, where, essential) for v in obj)


REPAIRS: list[str] = []  # what pypdf logged while it worked around a broken structure


class _Collect(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        REPAIRS.append(record.getMessage())


def inspect_pdf(data: bytes, limits: dict[str, Any]) -> dict[str, Any]:
    head, tail = data[:1024], data[-16384:]
    what = sniff(head)
    if what != "pdf":
        raise Refuse("not_pdf", format=what)
    # A file cut short (an interrupted download or copy) loses its end: pages may be missing
    # even where a lenient parser still opens the rest.
    if b"%%EOF" not in tail:
        raise Refuse("truncated")

    tighten_pypdf(limits)
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, LimitReachedError, PdfReadError

    REPAIRS.clear()
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                needs_password = not reader.decrypt("")
            except Exception:
                needs_password = True
            raise Refuse("encrypted", password=needs_password)
        pages = len(reader.pages)
        if pages == 0:
            raise Refuse("no_pages")
        walker = Walker(limits)
        walker.walk(reader.root_object)
    except Refuse:
        raise
    except LimitReachedError:
        raise Refuse("bomb", what="parser", limit=limits["max_stream_bytes"]) from None
    except FileNotDecryptedError:
        raise Refuse("encrypted", password=True) from None
    except MemoryError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise Refuse("corrupt", detail=type(exc).__name__) from None
    except RecursionError:
        raise Refuse("corrupt", detail="recursion") from None
    for code in ("javascript", "launch"):
        if code in walker.rejects:
            raise Refuse(code, where=sorted(walker.rejects[code]))
    if walker.embedded:
        raise Refuse("embedded_file", names=walker.embedded[:5], count=len(walker.embedded))
    warns = sorted(walker.warnings)
    if walker.outside:
        warns.append("outside_action")
    form = reader.root_object.get("/AcroForm")
    if form is not None and "/XFA" in form.get_object():
        warns.append("xfa")
    if walker.damaged_other:
        warns.append("damaged_stream")
    if REPAIRS:
        warns.append("repaired")
    return {"code": "ok", "params": {"outside": sorted(walker.outside),
            "decoded": walker.total}, "warnings": warns, "pages": pages,
            "media_type": "application/pdf"}  # fmt: skip


# ---------------------------------------------------------------------------- the loop
def _peak_rss_kb() -> int:
    """This process's own peak RSS. Not ru_maxrss: Linux carries that across exec from the
    forked copy of the parent, so it would show the parent's size."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def handle(req: dict[str, Any], limits: dict[str, Any]) -> dict[str, Any]:
    op = req.get("op", "check")
    set_cpu_budget(limits["cpu_seconds"])
    if op == "probe":  # for the tests: show the limits hold (never sent for a real file)
        if req.get("alloc"):
            block = bytearray(int(req["alloc"]))
            del block
        if req.get("spin"):
            end = time.monotonic() + float(req["spin"])
            while time.monotonic() < end:
                pass
        if req.get("sleep"):
            time.sleep(float(req["sleep"]))
        return {"code": "ok", "params": {
            "as": resource.getrlimit(resource.RLIMIT_AS)[0],
            "cpu": resource.getrlimit(resource.RLIMIT_CPU)[0], "pid": os.getpid(),
            "peak_rss_kb": _peak_rss_kb()}}  # fmt: skip
    path, kind = req["path"], req["kind"]
    try:
        # Read once, and judge exactly those bytes: their hash goes back with the verdict, so
        # the copy kept can be matched to what was checked (a file saved over in between
        # is checked again). The cap also holds for a file that grew since the parent's stat.
        cap = limits["max_photo_bytes" if kind == "photo" else "max_pdf_bytes"]
        with open(path, "rb") as fh:
            data = fh.read(cap + 1)
        if len(data) > cap:
            raise Refuse("too_large")
        reply = inspect_photo(data, limits) if kind == "photo" else inspect_pdf(data, limits)
        reply["sha256"] = hashlib.sha256(data).hexdigest()
        return reply
    except Refuse as r:
        return {"code": r.code, "params": r.params}
    except (FileNotFoundError, IsADirectoryError):
        return {"code": "missing", "params": {}}
    except PermissionError:
        return {"code": "unreadable", "params": {}}


def main() -> None:
    limits = json.loads(sys.argv[1])
    set_process_limits(limits["memory_bytes"])
    # The protocol owns the real stdout; anything a library prints goes to stderr instead.
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    import pypdf  # noqa: F401  (imported once, before the first file: each check is then quick)

    log = logging.getLogger("pypdf")
    log.addHandler(_Collect(logging.WARNING))
    log.propagate = False
    from PIL import Image  # noqa: F401

    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        started = time.monotonic()
        try:
            reply = handle(req, limits)
        except MemoryError:
            reply = {"code": "memory", "params": {}, "fatal": True}
        except RecursionError:
            reply = {"code": "corrupt", "params": {"detail": "recursion"}}
        except Exception as exc:  # a parser bug is the file's problem, not a crash of ours
            reply = {"code": "corrupt", "params": {"detail": f"{type(exc).__name__}: {exc}"}}
        reply["seconds"] = round(time.monotonic() - started, 4)
        proto.write(json.dumps(reply, ensure_ascii=False) + "\n")
        proto.flush()
        if reply.get("fatal"):  # after a MemoryError the heap is suspect: start afresh
            return


if __name__ == "__main__":
    main()
