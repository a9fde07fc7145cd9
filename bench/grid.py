"""Benchmark for the unit's grid entry (issue 7): does it stay responsive with a few hundred
people (annual appraisals, a row a person, a column a year)?

For N people (default 300, and 1,000), headless `run_test(size=(100, 30))`:
1. open: reading the applications (`SectionGrid`: one query per table) against the naive
   way, `Store.load` once per application (the baseline), both in the same run;
2. push the GridScreen until the compositor has shown a frame with the table on it;
3. a key to its frame: ↓ (cursor move) and a grade typed and confirmed (`yx` Enter),
   clock from the key sent until the next frame is rendered (a hook on `App._display`),
   p50 / p95 over MOVES keys (goal: p95 ≤ 50 ms, the TUI's section-switch goal);
   also how many lines the grid renders per move (drawn on demand: ~2, not the screen).
Baseline for 2 and 3: Textual's DataTable holding the same rows and columns, the same keys.

Run: `PYTHONPATH=src .venv/bin/python bench/grid.py [N ...]`. Exit 1 when a goal is missed.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import DataTable

from zctui.app import create_app
from zctui.screens.grid import GridScreen
from zctui.store.grid import SectionGrid
from zctui.store.repository import Store
from zctui.widgets.grid_table import GridTable

GOAL_P95_MS = 50.0
MOVES = 60


def workspace(path: Path, n: int) -> list[uuid.UUID]:
    ids = []
    with Store(path) as store, store.batch():
        for i in range(n):
            person = store.create_person(f"130902198{i:06d}{i % 10}X"[:18], f"职工{i:04d}")
            app = store.create_application(person, 2026, unit_name="沧州市人民医院")
            status = store.single("current_status", app.id)
            store.set_field("current_status", status.id, "has_title", "1")
            store.set_field("current_status", status.id, "cur_title_date", f"{2017 + i % 8}-06-01")
            for y in range(2021, 2021 + i % 4):
                store.add_record("annual_appraisal", app.id, year=str(y), grade="pass")
            if i % 10 == 0:
                store.set_field("application", app.id, "state", "submitted")
            ids.append(app.id)
    return ids


class Frames:
    """When the next frame after `arm()` was rendered."""

    def __init__(self, app: App[Any]) -> None:
        self.armed = 0.0
        self.shown: float | None = None
        self.event = asyncio.Event()
        original = app._display

        def display(screen: object, renderable: object) -> None:
            original(screen, renderable)  # type: ignore[arg-type]
            if renderable is not None and self.shown is None:
                self.shown = time.perf_counter()
                self.event.set()

        setattr(app, "_display", display)  # noqa: B010 (a method: mypy refuses assignment)

    def arm(self) -> None:
        self.shown = None
        self.event.clear()
        self.armed = time.perf_counter()

    async def ms(self) -> float:
        await asyncio.wait_for(self.event.wait(), 10)
        assert self.shown is not None
        return (self.shown - self.armed) * 1000


def p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


async def grid_figures(path: Path, ids: list[uuid.UUID]) -> dict[str, float]:
    app = create_app(path)
    out: dict[str, float] = {}
    async with app.run_test(size=(100, 30)) as pilot:
        frames = Frames(app)
        assert app.store is not None
        screen = GridScreen(app.store, ids)
        t = time.perf_counter()
        await app.push_screen(screen)
        while not screen.query(GridTable) or not screen.query_one(GridTable).region.area:
            await asyncio.sleep(0.005)
        frames.arm()
        await frames.ms()
        out["open to frame ms"] = (time.perf_counter() - t) * 1000
        table = screen.query_one(GridTable)
        lines = 0
        original = table.render_line

        def counting(y: int) -> Any:
            nonlocal lines
            lines += 1
            return original(y)

        setattr(table, "render_line", counting)  # noqa: B010
        moves, typed = [], []
        for _ in range(MOVES):
            frames.arm()
            await pilot.press("down")
            moves.append(await frames.ms())
        out["lines per move"] = lines / MOVES
        assert screen.grid is not None
        open_rows = [r for r, row in enumerate(screen.grid.rows) if not row.locked]
        for i in range(MOVES // 3):  # a grade into each year of one person, then the next
            table.move_to(open_rows[i // 5], i % 5)
            await pilot.press("y", "x")
            frames.arm()
            await pilot.press("enter")
            typed.append(await frames.ms())
        assert screen.grid.flush()
        out["move p50 ms"], out["move p95 ms"] = p(moves, 0.5), p(moves, 0.95)
        out["type+enter p50 ms"], out["type+enter p95 ms"] = p(typed, 0.5), p(typed, 0.95)
    return out


class Bare(App[None]):
    def __init__(self, rows: list[tuple[str, ...]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        yield DataTable()


async def datatable_figures(rows: list[tuple[str, ...]]) -> dict[str, float]:
    app = Bare(rows)
    out: dict[str, float] = {}
    async with app.run_test(size=(100, 30)) as pilot:
        frames = Frames(app)
        table = app.query_one(DataTable)
        t = time.perf_counter()
        table.add_columns("姓名", "证件号码", *(f"{y}年" for y in range(2021, 2026)))
        table.add_rows(rows)
        table.focus()
        frames.arm()
        await frames.ms()
        out["open to frame ms"] = (time.perf_counter() - t) * 1000
        moves = []
        for _ in range(MOVES):
            frames.arm()
            await pilot.press("down")
            moves.append(await frames.ms())
        out["move p50 ms"], out["move p95 ms"] = p(moves, 0.5), p(moves, 0.95)
    return out


def main(sizes: list[int]) -> int:
    ok = True
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "unit.sqlite3"
            ids = workspace(path, n)
            with Store(path) as store:
                t = time.perf_counter()
                grid = SectionGrid(store, ids)
                read_ms = (time.perf_counter() - t) * 1000
                rows = [
                    (r.name, r.masked_id, *(grid.shown(i, c) for c in range(len(grid.columns))))
                    for i, r in enumerate(grid.rows)
                ]
                grid.close()
                t = time.perf_counter()
                for app_id in ids:
                    store.load(app_id)
                naive_ms = (time.perf_counter() - t) * 1000
            figures = asyncio.run(grid_figures(path, ids))
            base = asyncio.run(datatable_figures(rows))
        print(f"{n} people · annual appraisals · {len(rows[0]) - 2} year columns")
        print(f"  read: SectionGrid {read_ms:.0f} ms; Store.load per application {naive_ms:.0f} ms")
        for key, value in figures.items():
            extra = f"   (DataTable {base[key]:.1f})" if key in base else ""
            print(f"  {key:<20} {value:8.1f}{extra}")
        if figures["move p95 ms"] > GOAL_P95_MS or figures["type+enter p95 ms"] > GOAL_P95_MS:
            print(f"  GOAL MISSED: p95 ≤ {GOAL_P95_MS:.0f} ms")
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main([int(a) for a in sys.argv[1:]] or [300, 1000]))
