"""The server under uvicorn on a thread of this process: the one-command demo runs it beside
the TUI, and tests run it to have real TCP. Stopping it leaves no thread and no bound port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from zctui.server.app import UVICORN_OPTIONS, StartupError

PORT_TAKEN = (
    "端口 {port} 已被占用（{error}）：请换一个端口（--port），或用 --port 0 自动选择空闲端口"
)
NOT_STARTED = "服务器没有在 {seconds} 秒内启动"


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before uvicorn starts: port 0 picks a free one, and a
    taken port is said in Chinese here rather than as uvicorn's log line."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise StartupError(PORT_TAKEN.format(port=port, error=exc.strerror or exc)) from None
    return sock


@contextmanager
def serve_in_thread(
    app: Any, host: str = "127.0.0.1", port: int = 0, *, timeout: float = 10.0
) -> Iterator[str]:
    """Yields the base URL once uvicorn accepts connections; on leaving, asks it to stop,
    waits for its thread and closes the socket."""
    import uvicorn

    sock = bind(host, port)
    bound = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", lifespan="off", timeout_graceful_shutdown=5, **UVICORN_OPTIONS
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="zctui-server", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise StartupError(NOT_STARTED.format(seconds=timeout))
            time.sleep(0.01)
        shown = f"[{host}]" if ":" in host else host
        yield f"http://{shown}:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout + 5)
        sock.close()
