"""Run a program in a pseudo-terminal of a fixed size and count what it writes to it.

A thread drains the pty continuously (a full pty would stall the program and hide its
output), stamping every chunk with `time.perf_counter()`. The benches then ask: when did
output first contain some text, how many bytes arrived in a window, is the program idle
(no output for a while)?
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType


class PtyApp:
    """One child process on its own pty (cols × rows), output recorded as it arrives."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cols: int = 80,
        rows: int = 24,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.argv = list(argv)
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        child_env = dict(os.environ if env is None else env)
        child_env.update(TERM="xterm-256color", COLUMNS=str(cols), LINES=str(rows))
        self.master = master
        self._chunks: list[tuple[float, bytes]] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self.spawned_at = time.perf_counter()
        self.proc = subprocess.Popen(
            self.argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=child_env,
            cwd=cwd,
            start_new_session=True,  # its own process group: killed as one at the end
            close_fds=True,
        )
        os.close(slave)
        self._reader = threading.Thread(target=self._drain, name="pty-drain", daemon=True)
        self._reader.start()

    # ------------------------------------------------------------------ reading
    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:  # EIO: the child closed its side of the pty
                data = b""
            now = time.perf_counter()
            with self._changed:
                if data:
                    self._chunks.append((now, data))
                self._changed.notify_all()
            if not data:
                return

    @property
    def total(self) -> int:
        """Bytes received so far."""
        with self._lock:
            return sum(len(d) for _, d in self._chunks)

    def output(self) -> bytes:
        with self._lock:
            return b"".join(d for _, d in self._chunks)

    def last_output_at(self) -> float:
        with self._lock:
            return self._chunks[-1][0] if self._chunks else self.spawned_at

    def bytes_since(self, t: float) -> int:
        with self._lock:
            return sum(len(d) for at, d in self._chunks if at >= t)

    def bytes_between(self, t0: float, t1: float) -> int:
        with self._lock:
            return sum(len(d) for at, d in self._chunks if t0 <= at < t1)

    def wait_for(self, text: bytes, timeout: float = 20.0) -> float:
        """The time of the chunk with which the output first contained `text`."""
        deadline = time.perf_counter() + timeout
        seen = b""
        index = 0
        with self._changed:
            while True:
                for at, data in self._chunks[index:]:
                    seen += data
                    index += 1
                    if text in seen:
                        return at
                    seen = seen[-len(text) :]
                left = deadline - time.perf_counter()
                if left <= 0 or (not self._reader.is_alive() and index == len(self._chunks)):
                    tail = self.output()[-400:]
                    raise TimeoutError(f"{self.argv}: no {text!r} after {timeout} s; {tail!r}")
                self._changed.wait(min(left, 0.05))

    def wait_output(self, after: float, timeout: float) -> bool:
        """Wait until some output has arrived after time `after`; False on timeout."""
        deadline = time.perf_counter() + timeout
        with self._changed:
            while not (self._chunks and self._chunks[-1][0] >= after):
                left = deadline - time.perf_counter()
                if left <= 0 or not self._reader.is_alive():
                    return False
                self._changed.wait(min(left, 0.05))
            return True

    def wait_idle(self, quiet: float = 0.3, timeout: float = 20.0, since: float = 0.0) -> float:
        """Wait until no output has arrived for `quiet` seconds (counted from `since` at the
        earliest); return the time of the last output."""
        deadline = time.perf_counter() + timeout
        while True:
            last = self.last_output_at()
            now = time.perf_counter()
            if now - max(last, since) >= quiet:
                return last
            if now > deadline:
                raise TimeoutError(f"{self.argv}: still writing after {timeout} s")
            time.sleep(min(quiet - (now - max(last, since)), deadline - now) + 0.005)

    # ------------------------------------------------------------------ writing
    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    # ------------------------------------------------------------------ ending
    def close(self, quit_keys: bytes = b"\x11", grace: float = 3.0) -> None:
        """Ask the program to quit (ctrl+q); SIGKILL its process group if it will not."""
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self.send(quit_keys)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                # Still running, so not reaped: its group id is still ours to signal.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._reader.join(2.0)
        if self.master >= 0:  # closing twice could close a descriptor opened since
            with contextlib.suppress(OSError):
                os.close(self.master)
            self.master = -1

    def __enter__(self) -> PtyApp:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
