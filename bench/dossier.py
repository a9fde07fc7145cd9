"""Benchmark: the dossier of 60 PDFs (about 100 MB) against a plain pypdf merge of the same
files, in the same run.

The files are made here, in a temporary folder: each has two pages, each page an image of
random (incompressible) bytes, so nothing is smaller on disk than in memory. They are
attached to the complete demo application (R5 materials, 60 files over slots m05–m15).
Each side runs in its own child process (a cold process: nothing imported that the work
itself would import lazily, no cache of any kind), three times, alternating; a child reports
the time of the work alone and its peak RSS (ru_maxrss) before, part-way and after the work.
Both sides start with pypdf and the zctui modules imported, read the same files from the
same folder and write to the same folder; whatever the dossier imports on the way (its
drawing code, PIL for the photo) is timed with it.

The breakdown: for the merge, reading every input (`append`) and writing the output; for
the dossier, the cover and summary (drawing and the font subset) and the attachments (copying
them, bookmarks, page labels, and an fsync the plain merge does not do, shown apart).

Goal: dossier time ≤ 1.5 × the merge's; peak memory is printed for both (the merge holds
every input until it writes; the dossier writes as it reads).

Run: `PYTHONPATH=src .venv/bin/python bench/dossier.py [--files 60] [--mb 100]`.
Exit 1 when the time goal is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

GOAL = 1.5
RUNS = 3


def big_pdf(size: int, pages: int = 2) -> bytes:
    """A PDF of `pages` pages, each showing a grey image of random bytes: `size` bytes in all."""
    from zctui.pdf.direct import assemble  # here: the timed children import what they need

    per_page = max(1, size // pages)
    width = 1000
    height = max(1, per_page // width)
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{3 + 3 * i} 0 R" for i in range(pages))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
    for i in range(pages):
        page, content, image = 3 + 3 * i, 4 + 3 * i, 5 + 3 * i
        draw = f"q 500 0 0 {500 * height // width} 48 100 cm /Im0 Do Q".encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {content} 0 R "
            f"/Resources << /XObject << /Im0 {image} 0 R >> >> >>".encode()
        )
        assert len(objects) == page
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(draw), draw))
        pixels = os.urandom(width * height)
        objects.append(
            b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
            b"/BitsPerComponent 8 /Length %d >>\nstream\n%s\nendstream"
            % (width, height, len(pixels), pixels)
        )
    objects.append(b"<< /Producer (zctui bench) >>")
    return assemble(objects, catalog=1, info=len(objects))


def setup(root: Path, files: int, total_mb: float) -> tuple[Path, uuid.UUID]:
    from zctui.demo import build_demo
    from zctui.store.blobs import BlobStore
    from zctui.store.repository import Store

    db = root / "ws.sqlite3"
    done, _ = build_demo(db, year=2025)
    blobs = BlobStore(root / "blobs")
    size = int(total_mb * 1024 * 1024 / files)
    slots = [f"m{n:02d}" for n in range(5, 16)]
    with Store(db) as store:
        for i in range(files):
            data = big_pdf(size)
            digest = blobs.put(data)
            store.attach(
                application_id=done.id, owner_table="application", owner_id=done.id,
                slot=slots[i % len(slots)], sha256=digest, original_name=f"scan-{i:02d}.pdf",
                size=len(data), pages=2, media_type="application/pdf",
            )  # fmt: skip
    return db, done.id


def _load(db: Path, app_id: uuid.UUID) -> tuple[Any, Any, Any, Any]:
    from zctui.data.catalog import load_catalog
    from zctui.data.forms import load_forms
    from zctui.store.blobs import BlobStore
    from zctui.store.repository import Store

    with Store(db) as store:
        data = store.load(app_id)
    return data, load_catalog(), load_forms(), BlobStore(db.parent / "blobs")


def child(kind: str, db: Path, app_id: uuid.UUID, out: Path) -> dict[str, float]:
    """One measured run, in this (child) process."""
    from pypdf import PdfWriter

    from zctui.pdf.dossier import build_dossier, dossier_plan
    from zctui.pdf.fonts import find_cjk_font

    data, catalog, forms, blobs = _load(db, app_id)
    font = find_cjk_font()
    paths = [
        blobs.path(item.attachment.sha256)
        for item in dossier_plan(data, catalog, forms)
        if item.attachment.media_type == "application/pdf"
    ]

    def rss() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    before = rss()
    mid: list[float] = []  # peak RSS when the first part is done

    def progress(done: int, _total: int, _label: str) -> None:
        if done == 1:  # the cover and summary are drawn, the first attachment is next
            mid.append(rss())

    start = time.perf_counter()
    parts: dict[str, float] = {}
    if kind == "dossier":
        result = build_dossier(data, catalog, forms, blobs, out, progress, font=font)
        parts = {
            "first": result.seconds_front,
            "second": result.seconds_attachments,
            "sync": result.seconds_sync,
        }
    else:
        writer = PdfWriter()
        for path in paths:
            writer.append(str(path))
        read = time.perf_counter() - start
        mid.append(rss())
        writer.write(str(out))
        parts = {"first": read, "second": time.perf_counter() - start - read}
    seconds = time.perf_counter() - start
    peak = rss()
    return {
        "seconds": seconds, "rss_before_mb": before, "rss_mid_mb": mid[0], "rss_peak_mb": peak,
        **parts,
    }  # fmt: skip


def run_child(kind: str, db: Path, app_id: uuid.UUID, out: Path) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", kind, "--db", str(db), "--app", str(app_id)]
    proc = subprocess.run(
        [*cmd, "--out", str(out)], capture_output=True, text=True, check=True, timeout=600
    )
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--files", type=int, default=60)
    parser.add_argument("--mb", type=float, default=100.0)
    parser.add_argument("--child", choices=["dossier", "merge"])
    parser.add_argument("--db", type=Path)
    parser.add_argument("--app")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.db, uuid.UUID(args.app), args.out)))
        return 0

    with tempfile.TemporaryDirectory(prefix="zctui-bench-") as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        db, app_id = setup(root, args.files, args.mb)
        inputs = sum(f.stat().st_size for f in (root / "blobs").rglob("*") if f.is_file())
        print(
            f"inputs: {args.files} PDFs + the demo's files, {inputs / 2**20:.1f} MB "
            f"(made in {time.perf_counter() - t:.1f} s)"
        )
        runs: dict[str, list[dict[str, float]]] = {"dossier": [], "merge": []}
        sizes: dict[str, int] = {}
        for _ in range(RUNS):
            for kind in ("merge", "dossier"):
                out = root / f"{kind}.pdf"
                runs[kind].append(run_child(kind, db, app_id, out))
                sizes[kind] = out.stat().st_size
                out.unlink()
    best = {k: min(r["seconds"] for r in v) for k, v in runs.items()}
    for kind, label in (("merge", "pypdf merge (baseline)"), ("dossier", "dossier")):
        r = runs[kind]
        peak = max(x["rss_peak_mb"] for x in r)
        grew = max(x["rss_peak_mb"] - x["rss_before_mb"] for x in r)
        median = statistics.median(x["seconds"] for x in r)
        print(
            f"{label:24s} best {best[kind]:6.2f} s  median {median:6.2f} s  "
            f"peak RSS {peak:6.0f} MB (+{grew:4.0f} MB during the work)  "
            f"output {sizes[kind] / 2**20:6.1f} MB"
        )
        fastest = min(r, key=lambda x: x["seconds"])
        first, second = (
            ("reading the inputs", "writing")
            if kind == "merge"
            else ("cover and summary", "attachments")
        )
        sync = f" (of which fsync {fastest['sync']:.2f} s)" if kind == "dossier" else ""
        print(
            f"  of which (best run): {first} {fastest['first']:.2f} s, peak RSS "
            f"{fastest['rss_mid_mb']:.0f} MB by then; {second} {fastest['second']:.2f} s"
            f"{sync}, peak RSS {fastest['rss_peak_mb']:.0f} MB"
        )
    copy = min(r["second"] for r in runs["dossier"])
    front = min(r["first"] for r in runs["dossier"])
    ratio = best["dossier"] / best["merge"]
    verdict = "ok" if ratio <= GOAL else "MISSED"
    print(f"ratio dossier / merge: {ratio:.2f}× (goal ≤ {GOAL}×) {verdict}")
    print(
        f"ratio attachments part / merge: {copy / best['merge']:.2f}×; "
        f"cover and summary: {front / best['merge']:.2f}× (best runs of each part)"
    )
    return 0 if ratio <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
