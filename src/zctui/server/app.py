"""The FastAPI application: `create_app(settings)`.

Hygiene: request bodies are capped, there is no CORS (the TUI is not a browser page on
another origin), every error body is `{"detail": <Chinese text>}` without internals, and
the log has method, route, status and time only — no bodies, queries, tokens or ID
numbers (uvicorn's own access log, which prints query strings, is off)."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zctui.data.base import DATA_DIR, CatalogError
from zctui.data.catalog import pin_catalog
from zctui.server.blobstore import ServerBlobs
from zctui.server.compression import Compression
from zctui.server.db import READS, make_engine, migrate, read_engine
from zctui.server.deps import Refused
from zctui.server.reads import Reads
from zctui.server.routers import applications, auth, blobs, catalog, helpdesk, public, sync, users
from zctui.server.security import Security
from zctui.server.settings import ServerSettings, proxy_networks

log = logging.getLogger("zctui.server")

TOO_LARGE = "请求内容过大（上限 {limit} 字节），请分批提交"
INVALID = "请求内容不符合要求：{where}"
INTERNAL = "服务器内部错误，请稍后重试；如持续出现请联系管理员"

# How `zctui serve` runs uvicorn. Its access log prints query strings (ours logs the route
# template only); X-Forwarded-For is ours to judge (trusted_proxies); and no `server:` or
# `date:` header: the first names the software, and every answer pays for both on a slow
# link (a sync round trip has a budget of 600 bytes, issue 6).
UVICORN_OPTIONS: dict[str, Any] = {
    "access_log": False,
    "proxy_headers": False,
    "server_header": False,
    "date_header": False,
}


class BodyLimit:
    """Refuse bodies over the cap, by Content-Length and by counting what actually arrives."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await _too_large(self.limit, send)
            return
        seen = 0
        refused = False

        async def counted() -> Message:
            # Over the cap: answer 413 ourselves and tell the app the client went away,
            # so whatever it answers afterwards is dropped (FastAPI would turn an
            # exception raised here into a 400).
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    refused = True
                    await _too_large(self.limit, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, counted, guarded)


class AccessLog:
    """Method, route template, status and time; and `Cache-Control: no-store` on every
    answer. Plain ASGI: `@app.middleware("http")` would run each request through a task
    group and a memory stream of its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def stamped(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["Cache-Control"] = "no-store"
            await send(message)

        try:
            await self.app(scope, receive, stamped)
        finally:
            route = getattr(scope.get("route"), "path", "?")  # the template, never the values
            ms = (time.perf_counter() - start) * 1000
            log.info("%s %s %s %.1fms", scope["method"], route, status, ms)


class RetryReads:
    """A GET or HEAD that met a dead PostgreSQL connection (the server restarted since the
    connection was last used) runs once more, on a fresh connection, if nothing has been
    sent yet. Safe: reads run in autocommit and write at most one idempotent UPDATE
    (db.py). This is what pool_pre_ping did, without a round trip on every request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in READS:
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except DBAPIError as exc:
            if started or not exc.connection_invalidated:
                raise
            log.warning("database connection lost: %s runs again", scope["method"])
            await self.app(scope, receive, send)


async def _too_large(limit: int, send: Send) -> None:
    response = JSONResponse({"detail": TOO_LARGE.format(limit=limit)}, status_code=413)
    await response({"type": "http"}, _nothing, send)


async def _nothing() -> Message:
    return {"type": "http.disconnect"}


BROKEN_CATALOG = (
    "服务器的职称目录（{where}）有错误，服务器没有启动：{error}。"
    "请改正该目录中的文件，或去掉 ZCTUI_SERVER_CATALOG_DIR 以使用程序自带的目录"
)


class StartupError(RuntimeError):
    """The server must not start; the message says why, in Chinese, for whoever runs it."""


def served_catalog(settings: ServerSettings) -> catalog.Served:
    """The catalog to serve, validated by the loader clients use, and pinned as the one this
    process judges by (R2.5, the checklist): the rules the server applies are the ones the
    clients were sent."""
    where = settings.catalog_dir or DATA_DIR
    try:
        loaded = pin_catalog(where)
    except CatalogError as exc:
        raise StartupError(BROKEN_CATALOG.format(where=where, error=exc)) from None
    assert loaded is not None
    return catalog.served(loaded, where)


