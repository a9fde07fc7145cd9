"""The overview table (一览表): time to write it for 2,000 applicants (the guide's complete
example, copied), beside openpyxl merely writing the same cells with no styling, in the
same run; and the file's size.

Run: `.venv/bin/python bench/overview.py [N]`. Prints the figures; no goal is set by the
issue (the table is written once per batch), so it always exits 0.
"""

from __future__ import annotations

import copy
import sys
import tempfile
import time
import uuid
from pathlib import Path

from openpyxl import Workbook

from zctui.data.catalog import load_catalog
from zctui.demo import build_demo
from zctui.exchange.overview import columns, from_store, value, write_overview
from zctui.store.repository import Store


def main(n: int = 2000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        path = tmpdir / "ws.sqlite3"
        build_demo(path, year=2026)
        with Store(path) as store:
            one = from_store(store)[0]
        apps = []
        for i in range(n):
            d = copy.copy(one)
            d.application = one.application.model_copy(update={"id": uuid.uuid4(), "year": 2026})
            apps.append(d)
            if i % 7 == 0:
                d.person = None  # some without a person row: the name comes from basic_info
        t = time.perf_counter()
        result = write_overview(apps, tmpdir / "一览表.xlsx")
        ours = time.perf_counter() - t
        catalog, cols = load_catalog(), columns()
        t = time.perf_counter()
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        for i, d in enumerate(apps, start=1):
            ws.append([i, *(value(d, c, catalog) for c in cols)])
        wb.save(tmpdir / "plain.xlsx")
        plain = time.perf_counter() - t
        size = result.path.stat().st_size
    shape = f"{n} applicants × {result.columns} columns"
    print(f"overview, {shape}: {ours:.2f} s ({size / 1024:.0f} KiB)")
    print(f"openpyxl plain write of the same cells: {plain:.2f} s → ratio {ours / plain:.2f}×")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
