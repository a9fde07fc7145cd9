"""Attaching files in the TUI (issue 4): the keyboard file picker, the checks each file passes
before it is stored, several files at once in a worker, and exporting the PDFs.

Every test reopens the SQLite file to assert what was saved, not what the widgets show."""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from textual.pilot import Pilot
from textual.widgets import Static

import pdf_corpus
from zctui.app import ZctuiApp, create_app
from zctui.config import blobs_dir_for
from zctui.data.forms import load_forms
from zctui.demo import build_demo
from zctui.pdf.checks import Checker, Kind, Verdict
from zctui.screens.attach import AttachScreen
from zctui.screens.export import ExportScreen
from zctui.screens.main import MainScreen
from zctui.store.blobs import BlobStore
from zctui.store.repository import Store
from zctui.store.session import AttachRefused, EditSession
from zctui.widgets.path_picker import (
    PDF_SUFFIXES,
    FileList,
    PathInput,
    candidates,
    complete,
    suffix_filter,
)
from zctui.widgets.slot_field import SlotField

YEAR = 2026
FORMS = load_forms()


def main(app: ZctuiApp) -> MainScreen:
    assert isinstance(app.screen, MainScreen), app.screen
    return app.screen


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


def test_r5_a_file_changed_after_its_check_is_checked_again(
    session: EditSession,
    demo: tuple[Path, uuid.UUID, uuid.UUID],
    corpus: dict[str, Path],
    tmp_path: Path,
) -> None:
    """The picker checks a file, then stores it: if the file was replaced in between (a
    scanner still writing, a user saving over it), even by one of the same size, what is
    stored is not what was checked, so it is checked again, and a refused copy never
    becomes an attachment."""
    path, _, half = demo
    materials = FORMS.section("materials")
    good, bad = corpus["valid_multipage.pdf"].read_bytes(), corpus["encrypted.pdf"].read_bytes()
    size = max(len(good), len(bad))
    good, bad = good.ljust(size, b"\n"), bad.ljust(size, b"\n")  # same size, other bytes
    target = tmp_path / "scan.pdf"
    target.write_bytes(good)
    verdict = session.checker.check(target, "pdf")
    assert verdict.accepted
    target.write_bytes(bad)  # replaced after the check
    with pytest.raises(AttachRefused) as refused:
        session.attach_file(materials, half, "m03", target, verdict)
    assert "已加密" in refused.value.verdict.message
    assert session.flush() and saved_files(path, half, "m03") == []


