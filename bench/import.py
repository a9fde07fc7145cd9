"""Batch import (issue 7): 10,000 applicants in one XLSX (基本信息, 申报设置, 学习经历, 工作履历,
five 年度考核 and two 论文 each: 12 rows a person, 120,000 rows), imported into an empty
workspace, against openpyxl merely reading the same file (read-only, every row of every
sheet) in the same run. Each runs in its own subprocess, which reports its wall time, its CPU
time and its peak resident memory (ru_maxrss). The bare read runs before and after the import
and their mean is the baseline: this machine is shared, and its load moves the wall clock;
CPU seconds move much less, so the ratio is judged on them (both are printed).

Goals: import ≤ 3 × the bare read; peak memory ≤ 400 MB.

Run: `.venv/bin/python bench/import.py [PEOPLE]`. Exit 1 when a goal is missed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_RATIO = 3.0
GOAL_MB = 400
YEAR = 2026


def ident(n: int) -> str:
    from zctui.domain.validators import check_id_number

    born = f"19{60 + n // 3000:02d}{1 + n // 250 % 12:02d}{1 + n % 28:02d}"
    first = f"130902{born}{n % 1000:03d}"
    return next(first + d for d in "0123456789X" if check_id_number(first + d) is None)


def generate(path: Path, people: int) -> int:
    """The workbook, written in openpyxl's write-only mode; returns the number of rows."""
    from openpyxl import Workbook

    from zctui.exchange.layout import layout_of

    wb = Workbook(write_only=True)
    sheets = {}
    for name in ("基本信息", "申报设置", "学习经历", "工作履历", "年度考核", "论文"):
        lay = layout_of(name)
        assert lay is not None
        ws = wb.create_sheet(name)
        ws.append([c.label for c in lay.columns])
        sheets[name] = (ws, [c.name for c in lay.columns])

    def put(sheet: str, **values: object) -> None:
        ws, names = sheets[sheet]
        ws.append([values.get(n.strip("_") if n != "__key__" else "key") for n in names])

    rows = 0
    for n in range(people):
        key = ident(n)
        put("基本信息", key=key, name=f"申报人{n}", id_type="居民身份证(户口簿)",
            ethnicity="汉族", politics="群众", mobile=f"138{n:08d}",
            summary="本人长期从事专业技术工作。" * 3)  # fmt: skip
        put("申报设置", key=key, year=YEAR, category="卫生类", series="中医系列-中医",
            specialty="中医外科", title="副主任医师", method="正常申报",
            review_mode="评审")  # fmt: skip
        put("学习经历", key=key, kind="参评学历", school="河北中医学院", major="中医学",
            level="大学本科", degree="学士", origin="国内普通高校", start="1999-09",
            graduated="2004-07", chsi_code="A3K9P2M7Q4T8")  # fmt: skip
        put("工作履历", key=key, start="2004-08", unit="沧州市中西医结合医院", post="医师")
        for y in range(YEAR - 5, YEAR):
            put("年度考核", key=key, year=y, grade="合格")
        for k in (1, 2):
            put("论文", key=key, title=f"临床观察第{k}篇", journal="中医杂志",
                journal_numbers="ISSN 1001-1668 CN11-2166/R", sponsor="中华中医药学会",
                published="2022-05", author_rank="第一作者", words="4.5",
                journal_rank="北大中文核心")  # fmt: skip
        rows += 11
    wb.save(path)
    return rows


def child_read(path: str) -> dict[str, float]:
    from openpyxl import load_workbook

    start, cpu = time.perf_counter(), time.process_time()
    wb = load_workbook(path, read_only=True, data_only=False)
    cells = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            cells += len(row)
    wb.close()
    return {
        "seconds": time.perf_counter() - start,
        "cpu": time.process_time() - cpu,
        "cells": cells,
    }


def child_import(path: str, db: str) -> dict[str, float]:
    from zctui.exchange.importer import import_file
    from zctui.store.repository import Store

    with Store(Path(db)) as store:
        start, cpu = time.perf_counter(), time.process_time()
        report = import_file(store, Path(path), year=YEAR)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert report.ok and report.new_persons == report.persons, report.lines()[-3:]
    return {
        "seconds": seconds, "cpu": cpu, "people": report.imported,
        "records": report.records_added,
    }  # fmt: skip


def run_child(*args: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )  # fmt: skip
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    people = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        book = Path(tmp) / "applicants.xlsx"
        t0 = time.perf_counter()
        rows = generate(book, people)
        print(
            f"workbook: {people} people, {rows} rows, {book.stat().st_size / 1e6:.1f} MB "
            f"(written in {time.perf_counter() - t0:.1f} s)"
        )
        before = run_child("--read", str(book))
        imp = run_child("--import", str(book), str(Path(tmp) / "ws.sqlite3"))
        after = run_child("--read", str(book))
    read = {k: (before[k] + after[k]) / 2 for k in ("seconds", "cpu")}
    read_mb = max(before["maxrss_mb"], after["maxrss_mb"])
    print(
        f"openpyxl read only : {read['seconds']:7.2f} s wall  {read['cpu']:7.2f} s CPU  "
        f"peak {read_mb:4.0f} MB  (wall before {before['seconds']:.1f} s, "
        f"after {after['seconds']:.1f} s)"
    )
    print(
        f"zctui import       : {imp['seconds']:7.2f} s wall  {imp['cpu']:7.2f} s CPU  "
        f"peak {imp['maxrss_mb']:4.0f} MB  "
        f"({imp['people']:.0f} people, {imp['records']:.0f} records)"
    )
    wall, cpu = imp["seconds"] / read["seconds"], imp["cpu"] / read["cpu"]
    ok_ratio, ok_mem = cpu <= GOAL_RATIO, imp["maxrss_mb"] <= GOAL_MB
    print(
        f"ratio {cpu:.2f}× CPU, {wall:.2f}× wall (goal ≤ {GOAL_RATIO}×) {'✓' if ok_ratio else '✗'}"
    )
    print(f"peak memory {imp['maxrss_mb']:.0f} MB (goal ≤ {GOAL_MB} MB) {'✓' if ok_mem else '✗'}")
    return 0 if ok_ratio and ok_mem else 1


def _child() -> None:
    import resource

    if sys.argv[1] == "--read":
        result = child_read(sys.argv[2])
    else:
        result = child_import(sys.argv[2], sys.argv[3])
    result["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1].startswith("--"):
        _child()
    else:
        sys.exit(main())
