"""The attachment store (issue 4, R5): files by SHA-256, written once, never overwritten; the
same file attached twice is stored once; gc keeps a blob while any row uses it; verify finds a
damaged one. And the `zctui files check` / `zctui blobs` commands as a user runs them."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pdf_corpus
from zctui.config import blobs_dir_for
from zctui.data.forms import load_forms
from zctui.demo import build_demo
from zctui.pdf.checks import Checker
from zctui.store.blobs import BlobStore
from zctui.store.repository import Store
from zctui.store.session import EditSession

FORMS = load_forms()


def test_put_file_streams_hashes_and_stores_read_only(tmp_path: Path) -> None:
    src = tmp_path / "scan.pdf"
    src.write_bytes(os.urandom(64 * 1024) * 256)  # 16 MB
    blobs = BlobStore(tmp_path / "blobs")
    tracemalloc.start()
    digest = blobs.put_file(src)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert digest == hashlib.sha256(src.read_bytes()).hexdigest()
    assert peak < 4 * 1024 * 1024  # 1 MiB pieces, never the whole file
    assert blobs.read(digest) == src.read_bytes()
    with blobs.open(digest) as fh:
        assert fh.read(5) == src.read_bytes()[:5]
    assert blobs.path(digest) == tmp_path / "blobs" / digest[:2] / digest[2:4] / digest
    assert not blobs.path(digest).stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert not list((tmp_path / "blobs").glob(".tmp-*"))  # no temp file left behind


def test_the_same_bytes_are_stored_once_and_never_overwritten(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.7 same")
    (tmp_path / "copy of a.pdf").write_bytes(b"%PDF-1.7 same")
    one = blobs.put_file(tmp_path / "a.pdf")
    inode = blobs.path(one).stat().st_ino
    assert blobs.put_file(tmp_path / "copy of a.pdf") == one == blobs.put(b"%PDF-1.7 same")
    assert blobs.path(one).stat().st_ino == inode  # the first file, untouched
    assert list(blobs) == [one]


def test_r5_the_same_file_attached_to_two_slots_is_stored_once_and_gc_keeps_it_until_both_go(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ws.sqlite3"
    _, half = build_demo(path, year=2026)
    materials = FORMS.section("materials")
    pdf = tmp_path / "承诺书.pdf"
    pdf.write_bytes(pdf_corpus.multipage_pdf(2, "pledge"))
    blobs = BlobStore(blobs_dir_for(path))
    before = set(blobs)
    with Store(path) as store:
        s = EditSession(store, half.id, checker_factory=Checker)
        a = s.attach_file(materials, half.id, "m01", pdf)
        b = s.attach_file(materials, half.id, "m02", pdf)
        assert s.flush()
        assert a.sha256 == b.sha256 and set(blobs) - before == {a.sha256}
        assert a.sha256 in store.referenced_blobs()

        s.remove_file(a.id)
        assert s.flush()
        assert blobs.gc(store.referenced_blobs(), grace_seconds=0) == []
        assert blobs.has(a.sha256)  # the second slot still uses it

        s.remove_file(b.id)
        assert s.flush()
        assert a.sha256 not in store.referenced_blobs()
        assert blobs.gc(store.referenced_blobs(), grace_seconds=0) == [a.sha256]
        assert not blobs.has(a.sha256)
        s.close()
        assert set(blobs) == before  # the demo's own files are all still used


def test_gc_spares_a_blob_just_put_and_clears_stale_temp_files(tmp_path: Path) -> None:
    """An attach puts the blob, then its row follows on the writer thread: a gc in between
    must not take it. Temp files a crash left over an hour ago go."""
    blobs = BlobStore(tmp_path / "blobs")
    fresh = blobs.put(b"just attached")
    old = blobs.put(b"removed long ago")
    hour_ago = time.time() - 7200
    os.utime(blobs.path(old), (hour_ago, hour_ago))
    stale = tmp_path / "blobs" / ".tmp-crashed"
    stale.write_bytes(b"half")
    os.utime(stale, (hour_ago, hour_ago))
    busy = tmp_path / "blobs" / ".tmp-writing-now"
    busy.write_bytes(b"half")
    assert blobs.gc(set()) == [old]
    assert blobs.has(fresh) and not stale.exists() and busy.exists()
    os.utime(blobs.path(fresh), (hour_ago, hour_ago))
    assert blobs.put(b"just attached") == fresh  # attached again: its grace starts anew
    assert blobs.gc(set()) == []


def test_verify_finds_a_damaged_and_a_missing_blob(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    good = blobs.put(b"good")
    bad = blobs.put(b"will rot")
    target = blobs.path(bad)
    target.chmod(0o644)
    target.write_bytes(b"bit rot")
    missing = hashlib.sha256(b"never stored").hexdigest()
    problems = dict(blobs.verify({good, bad, missing}))
    assert set(problems) == {bad, missing}
    assert "损坏" in problems[bad] and "缺失" in problems[missing]


# ---------------------------------------------------------------------------- the commands
def zctui(
    *args: str, db: Path | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("zctui", path=str(Path(sys.executable).parent))
    assert exe, "the console script is installed with the package"
    cmd = [exe, *(["--db", str(db)] if db else []), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=cwd)


def test_files_check_a_folder_lists_each_verdict_and_exits_1_on_a_refusal(tmp_path: Path) -> None:
    """A unit administrator checks a folder before an import."""
    folder = tmp_path / "材料"
    folder.mkdir()
    (folder / "1 承诺书.pdf").write_bytes(pdf_corpus.multipage_pdf(3))
    (folder / "2 评价表.pdf").write_bytes(pdf_corpus.jpeg(300, 400))
    out = zctui("files", "check", "材料", cwd=tmp_path)
    assert out.returncode == 1, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("✓ 材料/1 承诺书.pdf  PDF，共 3 页，")
    assert lines[1].startswith("✗ 材料/2 评价表.pdf  这是 JPEG 图片，不是 PDF 文件：请")
    assert "共 2 个文件：1 个通过，1 个不能上传。" in out.stdout
    ok = zctui("files", "check", str(folder / "1 承诺书.pdf"))
    assert ok.returncode == 0


def test_files_check_json_and_photo(tmp_path: Path) -> None:
    """R3.1: --photo checks an ID photo; --json is for scripts."""
    (tmp_path / "photo.jpg").write_bytes(pdf_corpus.jpeg(358, 441))
    (tmp_path / "wide.jpg").write_bytes(pdf_corpus.jpeg(600, 400))
    out = zctui("files", "check", "--json", "--photo", str(tmp_path))
    assert out.returncode == 1
    report = {Path(v["path"]).name: v for v in json.loads(out.stdout)}
    assert report["photo.jpg"]["accepted"] and report["photo.jpg"]["media_type"] == "image/jpeg"
    assert report["wide.jpg"]["code"] == "not_portrait" and "竖向" in report["wide.jpg"]["message"]


def test_blobs_gc_and_verify_on_the_workspace(tmp_path: Path) -> None:
    db = tmp_path / "ws.sqlite3"
    assert zctui("demo", db=db).returncode == 0
    blobs = BlobStore(blobs_dir_for(db))
    orphan = blobs.put(b"%PDF-1.7 orphan")
    hour_ago = time.time() - 7200
    os.utime(blobs.path(orphan), (hour_ago, hour_ago))
    used = len(list(blobs)) - 1

    ok = zctui("blobs", "verify", db=db)
    assert ok.returncode == 0 and f"全部完好：共 {used + 1} 个文件" in ok.stdout

    gc = zctui("blobs", "gc", db=db)
    assert gc.returncode == 0, gc.stderr
    assert f"已删除 {orphan}" in gc.stdout and not blobs.has(orphan)
    assert len(list(blobs)) == used  # every file the demo's rows use is kept

    victim = next(iter(blobs))
    blobs.path(victim).chmod(0o644)
    blobs.path(victim).write_bytes(b"damaged")
    bad = zctui("blobs", "verify", db=db)
    assert bad.returncode == 1 and victim in bad.stdout and "损坏" in bad.stdout


def test_blobs_gc_keeps_what_another_workspace_in_the_folder_uses(tmp_path: Path) -> None:
    """Workspaces in one folder share blobs/: gc reads every one before it removes a file."""
    a, b = tmp_path / "a.sqlite3", tmp_path / "b.sqlite3"
    assert zctui("demo", db=a).returncode == 0
    blobs = BlobStore(blobs_dir_for(a))
    with Store(b) as store:
        person = store.create_person("130902198010100011", "杨丰")
        app = store.create_application(person, 2026)
        only_b = blobs.put(b"%PDF-1.7 used by b only")
        store.attach(application_id=app.id, owner_table="application", owner_id=app.id,
                     slot="m01", sha256=only_b, original_name="x.pdf", size=23)  # fmt: skip
    hour_ago = time.time() - 7200
    os.utime(blobs.path(only_b), (hour_ago, hour_ago))
    assert zctui("blobs", "gc", db=a).returncode == 0
    assert blobs.has(only_b)
