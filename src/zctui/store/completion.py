"""How much of each application is still missing (the checklist engine's 缺n), for
thousands of applications, computed in a child process.

Why a child and not a thread: the checklist is pure Python, and a thread running it takes
the GIL from the UI thread in 5 ms slices; with 2,000 applicants every key then lagged by a
second or two. A plain `python -P -m zctui.store.completion <workspace>` (the reasons are the
attachment checker's, see zctui.pdf.checks) reads a JSON list of application ids a line on
stdin and answers a JSON object {id: missing} a line; it exits at EOF, i.e. when its parent
closes the pipe or dies."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import uuid
from collections.abc import Collection
from pathlib import Path

from sqlalchemy import create_engine

from zctui.data.catalog import Catalog, load_catalog
from zctui.data.forms import Forms, load_forms
from zctui.domain.checklist import run_checklist
from zctui.store.grid import load_many
from zctui.store.repository import Store


def missing_counts(
    store: Store,
    ids: Collection[uuid.UUID],
    catalog: Catalog | None = None,
    forms: Forms | None = None,
) -> dict[uuid.UUID, int]:
    """What the checklist finds missing in each of these applications (deleted ones left out)."""
    catalog, forms = catalog or load_catalog(), forms or load_forms()
    return {
        data.application.id: run_checklist(data, catalog, forms).missing
        for data in load_many(store, list(ids), missing_ok=True)
    }


class CompletionProcess:
    """The parent's end: `ask(ids)` blocks (without the GIL) until the child answers."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self._proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    def _start(self) -> subprocess.Popen[str]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-P", "-m", "zctui.store.completion", str(self.workspace)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                text=True, encoding="utf-8",
            )  # fmt: skip
        return self._proc

    def ask(self, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, int]:
        """Missing counts for these applications; {} if the child failed (asked again later)."""
        with self._lock:
            proc = self._start()
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(json.dumps([str(i) for i in ids]) + "\n")
                proc.stdin.flush()
                line = proc.stdout.readline()
            except OSError:
                line = ""
            if not line:
                self.close()
                return {}
            return {uuid.UUID(k): int(v) for k, v in json.loads(line).items()}

    def close(self) -> None:
        """Stop the child at once: it only reads, so nothing is lost by killing it."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.kill()
        proc.wait()
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


def main() -> None:
    # Read-only, and without the store's BEGIN IMMEDIATE: the child only reads, and must
    # never hold the write lock the UI's saves need.
    path = Path(sys.argv[1]).resolve()
    store = Store(path, engine=create_engine(f"sqlite:///file:{path}?mode=ro&uri=true"))
    catalog, forms = load_catalog(), load_forms()
    for line in sys.stdin:
        ids = [uuid.UUID(i) for i in json.loads(line)]
        counts = missing_counts(store, ids, catalog, forms)
        sys.stdout.write(json.dumps({str(k): v for k, v in counts.items()}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
