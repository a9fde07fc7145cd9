"""The core never pulls in Textual or the UI: the server and the CLI's checks reuse it
without a terminal library (DESIGN: screens/widgets → domain/store/sync/pdf → data).
The static proof is the import-linter contract in pyproject.toml (`lint-imports`, run by
`make test`); this is the runtime one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CORE = [
    "zctui.data.catalog",
    "zctui.data.forms",
    "zctui.domain.models",
    "zctui.domain.validators",
    "zctui.domain.checklist",
    "zctui.store.repository",
    "zctui.store.blobs",
    "zctui.demo",
    "zctui.pdf",
    "zctui.sync",
    "zctui.server",
]


def test_core_modules_import_without_textual() -> None:
    code = (
        "import sys\n"
        f"for m in {CORE!r}: __import__(m)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'textual'"
        " or m.startswith(('zctui.screens', 'zctui.widgets')))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_import_contracts_kept() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    out = subprocess.run([lint_imports, "--no-cache"], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout
