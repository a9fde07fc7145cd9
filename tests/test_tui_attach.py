"""Attaching files in the TUI (issue 4): the keyboard file picker, the checks each file passes
before it is stored, several files at once in a worker, and exporting the PDFs.

Every test reopens the SQLite file to assert what was saved, not what the widgets show."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import pdf_corpus
from zctui.config import blobs_dir_for
from zctui.data.forms import load_forms
from zctui.demo import build_demo
from zctui.pdf.checks import Checker
from zctui.store.blobs import BlobStore
from zctui.store.repository import Store
from zctui.store.session import AttachRefused, EditSession

YEAR = 2026
FORMS = load_forms()


@pytest.fixture
def demo(tmp_path: Path) -> tuple[Path, uuid.UUID, uuid.UUID]:
    path = tmp_path / "ws.sqlite3"
    done, half = build_demo(path, year=YEAR)
    return path, done.id, half.id


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return pdf_corpus.build(tmp_path_factory.mktemp("corpus"))


def saved_files(path: Path, app_id: uuid.UUID, slot: str) -> list[tuple[str, int, int | None]]:
    """(name, size, pages) of the live files in a slot, read back from the SQLite file."""
    with Store(path) as store:
        data = store.load(app_id)
    return [
        (a.original_name, a.size, a.pages)
        for a in data.attachments
        if a.slot == slot and not a.deleted
    ]


@pytest.fixture
def session(demo: tuple[Path, uuid.UUID, uuid.UUID]) -> Iterator[EditSession]:
    path, _, half = demo
    with Store(path) as store:
        s = EditSession(store, half, checker_factory=Checker)
        yield s
        s.close()


# ---------------------------------------------------------------------------- the session
def test_r5_attach_file_checks_and_fills_pages_size_and_type(
    session: EditSession, demo: tuple[Path, uuid.UUID, uuid.UUID], corpus: dict[str, Path]
) -> None:
    """R5: a valid PDF is checked, stored once, and its row says how many pages it has."""
    path, _, half = demo
    materials = FORMS.section("materials")
    row = session.attach_file(materials, half, "m03", corpus["valid_multipage.pdf"])
    assert (row.pages, row.media_type) == (5, "application/pdf")
    assert row.size == corpus["valid_multipage.pdf"].stat().st_size
    assert session.flush()
    assert saved_files(path, half, "m03") == [("valid_multipage.pdf", row.size, 5)]


def test_r5_an_encrypted_pdf_is_refused_and_nothing_is_written(
    session: EditSession, demo: tuple[Path, uuid.UUID, uuid.UUID], corpus: dict[str, Path]
) -> None:
    path, _, half = demo
    blobs = BlobStore(blobs_dir_for(path))
    before = set(blobs)
    with pytest.raises(AttachRefused) as refused:
        session.attach_file(FORMS.section("materials"), half, "m03", corpus["encrypted.pdf"])
    assert "已加密" in refused.value.verdict.message
    assert str(refused.value) == refused.value.verdict.message
    assert session.flush()
    assert set(blobs) == before and saved_files(path, half, "m03") == []
