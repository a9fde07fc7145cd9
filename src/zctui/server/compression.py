"""Compressed bodies both ways (issue 6; the codings are `zctui.domain.codec`).

Requests: a body with `Content-Encoding: zstd-d1 | zstd | gzip` is decoded before the app
sees it, at most `limit` bytes decoded (BodyLimit, outside this, caps the bytes as they
arrive; this caps what they unpack to, so a bomb is refused before it is unpacked). An
unknown coding is a 415 that names the ones we take; a client then sends plainer ones.

Responses: compressed with the best coding the request's Accept-Encoding allows, when the
whole body comes in one piece of at least `codec.MIN_SIZE[coding]` bytes and is JSON or text.
Never compressed: files (`application/octet-stream`, `application/pdf`, images), ranges
(`Content-Range`, 206) and streamed bodies, so a resumed download's byte offsets stay the
file's own.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zctui.domain import codec

UNSUPPORTED = "不支持的压缩格式（Content-Encoding: {coding}），请改用 {ok} 或不压缩"
CORRUPT = "请求内容无法按 {coding} 解压（数据损坏或不完整），请重新发送"
COMPRESSIBLE = ("application/json", "text/", "application/problem+json")


class Compression:
    def __init__(self, app: ASGIApp, limit: int, too_large: str) -> None:
        self.app = app
        self.limit = limit
        self.too_large = too_large  # BodyLimit's message, with the same limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        coding = headers.get("content-encoding", "").strip().lower()
        if coding and coding != "identity":
            decoded = await self._decode(coding, receive, send)
            if decoded is None:
                return
            scope, receive = _with_body(scope, decoded, receive)
        chosen = codec.choose(headers.get("accept-encoding"))
        if chosen is None or scope["method"] == "HEAD":
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, _Encoder(send, chosen))

    async def _decode(self, coding: str, receive: Receive, send: Send) -> bytes | None:
        if coding not in codec.available():
            ok = "、".join(codec.available())
            # RFC 7694: the 415 says in Accept-Encoding which codings would do.
            accept = {"Accept-Encoding": codec.accept_header()}
            await _refuse(send, 415, UNSUPPORTED.format(coding=coding[:40], ok=ok), accept)
            return None
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        try:
            return codec.decompress(bytes(body), coding, self.limit)
        except codec.TooLarge:
            await _refuse(send, 413, self.too_large)
        except codec.CodingError:
            await _refuse(send, 400, CORRUPT.format(coding=coding))
        return None


class _Encoder:
    """The `send` of one response: holds the start until the first body piece tells
    whether the body comes whole and is worth compressing."""

    def __init__(self, send: Send, coding: str) -> None:
        self.send = send
        self.coding = coding
        self.start: Message | None = None
        self.passing = False

    async def __call__(self, message: Message) -> None:
        if self.passing:
            await self.send(message)
        elif message["type"] == "http.response.start":
            if _compressible(message):
                self.start = message
            else:
                self.passing = True
                await self.send(message)
        elif message["type"] == "http.response.body" and self.start is not None:
            start, self.start = self.start, None
            self.passing = True
            body = message.get("body", b"")
            if message.get("more_body", False) or len(body) < codec.MIN_SIZE[self.coding]:
                await self.send(start)  # streamed, or too small to pay
                await self.send(message)
                return
            packed = codec.compress(body, self.coding)
            headers = MutableHeaders(scope=start)
            headers["Content-Encoding"] = self.coding
            headers["Content-Length"] = str(len(packed))
            headers.add_vary_header("Accept-Encoding")
            await self.send(start)
            await self.send({"type": "http.response.body", "body": packed})
        else:
            await self.send(message)


def _compressible(start: Message) -> bool:
    if start["status"] in (204, 206, 304):
        return False
    headers = Headers(raw=start.get("headers", []))
    if "content-encoding" in headers or "content-range" in headers:
        return False
    kind = headers.get("content-type", "").lower()
    return kind.startswith(COMPRESSIBLE)


def _with_body(scope: Scope, body: bytes, receive: Receive) -> tuple[Scope, Receive]:
    """The request as the app should see it: decoded, with its decoded length; after the
    body, the real `receive` (which reports the client's disconnect when it comes)."""
    raw = [
        (k, v)
        for k, v in scope.get("headers", [])
        if k not in (b"content-encoding", b"content-length")
    ]
    raw.append((b"content-length", str(len(body)).encode()))
    sent = False

    async def decoded() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return {**scope, "headers": raw}, decoded


async def _refuse(
    send: Send, status: int, detail: str, headers: dict[str, str] | None = None
) -> None:
    response = JSONResponse({"detail": detail}, status_code=status, headers=headers)
    await response({"type": "http"}, _nothing, send)


async def _nothing() -> Message:
    return {"type": "http.disconnect"}
