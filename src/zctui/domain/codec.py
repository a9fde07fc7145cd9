"""Content codings of the sync wire (issue 6), one implementation for the client
(`zctui.sync.transport`) and the server (`zctui.server.compression`).

Tokens, best first:
- `zstd-d1`: zstd with the sync dictionary `data/sync.zdict` (version 1), trained on sync
  bodies (`bench/sync_zdict.py`). The bodies are small JSON with the same keys every time;
  without a dictionary zstd has nothing to refer back to in a 300-byte body.
- `zstd`, `gzip`: the standard ones.

A peer that does not know a token skips it (Accept-Encoding) or refuses it with 415
(Content-Encoding), so an old client or server without the dictionary falls back to zstd.
A new dictionary is a new token (`zstd-d2`), never a new file under the old one.

Bodies under `MIN_SIZE[coding]` go as they are: below it the frame and the extra headers
cost about what the compression saves (measured in `bench/sync_bytes.py`). With the
dictionary even a 100-byte body shrinks; without it zstd and gzip need about twice that.
"""

from __future__ import annotations

import gzip
import zlib
from functools import cache
from importlib import resources

import zstandard

DICT_TOKEN = "zstd-d1"
DICT_FILE = "sync.zdict"
ENCODINGS = (DICT_TOKEN, "zstd", "gzip")
MIN_SIZE = {DICT_TOKEN: 100, "zstd": 180, "gzip": 180}
# zstd levels by body size, measured on the demo's full push (28 kB, with the dictionary):
# level 19 takes 16 ms for 5654 B, level 6 0.8 ms for 5963 B, level 3 0.4 ms for 6482 B.
# A one-field edit at 19 costs 0.15 ms. The server compresses in its event loop, so only
# small bodies get the slow level.
LEVELS = ((4 * 1024, 19), (256 * 1024, 6))
LEVEL_LARGE = 3
LEVEL_SMALL = LEVELS[0][1]


class CodingError(ValueError):
    """The body cannot be decoded as its Content-Encoding says (corrupt or truncated)."""


class TooLarge(ValueError):
    """The decoded body would exceed the limit (a decompression bomb, or simply too much)."""


class UnknownCoding(ValueError):
    """A Content-Encoding this side does not speak."""


@cache
def dictionary() -> zstandard.ZstdCompressionDict | None:
    """The shipped dictionary, or None when the file is missing (then `zstd-d1` is not
    offered and plain zstd is used)."""
    try:
        data = resources.files("zctui.data").joinpath(DICT_FILE).read_bytes()
    except FileNotFoundError:
        return None
    return zstandard.ZstdCompressionDict(data)


def available() -> tuple[str, ...]:
    """The tokens this side speaks, best first."""
    return ENCODINGS if dictionary() is not None else ENCODINGS[1:]


def client_offer() -> tuple[str, ...]:
    """What the zctui client asks for: every zctui server speaks zstd (a hard dependency),
    so gzip, kept for other clients (curl, a browser), is not worth its 5 bytes in every
    request's Accept-Encoding. The client still decodes a gzip answer."""
    return tuple(t for t in available() if t != "gzip")


def accept_header(encodings: tuple[str, ...] | None = None) -> str:
    """`Accept-Encoding` for these tokens: order states the preference (no q-values,
    every byte counts)."""
    tokens = available() if encodings is None else encodings
    return ",".join(tokens) if tokens else "identity"


def choose(accept: str | None, offered: tuple[str, ...] | None = None) -> str | None:
    """The best of `offered` the peer accepts (Accept-Encoding, q=0 means no), or None."""
    if not accept:
        return None
    accepted: set[str] = set()
    for part in accept.split(","):
        token, _, params = part.strip().partition(";")
        token = token.strip().lower()
        q = 1.0
        for p in params.split(";"):
            name, _, value = p.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if token and q > 0:
            accepted.add(token)
    for token in available() if offered is None else offered:
        if token in accepted:
            return token
    return None


def compress(data: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.compress(data, compresslevel=9, mtime=0)
    level = next((lv for size, lv in LEVELS if len(data) <= size), LEVEL_LARGE)
    if encoding == "zstd":
        return _zstd(level, None).compress(data)
    if encoding == DICT_TOKEN and dictionary() is not None:
        return _zstd(level, dictionary()).compress(data)
    raise UnknownCoding(encoding)


def decompress(data: bytes, encoding: str, limit: int) -> bytes:
    """Decode, refusing output over `limit` bytes before producing it (TooLarge) and a body
    that is corrupt or cut short (CodingError)."""
    if encoding == "gzip":
        return _gunzip(data, limit)
    if encoding == "zstd":
        return _unzstd(data, limit, None)
    if encoding == DICT_TOKEN and dictionary() is not None:
        return _unzstd(data, limit, dictionary())
    raise UnknownCoding(encoding)


def _zstd(level: int, dict_data: zstandard.ZstdCompressionDict | None) -> zstandard.ZstdCompressor:
    # The token names the dictionary, so its 4-byte id in every frame is dropped; the
    # content size stays (the decoder can refuse a bomb from the header alone).
    if dict_data is None:
        return zstandard.ZstdCompressor(level=level, write_content_size=True)
    return zstandard.ZstdCompressor(
        level=level, dict_data=dict_data, write_dict_id=False, write_content_size=True
    )


def _unzstd(data: bytes, limit: int, dict_data: zstandard.ZstdCompressionDict | None) -> bytes:
    try:
        declared = zstandard.frame_content_size(data)
    except zstandard.ZstdError as exc:
        raise CodingError(str(exc)) from None
    if declared > limit:
        raise TooLarge(declared)
    dctx = zstandard.ZstdDecompressor(dict_data=dict_data)
    try:
        # Bounded first: a frame that does not declare its size is read in chunks.
        seen = 0
        with dctx.stream_reader(data) as reader:
            while chunk := reader.read(64 * 1024):
                seen += len(chunk)
                if seen > limit:
                    raise TooLarge(seen)
        # Within the limit: decode for real, which also tells a frame cut short.
        obj = dctx.decompressobj()
        out = obj.decompress(data)
    except zstandard.ZstdError as exc:
        raise CodingError(str(exc)) from None
    if not obj.eof or obj.unused_data:
        raise CodingError("truncated or trailing data")
    return out


def _gunzip(data: bytes, limit: int) -> bytes:
    obj = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = obj.decompress(data, limit + 1)
    except zlib.error as exc:
        raise CodingError(str(exc)) from None
    if len(out) > limit:
        raise TooLarge(len(out))
    if not obj.eof or obj.unused_data:
        raise CodingError("truncated or trailing data")
    return out
