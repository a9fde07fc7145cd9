"""The unit's applicants table (issue 7): filtering by pinyin initials and the first paint,
each beside a baseline measured in the same run (these machines are noisy).

Workspaces of 2,000 and 20,000 applicants are written with tests/unit_world.py (batch
inserts), read with the table's one query and labelled (`build_lines`), as the screen's
worker does.

1. Filter: `ApplicantsTable.set_filter(q)` for pinyin prefixes and characters ("z", "zs",
   "张", "zsf"), each from an empty filter, in a headless app of 140×30: the filter (pinyin
   initials and labels) over the presorted keys, and the cursor. Baseline: a plain Python
   scan of the names for the same query (`[n for n in names if q in n]`), the least any
   filter can cost; the ratio is ours / baseline. Also shown: until the next frame is handed
   to the driver (Textual's refresh cadence dominates), and matching with pinyin computed
   per filter instead of once (what precomputing the initials saves).
2. First paint: from handing the rows to the widget until the frame with them is out.
   `ApplicantsTable.set_lines(lines)` against Textual's DataTable given the same cells
   (`add_columns` + `add_rows`), 2,000 and 20,000 rows.

Medians of REPEAT runs. Run: `PYTHONPATH=src .venv/bin/python bench/applicants.py`.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import DataTable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from tui import FrameWatch  # bench/tui.py: a frame handed to the driver
from unit_world import fill_unit
from zctui.data.base import pinyin_initials
from zctui.data.catalog import load_catalog
from zctui.store.applicants import applicant_rows
from zctui.store.repository import Store
from zctui.widgets.applicants_table import COLUMNS, ApplicantLine, ApplicantsTable, build_lines

SIZES = (2_000, 20_000)
QUERIES = ("z", "zs", "张", "zsf")
REPEAT = 5
SIZE = (140, 30)


async def next_frame(frames: FrameWatch) -> None:
    await asyncio.wait_for(frames.event.wait(), 300)


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ApplicantsTable()


class DataTableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield DataTable()


def ms(seconds: float) -> float:
    return seconds * 1000


def median_ms(fn: Callable[[], object], repeat: int = REPEAT) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return ms(statistics.median(times))


async def filter_times(lines: list[ApplicantLine], query: str) -> tuple[float, float]:
    """(set_filter alone, set_filter until the next frame), medians in ms."""
    app = TableApp()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(ApplicantsTable)
        table.set_lines(lines)
        await pilot.pause()
        frames = FrameWatch(app)
        alone, framed = [], []
        for _ in range(REPEAT):
            table.set_filter("")
            await pilot.pause()
            frames.event.clear()
            t = time.perf_counter()
            table.set_filter(query)
            alone.append(time.perf_counter() - t)
            await next_frame(frames)
            framed.append(time.perf_counter() - t)
        return ms(statistics.median(alone)), ms(statistics.median(framed))


async def first_paint_table(lines: list[ApplicantLine]) -> float:
    app = TableApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        frames = FrameWatch(app)
        frames.event.clear()
        t = time.perf_counter()
        app.query_one(ApplicantsTable).set_lines(lines)
        await next_frame(frames)
        return ms(time.perf_counter() - t)


async def first_paint_datatable(lines: list[ApplicantLine]) -> float:
    app = DataTableApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        frames = FrameWatch(app)
        frames.event.clear()
        t = time.perf_counter()
        table = app.query_one(DataTable)
        table.add_columns(*(c.label for c in COLUMNS))
        table.add_rows([line.cells for line in lines])
        await next_frame(frames)
        return ms(time.perf_counter() - t)


def plain_scan(names: list[str], query: str) -> list[str]:
    return [n for n in names if query in n]


def per_filter_pinyin(names: list[str], query: str) -> list[str]:
    """The naive filter: pinyin computed for every name on every keystroke."""
    from pypinyin import Style, lazy_pinyin

    return [n for n in names if "".join(lazy_pinyin(n, style=Style.FIRST_LETTER)).startswith(query)]


async def main() -> None:
    catalog = load_catalog()
    t = time.perf_counter()
    pinyin_initials("中医外科")  # the app loads pypinyin at start-up, on a worker (_warm_up)
    print(f"pypinyin's dictionaries, once per process: {ms(time.perf_counter() - t):.0f} ms")
    with tempfile.TemporaryDirectory() as folder:
        for count in SIZES:
            path = Path(folder) / f"unit{count}.sqlite3"
            with Store(path) as store:
                t = time.perf_counter()
                fill_unit(store, count)
                made = time.perf_counter() - t
                t = time.perf_counter()
                rows = applicant_rows(store)
                read = time.perf_counter() - t
            t = time.perf_counter()
            lines = build_lines(rows, catalog)
            labelled = time.perf_counter() - t
            names = [line.row.name for line in lines]
            print(f"\n== {count} applicants (written in {made:.1f} s)")
            print(f"  read rows, one query (worker)      {ms(read):8.1f} ms")
            print(f"  labels + pinyin initials (worker)  {ms(labelled):8.1f} ms")
            print("  filter   set_filter   plain scan   ratio   to next frame   pinyin per filter")
            for q in QUERIES:
                ours, framed = await filter_times(lines, q)
                scan = median_ms(partial(plain_scan, names, q))
                naive = median_ms(partial(per_filter_pinyin, names, q), repeat=1)
                print(
                    f"  {q!r:7} {ours:8.2f} ms  {scan:8.2f} ms  {ours / scan:5.1f}×"
                    f"  {framed:10.1f} ms  {naive:12.1f} ms"
                )
            ours_paint = statistics.median([await first_paint_table(lines) for _ in range(3)])
            dt_paint = statistics.median(
                [await first_paint_datatable(lines) for _ in range(3 if count <= 2_000 else 1)]
            )
            print(
                f"  first paint: ApplicantsTable {ours_paint:8.1f} ms · DataTable "
                f"{dt_paint:8.1f} ms · ratio {ours_paint / dt_paint:.2f}×"
            )


if __name__ == "__main__":
    asyncio.run(main())