# ---------------------------------------------------------------------------- the picker
def test_tab_completes_folders_and_files_with_a_tilde(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`~` is the home folder; a folder completes with /, a unique file in full, several
    candidates to what they share."""
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "扫描件").mkdir()
    for name in ("封面.pdf", "封底.pdf", "目录.pdf", "照片.jpg"):
        (tmp_path / "扫描件" / name).write_bytes(b"%PDF-")
    pdf = suffix_filter(PDF_SUFFIXES)
    assert complete("~/扫", pdf)[0] == "~/扫描件/"
    assert complete("~/扫描件/目", pdf)[0] == "~/扫描件/目录.pdf"
    value, hits = complete("~/扫描件/封", pdf)
    assert value == "~/扫描件/封" and [h.name for h in hits] == ["封底.pdf", "封面.pdf"]
    assert [h.name for h in candidates("~/扫描件/", pdf)] == ["封底.pdf", "封面.pdf", "目录.pdf"]
    assert complete("~/扫描件/照", pdf)[0] == "~/扫描件/照片.jpg"  # typed: any file is offered


async def open_slot(app: ZctuiApp, pilot: Pilot[None], section: str, slot: str) -> AttachScreen:
    screen = app.screen
    assert isinstance(screen, MainScreen)
    await screen._open_and_focus(("section", section))
    await pilot.pause()
    screen.query_one(f"#slot-{slot}", SlotField).focus()
    await pilot.press("enter")
    await pilot.pause()
    assert isinstance(app.screen, AttachScreen)
    app.screen.query_one(PathInput).value = ""
    return app.screen


async def type_path(pilot: Pilot[None], text: str) -> None:
    await pilot.press(*text)


async def settle(pilot: Pilot[None], screen: AttachScreen, timeout: float = 20.0) -> None:
    for _ in range(int(timeout / 0.05)):
        await pilot.pause(0.05)
        if not screen.busy:
            await pilot.pause()
            return
    pytest.fail("the checks did not finish")


def missing_in(app: ZctuiApp, section: str) -> int:
    assert app.session is not None
    return app.session.checklist.section(section).missing


async def test_r5_a_valid_pdf_typed_with_tab_completion_fills_the_slot(
    demo: tuple[Path, uuid.UUID, uuid.UUID], corpus: dict[str, Path]
) -> None:
    """R5: the 排名表 (m03) is attached by typing its folder and the start of its name, Tab
    completing the rest; the slot line shows it and R5's missing count drops by one."""
    path, _, half = demo
    app = create_app(path, application_id=half)
    async with app.run_test(size=(100, 40)) as pilot:
        before = missing_in(app, "materials")
        screen = await open_slot(app, pilot, "materials", "m03")
        await type_path(pilot, f"{corpus['valid_multipage.pdf'].parent}/vali")
        await pilot.press("tab")
        assert screen.query_one(PathInput).value == str(corpus["valid_multipage.pdf"])
        await pilot.press("enter")
        await settle(pilot, screen)
        assert screen.results() == []
        await pilot.press("escape")
        await pilot.pause()
        slot = main(app).query_one("#pane-section-materials #slot-m03", SlotField)
        assert slot.files == ["valid_multipage.pdf"]
        assert "1 个文件：valid_multipage.pdf" in str(slot.render())
        assert missing_in(app, "materials") == before - 1
    size = corpus["valid_multipage.pdf"].stat().st_size
    assert saved_files(path, half, "m03") == [("valid_multipage.pdf", size, 5)]


async def test_r10_1_the_paper_copyright_page_counts_once_attached(
    demo: tuple[Path, uuid.UUID, uuid.UUID], corpus: dict[str, Path]
) -> None:
    """R10.1/R10.2: the paper's 版权页 slot, inside the record dialog, through the picker."""
    path, _, half = demo
    app = create_app(path, application_id=half)
    async with app.run_test(size=(100, 40)) as pilot:
        before = missing_in(app, "paper")
        await main(app)._open_and_focus(("section", "paper"))
        await pilot.press("enter")  # the first paper
        await pilot.pause()
        app.screen.query_one("#slot-copyright", SlotField).focus()
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, AttachScreen)
        screen.query_one(PathInput).value = ""
        await type_path(pilot, str(corpus["office_goto_outline_form.pdf"]))
        await pilot.press("enter")
        await settle(pilot, screen)
        await pilot.press("escape")
        await pilot.pause()
        assert missing_in(app, "paper") == before - 1
    assert [n for n, _, _ in saved_files(path, half, "copyright")] == [
        "office_goto_outline_form.pdf"
    ]


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("encrypted.pdf", "文件已加密（打开需要密码）：请用原软件另存为未加密的 PDF"),
        ("photo_renamed.pdf", "这是 JPEG 图片，不是 PDF 文件：请把图片转成 PDF"),
    ],
)
async def test_r5_refused_pdfs_say_why_in_chinese_and_nothing_is_attached(
    demo: tuple[Path, uuid.UUID, uuid.UUID], corpus: dict[str, Path], name: str, says: str
) -> None:
    path, _, half = demo
    blobs = BlobStore(blobs_dir_for(path))
    before = set(blobs)
    app = create_app(path, application_id=half)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await open_slot(app, pilot, "materials", "m03")
        await type_path(pilot, str(corpus[name]))
        await pilot.press("enter")
        await settle(pilot, screen)
        assert len(screen.results()) == 1
        assert screen.results()[0].startswith(f"✗ {name}：") and says in screen.results()[0]
        assert app.session is not None and app.session.files(half, "m03") == []
    assert saved_files(path, half, "m03") == [] and set(blobs) == before


async def test_r3_1_a_landscape_photo_is_refused_and_a_portrait_one_taken(
    demo: tuple[Path, uuid.UUID, uuid.UUID], corpus: dict[str, Path]
) -> None:
    """R3.1: the photo slot takes images (the list shows them, not PDFs) and refuses a
    landscape one: 证件照应为竖向."""
    path, _, half = demo
    app = create_app(path, application_id=half)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await open_slot(app, pilot, "basic", "photo")
        await type_path(pilot, f"{corpus['photo_ok.jpg'].parent}/")
        await pilot.pause()
        listed = {e.name for e in screen.query_one(FileList).entries.values() if not e.is_dir}
        assert "photo_landscape.jpg" in listed and "encrypted.pdf" not in listed
        await type_path(pilot, "photo_l")
        await pilot.press("tab", "enter")
        await settle(pilot, screen)
        assert len(screen.results()) == 1
        assert "照片是横向的（600×400 像素）" in screen.results()[0]
        assert "请裁剪或旋转后重新上传" in screen.results()[0]
        assert saved_files(path, half, "photo") == []
        screen.query_one(PathInput).value = str(corpus["photo_ok.jpg"])
        await pilot.press("enter")
        await settle(pilot, screen)
        assert screen.results() == []
    assert [n for n, _, _ in saved_files(path, half, "photo")] == ["photo_ok.jpg"]


