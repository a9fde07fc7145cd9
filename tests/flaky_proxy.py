"""A flaky link between the client and a real server (issue 6), as a pytest plugin named
in conftest: `FlakyProxy`, an asyncio TCP proxy in a thread and loop of its own (the
client is synchronous), with the fixture `flaky_proxy` in front of `world_server` (the
`world` app under uvicorn, `server_world.live_server`, on SQLite and PostgreSQL); and
`serve()` + `proxy_to()` for a test's own app.

Knobs, changeable while it runs (plain attributes, read per chunk):
- `latency` seconds added per direction, `bandwidth` bytes/s per direction and connection;
- `reset_next_request(after=n)`: the next request passes `n` bytes, then its connection is
  reset (RST) on both sides: the server never sees the whole request;
- `drop_next_response()`: the next answer is read from the server (it has committed) and
  the client's connection is closed instead of forwarding it;
- `randomise(seed, reset=p, drop=q)`: each request is reset with probability p at a random
  byte, each answer dropped with probability q, from a seeded `random.Random`.

A "request" is what the client sends after the server last spoke (or the connection
opened), an "answer" what the server sends after that: one HTTP exchange on a kept-alive
connection. Counters: bytes client→server (`up`) and server→client (`down`) in total and
per connection, connections accepted, faults made; `reset_counters()` zeroes them.
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import pytest

from server_world import live_server

CHUNK = 16 * 1024


@dataclass
class Link:
    """One accepted connection's counters."""

    up: int = 0
    down: int = 0
    closed: bool = False


class FlakyProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.latency = 0.0
        self.bandwidth: float | None = None
        self.reset_p = 0.0
        self.drop_p = 0.0
        self.rng = random.Random(0)
        self.reset_span = 2000  # a random reset cuts within the first this many bytes
        self._resets: list[int] = []  # one-shot: bytes to pass before each reset
        self._drops = 0
        self._lock = threading.Lock()
        self.links: list[Link] = []
        self.up = self.down = 0
        self.accepts = 0  # connections accepted since the counters were last reset
        self.resets_made = self.drops_made = 0
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="flaky-proxy")
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    # ------------------------------------------------------------------ control
    def start(self) -> FlakyProxy:
        self._thread.start()
        self._server = self._call(asyncio.start_server(self._accept, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        async def shut() -> None:
            assert self._server is not None
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await asyncio.sleep(0.05)  # the links close themselves

        self._call(shut())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset_next_request(self, after: int = 0, times: int = 1) -> None:
        with self._lock:
            self._resets += [after] * times

    def drop_next_response(self, times: int = 1) -> None:
        with self._lock:
            self._drops += times

    def randomise(self, seed: int, *, reset: float = 0.0, drop: float = 0.0) -> None:
        with self._lock:
            self.rng = random.Random(seed)
            self.reset_p, self.drop_p = reset, drop

    def calm(self) -> None:
        """No faults, no latency, no cap."""
        with self._lock:
            self._resets.clear()
            self._drops = 0
            self.reset_p = self.drop_p = 0.0
            self.latency, self.bandwidth = 0.0, None

    def reset_counters(self) -> None:
        with self._lock:
            self.up = self.down = self.accepts = 0
            self.resets_made = self.drops_made = 0
            self.links = [link for link in self.links if not link.closed]
            for link in self.links:
                link.up = link.down = 0

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    # ------------------------------------------------------------------ the link
    async def _accept(self, c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        link = Link()
        with self._lock:
            self.links.append(link)
            self.accepts += 1
        try:
            s_reader, s_writer = await asyncio.open_connection(*self.target)
        except OSError:
            _abort(c_writer)
            return
        turn = {"last": "down"}  # who spoke last: a new request starts when the client speaks
        pumps = [
            asyncio.create_task(self._pump(c_reader, s_writer, c_writer, link, "up", turn)),
            asyncio.create_task(self._pump(s_reader, c_writer, s_writer, link, "down", turn)),
        ]
        self._tasks.update(pumps)
        # Either side ending ends the link (stop() cancels the pumps, not this task).
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        for p in pumps:
            p.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
        self._tasks.difference_update(pumps)
        for w in (c_writer, s_writer):
            with suppress(Exception):
                w.close()
        link.closed = True

    async def _pump(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        other: asyncio.StreamWriter,
        link: Link,
        direction: str,
        turn: dict[str, str],
    ) -> None:
        """Read as the bytes come, forward each piece `latency` after it came, paced: the
        reading and the forwarding are separate so latency does not add up per piece."""
        queue: asyncio.Queue[tuple[float, bytes | str]] = asyncio.Queue()

        async def read() -> None:
            cut: int | None = None  # bytes of this request still to pass before a reset
            while True:
                data = await reader.read(CHUNK)
                now = self.loop.time()
                if not data:
                    await queue.put((now, b""))
                    return
                if turn["last"] != direction:  # a new request or a new answer
                    turn["last"] = direction
                    cut, drop = self._faults(direction)
                    if drop:  # the server has answered (and committed)
                        await queue.put((now, "drop"))
                        return
                if cut is not None and len(data) >= cut:
                    await queue.put((now, data[:cut]))
                    await queue.put((now, "reset"))
                    return
                if cut is not None:
                    cut -= len(data)
                await queue.put((now, data))

        reading = asyncio.create_task(read())
        try:
            while True:
                arrived, item = await queue.get()
                if isinstance(item, str):
                    with self._lock:
                        if item == "reset":
                            self.resets_made += 1
                        else:
                            self.drops_made += 1
                    _abort(writer)
                    _abort(other)
                    return
                if not item:
                    return  # end of stream: the link closes
                await self._forward(writer, item, arrived, link, direction)
        finally:
            reading.cancel()
            await asyncio.gather(reading, return_exceptions=True)

    def _faults(self, direction: str) -> tuple[int | None, bool]:
        with self._lock:
            if direction == "up":
                if self._resets:
                    return self._resets.pop(0), False
                if self.reset_p and self.rng.random() < self.reset_p:
                    return self.rng.randint(0, self.reset_span), False
                return None, False
            if self._drops:
                self._drops -= 1
                return None, True
            return None, bool(self.drop_p and self.rng.random() < self.drop_p)

    async def _forward(
        self,
        writer: asyncio.StreamWriter,
        data: bytes,
        arrived: float,
        link: Link,
        direction: str,
    ) -> None:
        if self.latency:
            await asyncio.sleep(max(0.0, arrived + self.latency - self.loop.time()))
        # Bandwidth: pieces of at most a tenth of a second's worth, each paced.
        step = max(1, int(self.bandwidth / 10)) if self.bandwidth else len(data) or 1
        for i in range(0, len(data), step):
            piece = data[i : i + step]
            # Counted before it is written: once the peer can read it, it is in the count.
            with self._lock:
                if direction == "up":
                    self.up += len(piece)
                    link.up += len(piece)
                else:
                    self.down += len(piece)
                    link.down += len(piece)
            writer.write(piece)
            await writer.drain()
            if self.bandwidth:
                await asyncio.sleep(len(piece) / self.bandwidth)


def _abort(writer: asyncio.StreamWriter) -> None:
    """Close with RST (SO_LINGER 0), as a dropped mobile link or a middlebox does."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


# ---------------------------------------------------------------------- live server
@dataclass
class LiveServer:
    """uvicorn serving an app in a thread (`server_world.live_server`)."""

    url: str

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


@contextmanager
def serve(app: Any) -> Iterator[LiveServer]:
    with live_server(app) as url:
        yield LiveServer(url)


@contextmanager
def proxy_to(server: LiveServer) -> Iterator[FlakyProxy]:
    proxy = FlakyProxy("127.0.0.1", server.port).start()
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture
def world_server(world: Any) -> Iterator[LiveServer]:
    """The `world` app (units and accounts, SQLite and PostgreSQL) over real HTTP."""
    with serve(world.app) as server:
        yield server


@pytest.fixture
def flaky_proxy(world_server: LiveServer) -> Iterator[FlakyProxy]:
    """The flaky link in front of `world_server`."""
    with proxy_to(world_server) as proxy:
        yield proxy
