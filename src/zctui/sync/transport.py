"""The client's HTTP to the server for sync (issue 6): one kept-alive connection, few
header bytes, compressed bodies both ways, and retries that ride out a flaky link.

- **One connection.** A slow link pays a TCP (and TLS) handshake per connection: every
  request goes over the same one (`max_connections=1`).
- **Few bytes.** No User-Agent, Accept or Connection header (HTTP/1.1 keeps alive by
  default); the request line, Host, Authorization, Content-Type/-Length and the codings.
- **Codings** (`zctui.domain.codec`): request bodies in the best coding the server has not
  refused (a 415 drops that one and the body is sent again in the next), responses decoded
  here, `zstd-d1` too, which httpx does not know. Once the server has answered in one
  coding, only that one is asked for. The shared `http` client (for the blob
  uploader, which sets its own headers) asks only for codings httpx decodes itself.
- **Retries** (tenacity): jittered exponential backoff on network errors, 408, 429 and
  5xx, honouring Retry-After; never on another 4xx (the answer would be the same). After
  `attempts` tries or `give_up_after` seconds: `SyncUnavailable`, whose message can be
  shown as it is.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import httpx
from pydantic import BaseModel
from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception_type,
    retry_if_result,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from zctui.domain import codec

UNREACHABLE = "无法连接服务器 {url}（{why}），修改已保存在本机，联网后会自动同步"
WHY_NETWORK = "网络中断或服务器没有响应"
WHY_STATUS = "服务器暂时无法处理，HTTP {status}"
GARBLED = "服务器返回的内容无法解压（{coding}），请稍后重试；修改已保存在本机"

RETRY_STATUS = frozenset({408, 429})
# Errors of the link, not of the request: ConnectError, ReadError, WriteError, timeouts,
# a connection closed before the answer (RemoteProtocolError).
RETRY_ERRORS = (httpx.NetworkError, httpx.TimeoutException, httpx.RemoteProtocolError)
WIDEN_AT = 1024  # an answer this big came uncompressed: offer every coding again
HTTPX_CODINGS = "zstd,gzip"  # what httpx decodes by itself (zstd: with `zstandard` installed)


class SyncUnavailable(Exception):
    """The server could not be reached (or kept failing) after the retries. Nothing is
    lost: the outbox still holds every edit. The message is Chinese."""


def _retryable(r: httpx.Response) -> bool:
    return r.status_code in RETRY_STATUS or r.status_code >= 500


class Transport:
    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        encodings: tuple[str, ...] | None = None,
        timeout: float = 30.0,
        attempts: int = 6,
        give_up_after: float = 120.0,
        backoff: float = 0.5,
        backoff_max: float = 20.0,
        retry_after_max: float = 60.0,
        max_response_bytes: int = 64 * 1024 * 1024,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.encodings = codec.client_offer() if encodings is None else encodings
        self._send_codings = list(self.encodings)  # narrowed by a server's 415
        self._accept = codec.accept_header(self.encodings)  # narrowed to the server's pick
        self.max_response_bytes = max_response_bytes
        self.http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )
        for noise in ("User-Agent", "Accept", "Connection"):
            del self.http.headers[noise]
        self.http.headers["Accept-Encoding"] = HTTPX_CODINGS
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"
        self._backoff = wait_random_exponential(multiplier=backoff, max=backoff_max)
        self._retry_after_max = retry_after_max
        self._retrying = Retrying(
            stop=stop_after_attempt(attempts) | stop_after_delay(give_up_after),
            wait=self._wait,
            retry=retry_if_exception_type(RETRY_ERRORS) | retry_if_result(_retryable),
            sleep=sleep,
        )
        # Body bytes as sent and received (compressed); the headers are the proxy's to count.
        self.sent_bytes = 0
        self.received_bytes = 0
        self.requests = 0  # tries, retries included

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ requests
    def post_json(self, path: str, model: BaseModel) -> httpx.Response:
        """POST the model as JSON. Retrying a `POST /v1/sync` is safe: each mutation carries
        the client's seq and the server answers a seq it has applied from its record instead
        of applying it again (domain/sync.py), so a lost answer costs a resend, not a
        duplicate."""
        # Defaults are the shared model's on both sides: leaving them out loses nothing.
        body = model.model_dump_json(exclude_defaults=True).encode()
        while True:
            coding = self._send_codings[0] if self._send_codings else None
            headers = {"Content-Type": "application/json"}
            content = body
            if coding is not None and len(body) >= codec.MIN_SIZE[coding]:
                content = codec.compress(body, coding)
                headers["Content-Encoding"] = coding
            else:
                coding = None
            r = self._send("POST", path, content, headers)
            if r.status_code == 415 and coding is not None:
                self._send_codings.remove(coding)  # an older server: the next coding
                continue
            return r

    def get(self, path: str, headers: Mapping[str, str] | None = None) -> httpx.Response:
        return self._send("GET", path, None, dict(headers or {}))

    # ------------------------------------------------------------------ internals
    def _send(
        self, method: str, path: str, content: bytes | None, headers: dict[str, str]
    ) -> httpx.Response:
        headers.setdefault("Accept-Encoding", self._accept)
        request = self.http.build_request(method, path, content=content, headers=headers)
        try:
            return self._retrying(self._once, request)
        except RetryError as exc:
            last = exc.last_attempt
            if last.failed:
                raise SyncUnavailable(
                    UNREACHABLE.format(url=self.base_url, why=WHY_NETWORK)
                ) from last.exception()
            status = last.result().status_code
            why = WHY_STATUS.format(status=status)
            raise SyncUnavailable(UNREACHABLE.format(url=self.base_url, why=why)) from None

    def _once(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        self.sent_bytes += len(request.content)
        r = self.http.send(request, stream=True)
        try:
            raw = b"".join(r.iter_raw())
        finally:
            r.close()
        self.received_bytes += len(raw)
        coding = r.headers.get("content-encoding", "").strip().lower()
        if coding in self.encodings:
            # The server picks the same coding every time: ask only for that one from now
            # on (11 bytes a request; a no-change sync has a 450-byte budget).
            self._accept = coding
        elif len(raw) >= WIDEN_AT and self._accept != codec.accept_header(self.encodings):
            self._accept = codec.accept_header(self.encodings)  # it stopped: offer them all
        if not coding or coding == "identity":
            content = raw
        else:
            try:
                content = codec.decompress(raw, coding, self.max_response_bytes)
            except (codec.CodingError, codec.TooLarge, codec.UnknownCoding):
                raise SyncUnavailable(GARBLED.format(coding=coding[:40])) from None
        headers = [
            (k, v)
            for k, v in r.headers.multi_items()
            if k not in ("content-encoding", "content-length")
        ]
        return httpx.Response(r.status_code, headers=headers, content=content, request=request)

    def _wait(self, state: RetryCallState) -> float:
        outcome = state.outcome
        if outcome is not None and not outcome.failed:
            after = _retry_after(outcome.result())
            if after is not None:
                return min(after, self._retry_after_max)
        return self._backoff(state)


def _retry_after(r: httpx.Response) -> float | None:
    """Retry-After in seconds (delta-seconds or an HTTP date), or None."""
    value = r.headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
