"""The saves of one editor, in order, on a writer thread, so typing never waits for the disk.

Each job is a store call (a row and its outbox entry); what piled up while the disk was busy
is committed in one transaction. `flush()` waits until everything queued is on disk; a save
that fails is kept and retried, never dropped. Used by the applicant's session (one
application) and the unit's grid (many at once).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from zctui.store.repository import Store

log = logging.getLogger(__name__)


class Writer:
    def __init__(
        self,
        store: Store,
        *,
        on_saved: Callable[[], None] | None = None,  # after a save, or a failed try
    ) -> None:
        self.store = store
        self.on_saved = on_saved
        self.failed: list[str] = []  # Chinese messages of saves that had to be retried
        self._queue: queue.Queue[Callable[[], object] | None] = queue.Queue()
        self._pending = 0
        self._idle = threading.Condition()
        self._writer = threading.Thread(target=self._write_loop, name="zctui-writer", daemon=True)
        self._writer.start()

    def _enqueue(self, job: Callable[[], object]) -> None:
        with self._idle:
            self._pending += 1
        self._queue.put(job)

    def _write_loop(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            jobs = [job]
            while len(jobs) < 500:  # what piled up meanwhile goes in the same transaction
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # close() after these
                    break
                jobs.append(more)
            self._save(jobs)
            with self._idle:
                self._pending -= len(jobs)
                if self._pending == 0:
                    self._idle.notify_all()
            if self.on_saved is not None:
                self.on_saved()

    def _save(self, jobs: list[Callable[[], object]]) -> None:
        """All jobs in one transaction; if that fails, each on its own, retried until it is
        saved (disk full, a locked file …): a save is never dropped."""
        try:
            with self.store.batch():
                for job in jobs:
                    job()
            self.failed = []
            return
        except Exception:
            log.exception("batched save failed; saving one by one")
        for job in jobs:
            delay = 0.05
            while True:
                try:
                    job()
                    break
                except Exception as exc:
                    log.exception("save failed, retrying")
                    self.failed = [f"保存失败，正在重试：{exc}"]
                    if self.on_saved is not None:  # let the screen say so
                        self.on_saved()
                    threading.Event().wait(delay)
                    delay = min(delay * 2, 2.0)
        self.failed = []

    @property
    def pending(self) -> int:
        return self._pending

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Wait until every queued change is on disk."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self) -> None:
        self.flush()
        self._queue.put(None)
        self._writer.join(timeout=5)