def create_app(settings: ServerSettings | None = None, *, engine: Engine | None = None) -> FastAPI:
    settings = settings or ServerSettings()
    served = served_catalog(settings)  # before anything else: a broken catalog stops the server
    if engine is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
    migrate(engine)
    app = FastAPI(
        title="zctui server",
        summary="河北省职称申报：帐号、登录、审核流程、审计、附件传输",
        version="1",
        lifespan=_lifespan,
        # No OpenTelemetry here (AccessLog is the log): FastAPI then stops asking the
        # environment for providers on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.engine = engine
    app.state.read_engine = read_engine(engine)
    app.state.reads = Reads(engine, settings.db_read_pool_size)
    app.state.trusted_proxies = proxy_networks(settings.trusted_proxies)
    app.state.settings = settings
    app.state.security = Security(settings)
    app.state.catalog = served
    app.state.blobs = ServerBlobs(
        settings.blob_root,
        max_bytes=settings.max_blob_bytes,
        partial_days=settings.partial_upload_days,
    )
    routers = (auth, users, applications, public, sync, blobs, catalog, helpdesk)
    for r in (m.router for m in routers):
        app.include_router(r)
    _handlers(app)

    # Outermost last: BodyLimit caps the bytes as they arrive, AccessLog logs every answer
    # (a refused coding too), Compression caps what a body unpacks to, at the same limit;
    # RetryReads, innermost, sees a lost database connection before any handler does.
    limit = settings.max_body_bytes
    app.add_middleware(RetryReads)
    app.add_middleware(Compression, limit=limit, too_large=TOO_LARGE.format(limit=limit))
    app.add_middleware(AccessLog)
    app.add_middleware(BodyLimit, limit=limit)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Per worker process, when uvicorn starts and stops it."""
    # What startup made (modules, the app, the catalog: some 170,000 objects) lives as long
    # as the process. Frozen out of the collector's sight, a full collection walks only what
    # requests made, instead of stopping the worker for 50–600 ms a few times a minute:
    # every request in flight waited that long (reads' p99 in bench/server.py).
    gc.collect()
    gc.freeze()
    yield
    app.state.reads.close()


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        body: dict[str, Any] = {
            "detail": exc.detail if isinstance(exc.detail, str) else "请求被拒绝"
        }
        if isinstance(exc, Refused):
            body["missing"] = [m.model_dump(mode="json") for m in exc.missing]
        if exc.status_code == 404 and not isinstance(exc.detail, str):
            body["detail"] = "没有这个地址"
        if exc.status_code == 405:
            body["detail"] = "该地址不支持这种请求方法"
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # Where and what, never the submitted value (it may be a password).
        wheres = []
        for err in exc.errors()[:5]:
            loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            kind = err.get("type", "")
            # Our own validators' messages are Chinese and never echo the value: show them.
            why = str(err.get("msg", "")).removeprefix("Value error, ")
            wheres.append(f"{loc or '请求体'}（{why if kind == 'value_error' else _reason(kind)}）")
        return JSONResponse({"detail": INVALID.format(where="；".join(wheres))}, status_code=422)

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        route = getattr(request.scope.get("route"), "path", "?")
        log.error("unhandled %s on %s %s", type(exc).__name__, request.method, route)
        return JSONResponse({"detail": INTERNAL}, status_code=500)


_REASONS = {
    "missing": "缺少此项",
    "extra_forbidden": "不认识的字段，请删除",
    "string_too_short": "太短",
    "string_too_long": "太长",
    "int_parsing": "应为整数",
    "uuid_parsing": "应为编号（UUID）",
    "literal_error": "不是允许的取值",
    "json_invalid": "不是有效的 JSON",
    "model_attributes_type": "应为 JSON 对象",
    "dict_type": "应为 JSON 对象",
    "string_type": "应为文字",
    "list_type": "应为列表",
    "greater_than_equal": "太小",
    "less_than_equal": "太大",
    "too_long": "条目太多",
}


def _reason(kind: str) -> str:
    return _REASONS.get(kind, "格式不正确")