async def test_r5_2_several_files_one_bad_the_good_attach_in_order_and_keys_still_work(
    demo: tuple[Path, uuid.UUID, uuid.UUID], corpus: dict[str, Path], tmp_path: Path
) -> None:
    """R5.2 其他申报材料 takes several files: three marked with Space, attached with Enter in a
    worker. The bad one (encrypted) is listed with its message and stays marked; the good
    ones are attached in the order chosen. While a check is held up, a key is handled."""
    path, _, half = demo
    folder = tmp_path / "多个文件"
    folder.mkdir()
    for name, source in (
        ("1-量化打分表.pdf", "valid_multipage.pdf"),
        ("2-加密.pdf", "encrypted.pdf"),
        ("3-业绩材料.pdf", "office_goto_outline_form.pdf"),
    ):
        shutil.copy(corpus[source], folder / name)
    app = create_app(path, application_id=half, low_bandwidth=True)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await open_slot(app, pilot, "materials", "m15")
        assert app.session is not None
        # Hold the bad file's check until the test lets it go.
        gate = threading.Event()
        checker = app.session.checker
        assert isinstance(checker, Checker)
        real = checker.check

        def held(p: str | os.PathLike[str], kind: Kind = "pdf") -> Verdict:
            if "加密" in str(p):
                gate.wait(10)
            return real(p, kind)

        checker.check = held  # type: ignore[method-assign,assignment]
        await type_path(pilot, f"{folder}/")
        await pilot.press("down", "space", "space", "space")
        files = screen.query_one(FileList)
        chosen = ["1-量化打分表.pdf", "2-加密.pdf", "3-业绩材料.pdf"]
        assert [p.name for p in files.marked] == chosen
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert screen.busy
        text = str(screen.query_one("#attach-progress-text", Static).render())
        assert "正在检查" in text  # low bandwidth: a line of text, not an animated bar
        await pilot.press("up")  # the UI takes keys while the check is held up
        assert files.highlighted == 2 and screen.busy
        gate.set()
        await settle(pilot, screen)
        results = screen.results()
        assert len(results) == 1 and results[0].startswith("✗ 2-加密.pdf：文件已加密")
        assert [p.name for p in files.marked] == ["2-加密.pdf"]  # kept, to try again
        names = [a.original_name for a in app.session.files(half, "m15")]
        assert names == [chosen[0], chosen[2]]
    assert [n for n, _, _ in saved_files(path, half, "m15")] == names


async def test_r5_the_same_file_in_two_slots_is_stored_once(
    demo: tuple[Path, uuid.UUID, uuid.UUID], corpus: dict[str, Path]
) -> None:
    path, _, half = demo
    blobs = BlobStore(blobs_dir_for(path))
    before = set(blobs)
    app = create_app(path, application_id=half)
    async with app.run_test(size=(100, 40)) as pilot:
        for slot in ("m03", "m04"):
            screen = await open_slot(app, pilot, "materials", slot)
            await type_path(pilot, str(corpus["valid_multipage.pdf"]))
            await pilot.press("enter")
            await settle(pilot, screen)
            await pilot.press("escape")
            await pilot.pause()
    with Store(path) as store:
        rows = [a for a in store.load(half).attachments if a.slot in ("m03", "m04")]
    assert len(rows) == 2 and rows[0].sha256 == rows[1].sha256
    assert set(blobs) - before == {rows[0].sha256}


# ---------------------------------------------------------------------------- exporting
@pytest.mark.parametrize(
    ("key", "title", "name"),
    [
        ("ctrl+e", "导出申报材料（PDF）", "杨丰-2026-申报材料.pdf"),
        ("ctrl+r", "导出评审表（PDF）", "杨丰-2026-评审表.pdf"),
    ],
)
async def test_r12_export_from_step_12_writes_a_pdf_in_the_workspace_folder(
    demo: tuple[Path, uuid.UUID, uuid.UUID], key: str, title: str, name: str
) -> None:
    """R12 step: Ctrl+E / Ctrl+R ask where to save (the workspace folder by default), build
    the PDF in a worker and show its path; pypdf reads as many pages as the screen says."""
    path, done, _ = demo
    app = create_app(path, application_id=done)
    async with app.run_test(size=(100, 40)) as pilot:
        await main(app)._open_and_focus(("step", "12"))
        await pilot.pause()
        await pilot.press(key)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        assert str(screen.query_one(Static).render()) == title
        assert screen.query_one(PathInput).value == str(path.parent / name)
        await pilot.press("enter")
        for _ in range(600):
            await pilot.pause(0.05)
            if not screen.busy:
                break
        status = str(screen.query_one("#export-status", Static).render())
        assert screen.result == path.parent / name, status
        pages = len(PdfReader(screen.result).pages)
        assert f"已导出：{screen.result}（{pages} 页" in status
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)


async def test_export_from_the_command_palette_to_a_typed_folder(
    demo: tuple[Path, uuid.UUID, uuid.UUID], tmp_path: Path
) -> None:
    """The palette offers 导出申报材料（PDF）; a folder typed as the target gets the default
    name; a missing folder is refused with what to do."""
    path, done, _ = demo
    out = tmp_path / "导出"
    out.mkdir()
    app = create_app(path, application_id=done)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"导出申报材料")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ExportScreen) and screen.kind == "dossier"
        screen.query_one(PathInput).value = str(tmp_path / "没有这个文件夹" / "x.pdf")
        await pilot.press("enter")
        await pilot.pause()
        assert not screen.busy and screen.result is None
        screen.query_one(PathInput).value = f"{out}/"
        await pilot.press("enter")
        for _ in range(600):
            await pilot.pause(0.05)
            if not screen.busy:
                break
        assert screen.result == out / "杨丰-2026-申报材料.pdf"
        assert len(PdfReader(screen.result).pages) > 10
