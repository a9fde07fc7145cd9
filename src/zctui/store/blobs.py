"""Content-addressed files: `ab/cd/abcdef…` by SHA-256, written once, never overwritten.

A blob is written to a `.tmp-*` name, fsynced, then linked to its final name (a link fails
rather than replace an existing file) and the folder fsynced: a crash leaves the whole file
or none of it. The same bytes attached twice are stored once. Blobs are made read-only.

`gc(referenced)` removes blobs no row uses any more, but only those untouched for a grace
period: an attach writes the blob first and its row a moment later (the EditSession's writer
thread), so a blob that was just put — or put again, which refreshes its time — is never taken
in between. `verify()` re-hashes everything.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20
TMP_PREFIX = ".tmp-"
STALE_TMP_SECONDS = 3600.0
HEX64 = re.compile(r"[0-9a-f]{64}")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    # ------------------------------------------------------------------ writing
    def put(self, data: bytes) -> str:
        """Store bytes; returns their SHA-256."""
        digest = hashlib.sha256(data).hexdigest()
        if self._refresh(digest):
            return digest
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=TMP_PREFIX)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            self._publish(Path(tmp), digest)
        finally:
            Path(tmp).unlink(missing_ok=True)
        return digest

    def put_file(self, path: str | os.PathLike[str]) -> str:
        """Store a file's bytes, copied in 1 MiB pieces and hashed on the way (memory stays
        bounded whatever its size); returns their SHA-256."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=TMP_PREFIX)
        try:
            h = hashlib.sha256()
            with open(path, "rb") as src, os.fdopen(fd, "wb") as dst:
                while piece := src.read(CHUNK):
                    h.update(piece)
                    dst.write(piece)
                dst.flush()
                os.fsync(dst.fileno())
            digest = h.hexdigest()
            if not self._refresh(digest):
                self._publish(Path(tmp), digest)
        finally:
            Path(tmp).unlink(missing_ok=True)
        return digest

    def adopt(self, path: Path, sha256: str) -> None:
        """Publish a file already written and fsynced on this store's filesystem (a finished
        upload or download), whose bytes the caller has hashed to `sha256`. It is linked into
        place like a put; the caller removes `path` afterwards."""
        if not self._refresh(sha256):
            self._publish(path, sha256)

    def _refresh(self, digest: str) -> bool:
        """True when the blob exists; its time is refreshed so gc's grace starts again."""
        target = self.path(digest)
        try:
            os.utime(target)
        except FileNotFoundError:
            return False
        except PermissionError:  # someone else's read-only store: it exists, that is enough
            return target.is_file()
        return True

    def _publish(self, tmp: Path, digest: str) -> None:
        target = self.path(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(tmp, 0o444)
        try:
            os.link(tmp, target)  # never replaces: an existing blob is left as it is
        except FileExistsError:
            return
        except OSError as exc:  # a filesystem without hard links: same bytes, same name
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            if target.exists():
                return
            os.replace(tmp, target)
        _fsync_dir(target.parent)

    # ------------------------------------------------------------------ reading
    def open(self, sha256: str) -> BinaryIO:
        """The blob for reading (FileNotFoundError when it is not stored)."""
        return self.path(sha256).open("rb")

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def __iter__(self) -> Iterator[str]:
        """Every stored blob's SHA-256 (files in the ab/cd/ layout only)."""
        if not self.root.is_dir():
            return
        for d1 in sorted(self.root.iterdir()):
            if len(d1.name) != 2 or not d1.is_dir():
                continue
            for d2 in sorted(d1.iterdir()):
                if len(d2.name) != 2 or not d2.is_dir():
                    continue
                for f in sorted(d2.iterdir()):
                    if HEX64.fullmatch(f.name) and f.name[:4] == d1.name + d2.name:
                        yield f.name

    def _tmp_files(self) -> Iterator[Path]:
        if not self.root.is_dir():
            return
        yield from self.root.glob(f"{TMP_PREFIX}*")
        yield from self.root.glob(f"??/??/{TMP_PREFIX}*")  # left by older versions' put()

    # ------------------------------------------------------------------ upkeep
    def gc(self, referenced: Iterable[str], *, grace_seconds: float = 3600.0) -> list[str]:
        """Remove the blobs not in `referenced` that were not put in the last
        `grace_seconds`, and `.tmp-*` files left by a crash over an hour ago. Returns the
        SHA-256 of each blob removed."""
        keep = set(referenced)
        now = time.time()
        removed = []
        for digest in list(self):
            if digest in keep:
                continue
            target = self.path(digest)
            try:
                if now - target.stat().st_mtime < grace_seconds:
                    continue
                target.unlink()
            except FileNotFoundError:
                continue
            removed.append(digest)
            for folder in (target.parent, target.parent.parent):
                try:
                    folder.rmdir()  # only when empty
                except OSError:
                    break
        for tmp in list(self._tmp_files()):
            try:
                if now - tmp.stat().st_mtime > STALE_TMP_SECONDS:
                    tmp.unlink()
            except FileNotFoundError:
                pass
        return removed

    def verify(self, referenced: Iterable[str] = ()) -> list[tuple[str, str]]:
        """Re-hash every blob. Returns (sha256, problem in Chinese) for each blob whose bytes
        no longer match its name, cannot be read, or is in `referenced` but missing."""
        problems: list[tuple[str, str]] = []
        for digest in self:
            h = hashlib.sha256()
            try:
                with self.open(digest) as fh:
                    while piece := fh.read(CHUNK):
                        h.update(piece)
            except OSError as exc:
                problems.append((digest, f"无法读取：{exc.strerror or exc}"))
                continue
            if h.hexdigest() != digest:
                problems.append((digest, f"内容已损坏：现在的 SHA-256 是 {h.hexdigest()[:12]}…"))
        for digest in sorted(set(referenced)):
            if not self.has(digest):
                problems.append((digest, "文件缺失：有附件记录引用它，但附件库里没有"))
        return problems
