"""Attachment checks (issue 4): what an applicant sees when a file is refused or accepted.

R5 (and R7–R10's uploads) take PDFs; R3.1's photo is an image ≤ 500 KB. Every refusal has its
own code and a Chinese message that says what is wrong and what to do; every check ends in a
few seconds inside a child process whose limits hold, whatever the file."""

from __future__ import annotations

import io
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

import pdf_corpus
from zctui.pdf.checks import Checker, Limits, Verdict, check_file, check_many, expand_paths

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return pdf_corpus.build(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def checker() -> Iterator[Checker]:
    with Checker(workers=2) as c:
        yield c


def says_what_to_do(v: Verdict) -> None:
    """A refusal a user can act on: Chinese, names the problem, then '：请…'."""
    assert not v.accepted
    assert CJK.search(v.message), v.message
    problem, _, todo = v.message.partition("：")
    assert problem and "请" in todo, v.message


# ---------------------------------------------------------------------------- ordinary PDFs
def test_r5_a_multipage_pdf_is_accepted_with_its_pages_and_size(
    corpus: dict[str, Path], checker: Checker
) -> None:
    v = checker.check(corpus["valid_multipage.pdf"])
    assert v.accepted and v.code == "ok" and v.warnings == []
    assert v.pages == 5 and v.size == corpus["valid_multipage.pdf"].stat().st_size
    assert v.media_type == "application/pdf"
    assert v.message.startswith("检查通过：PDF，共 5 页")


@pytest.mark.parametrize("name", ["office_goto_outline_form.pdf", "open_dest_array.pdf"])
def test_r5_office_exports_with_goto_openaction_outline_and_form_fields_pass(
    name: str, corpus: dict[str, Path], checker: Checker
) -> None:
    """Word, WPS, LibreOffice and browsers write an /OpenAction that opens page 1, outlines
    and form fields: an action is judged by what it does, not by being there."""
    v = checker.check(corpus[name])
    assert v.accepted, v.message
    assert v.pages == 2 and v.warnings == []


# ---------------------------------------------------------------------------- refusals
REFUSED = [
    # file, code, words the message must contain (the problem, then what to do)
    ("empty.pdf", "empty", ["空的", "重新"]),
    ("photo_renamed.pdf", "not_pdf", ["JPEG 图片", "不是 PDF", "转成 PDF"]),
    ("word.docx.pdf", "not_pdf", ["Word 文档", "另存为 PDF"]),
    ("encrypted.pdf", "encrypted", ["加密", "未加密的 PDF"]),
    ("owner_password_only.pdf", "encrypted", ["权限密码", "未加密的 PDF"]),
    ("zero_pages.pdf", "no_pages", ["一页也没有", "重新导出"]),
    ("truncated.pdf", "truncated", ["不完整", "重新"]),
    ("corrupt_stream.pdf", "corrupt", ["损坏", "打印为 PDF"]),
    ("flate_bomb.pdf", "bomb", ["解压后超过", "打印为 PDF"]),
    ("javascript_openaction.pdf", "javascript", ["JavaScript", "打开文件时自动运行"]),
    ("javascript_document.pdf", "javascript", ["JavaScript", "打印为 PDF"]),
    ("launch_link.pdf", "launch", ["外部程序", "打印为 PDF"]),
    ("embedded_file.pdf", "embedded_file", ["内嵌", "说明.docx", "单独上传"]),
    ("too_large.pdf", "too_large", ["太大", "21 MB", "上限 20 MB", "压缩"]),
]


@pytest.mark.parametrize(("name", "code", "words"), REFUSED, ids=[r[0] for r in REFUSED])
def test_r5_each_bad_pdf_is_refused_with_its_own_chinese_message(
    name: str, code: str, words: list[str], corpus: dict[str, Path], checker: Checker
) -> None:
    started = time.monotonic()
    v = checker.check(corpus[name])
    assert time.monotonic() - started < 5
    assert v.code == code, v.message
    says_what_to_do(v)
    for w in words:
        assert w in v.message, (w, v.message)


def test_every_refusal_has_a_message_of_its_own(corpus: dict[str, Path], checker: Checker) -> None:
    messages = {checker.check(corpus[name]).message for name, _, _ in REFUSED}
    assert len(messages) == len(REFUSED)


def test_the_size_limit_is_configurable_and_checked_before_parsing(
    corpus: dict[str, Path], tmp_path: Path
) -> None:
    v = check_file(corpus["valid_multipage.pdf"], limits=Limits(max_pdf_bytes=1024))
    assert v.code == "too_large" and "上限 1 KB" in v.message
    garbage = tmp_path / "huge.pdf"  # never opened: the size says no first
    with garbage.open("wb") as fh:
        fh.truncate(30 * 1024 * 1024)
    assert check_file(garbage).code == "too_large"


def test_missing_files_folders_and_pipes_are_named_not_parsed(tmp_path: Path) -> None:
    assert check_file(tmp_path / "nope.pdf").code == "missing"
    assert check_file(tmp_path).code == "not_a_file"
    fifo = tmp_path / "pipe.pdf"
    os.mkfifo(fifo)
    started = time.monotonic()
    v = check_file(fifo)
    assert v.code == "not_a_file" and time.monotonic() - started < 2
    says_what_to_do(v)


# ---------------------------------------------------------------------------- limits hold
def test_the_bomb_is_refused_by_the_decode_cap_in_the_child_not_by_the_parents_memory(
    corpus: dict[str, Path],
) -> None:
    """400 MB of Flate in 5 KB: the child stops at the cap; neither process grows."""
    hwm_before = _vm_hwm_kb()
    with Checker(workers=1) as c:
        v = c.check(corpus["flate_bomb.pdf"])
        probe = c._probe()
    assert v.code == "bomb" and v.seconds < 5
    assert probe["params"]["peak_rss_kb"] < 200 * 1024  # the child never held the stream
    assert _vm_hwm_kb() - hwm_before < 50 * 1024  # nor did the parent


def test_decoding_is_incremental_so_memory_stays_flat_even_with_caps_raised(
    corpus: dict[str, Path],
) -> None:
    """With the caps above the bomb's 400 MB it is decoded to the end in pieces: accepted,
    and the child's peak stays far below what holding the stream would take."""
    big = Limits(max_stream_bytes=1 << 30, max_decoded_bytes=1 << 30, memory_bytes=256 << 20)
    with Checker(big, workers=1) as c:
        v = c.check(corpus["flate_bomb.pdf"])
        probe = c._probe()
    assert v.accepted, v.message
    assert probe["params"]["peak_rss_kb"] < 150 * 1024


def test_the_child_runs_under_the_address_space_and_cpu_limits() -> None:
    lim = Limits(memory_bytes=300 << 20, cpu_seconds=2)
    with Checker(lim, workers=1) as c:
        probe = c._probe()
        assert probe["params"]["as"] == 300 << 20
        assert probe["params"]["pid"] != os.getpid()
        assert probe["params"]["cpu"] != -1  # RLIM_INFINITY: a budget was set
        # More memory than the limit allows: the child reports it and is replaced.
        hog = c._probe(alloc=600 << 20)
        assert hog["code"] == "memory" and hog["dead"]
        assert c._probe()["params"]["pid"] != probe["params"]["pid"]


def test_a_child_over_its_cpu_budget_is_ended_by_the_kernel_and_the_verdict_says_so() -> None:
    lim = Limits(cpu_seconds=1, timeout_seconds=10)
    with Checker(lim, workers=1) as c:
        started = time.monotonic()
        reply = c._probe(spin=20)
        assert reply["code"] == "timeout" and reply["dead"]
        assert time.monotonic() - started < 5  # SIGXCPU, long before the wall clock


def test_a_child_that_hangs_is_killed_at_the_wall_clock_timeout(corpus: dict[str, Path]) -> None:
    lim = Limits(timeout_seconds=0.5)
    with Checker(lim, workers=1) as c:
        started = time.monotonic()
        reply = c._probe(sleep=30)
        assert reply["code"] == "timeout" and time.monotonic() - started < 2
        v = c.check(corpus["valid_multipage.pdf"])  # the checker goes on with a new child
        assert v.accepted


def test_a_timeout_is_a_chinese_verdict_not_an_exception(corpus: dict[str, Path]) -> None:
    v = check_file(corpus["valid_multipage.pdf"], limits=Limits(timeout_seconds=0.0001))
    assert v.code == "timeout"
    says_what_to_do(v)


# ---------------------------------------------------------------------------- the photo
def test_r3_1_a_portrait_photo_under_500_kb_is_accepted(
    corpus: dict[str, Path], checker: Checker
) -> None:
    for name, fmt in (("photo_ok.jpg", "image/jpeg"), ("photo_ok.png", "image/png")):
        v = checker.check(corpus[name], "photo")
        assert v.accepted, v.message
        assert v.media_type == fmt and v.pages is None
        assert "检查通过" in v.message and "像素" in v.message


def test_r3_1_a_small_photo_is_accepted_with_a_warning_naming_the_configured_width(
    tmp_path: Path,
) -> None:
    photo = tmp_path / "small.jpg"
    photo.write_bytes(pdf_corpus.jpeg(200, 300))
    v = check_file(photo, "photo", limits=Limits(min_photo_width=240))
    assert v.accepted and v.warning_codes == ["low_resolution"]
    assert "200×300" in v.warnings[0] and "不小于 240 像素" in v.warnings[0]


PHOTO_REFUSED = [
    ("photo_big.jpg", "too_large", ["照片太大", "上限 500 KB", "压缩"]),
    ("photo_landscape.jpg", "not_portrait", ["横向", "600×400", "竖向"]),
    ("photo_truncated.jpg", "image_corrupt", ["损坏", "重新"]),
    ("photo_is_pdf.jpg", "not_image", ["PDF 文件", "JPG 或 PNG"]),
    ("empty.pdf", "empty", ["空的"]),
]


@pytest.mark.parametrize(
    ("name", "code", "words"), PHOTO_REFUSED, ids=[r[0] for r in PHOTO_REFUSED]
)
def test_r3_1_a_bad_photo_is_refused_with_its_own_chinese_message(
    name: str, code: str, words: list[str], corpus: dict[str, Path], checker: Checker
) -> None:
    v = checker.check(corpus[name], "photo")
    assert v.code == code, v.message
    says_what_to_do(v)
    for w in words:
        assert w in v.message, (w, v.message)


def test_r3_1_the_photo_limit_is_500_kb_exactly(tmp_path: Path, checker: Checker) -> None:
    under = pdf_corpus.jpeg(640, 900, noise=True, quality=80)
    assert len(under) < 500 * 1024
    (tmp_path / "a.jpg").write_bytes(under)
    assert checker.check(tmp_path / "a.jpg", "photo").accepted
    (tmp_path / "b.jpg").write_bytes(under + bytes(500 * 1024 + 1 - len(under)))
    assert checker.check(tmp_path / "b.jpg", "photo").code == "too_large"


def test_r3_1_a_phone_photo_stored_sideways_is_judged_as_shown(
    tmp_path: Path, checker: Checker
) -> None:
    """EXIF orientation 6: the pixels are landscape, every viewer shows it upright."""
    im = Image.new("RGB", (441, 358), (90, 90, 200))
    exif = im.getexif()
    exif[0x0112] = 6
    im.save(tmp_path / "phone.jpg", "JPEG", exif=exif)
    assert checker.check(tmp_path / "phone.jpg", "photo").accepted


def test_r3_1_a_pixel_bomb_is_refused_before_it_is_decoded(
    tmp_path: Path, checker: Checker
) -> None:
    buf = io.BytesIO()
    Image.new("1", (7000, 7000)).save(buf, "PNG")  # 49 MP in a few KB
    (tmp_path / "bomb.png").write_bytes(buf.getvalue())
    v = checker.check(tmp_path / "bomb.png", "photo")
    assert v.code == "bomb"
    says_what_to_do(v)


def test_r3_1_heic_from_a_phone_is_named_and_explained(tmp_path: Path, checker: Checker) -> None:
    (tmp_path / "IMG_0001.HEIC").write_bytes(b"\x00\x00\x00\x18ftypheic" + bytes(100))
    v = checker.check(tmp_path / "IMG_0001.HEIC", "photo")
    assert v.code == "unsupported_image" and "HEIC" in v.message and "JPG" in v.message


# ---------------------------------------------------------------------------- many at once
def test_check_many_yields_every_verdict_with_progress(corpus: dict[str, Path]) -> None:
    pdfs = [p for n, p in corpus.items() if n.endswith(".pdf")]
    seen: list[tuple[int, int]] = []
    verdicts = list(check_many(pdfs, workers=2, progress=lambda d, t, v: seen.append((d, t))))
    assert sorted(v.path for v in verdicts) == sorted(str(p) for p in pdfs)
    assert seen == [(i, len(pdfs)) for i in range(1, len(pdfs) + 1)]
    by_name = {Path(v.path).name: v for v in verdicts}
    assert by_name["valid_multipage.pdf"].accepted and by_name["flate_bomb.pdf"].code == "bomb"


def test_started_children_are_reused_for_the_next_files(corpus: dict[str, Path]) -> None:
    with Checker(workers=2) as c:
        c.start()
        pids = {c._probe()["params"]["pid"] for _ in range(4)}
        assert len(pids) == 1  # one at a time: the same idle child each time
        assert c.check(corpus["valid_multipage.pdf"]).accepted
        assert c._probe()["params"]["pid"] in pids


def test_check_many_stops_when_cancelled(corpus: dict[str, Path]) -> None:
    cancel = threading.Event()
    paths = [corpus["valid_multipage.pdf"]] * 50
    got = []
    for v in check_many(paths, workers=2, cancel=cancel):
        got.append(v)
        cancel.set()
    assert 1 <= len(got) <= 3


def test_folders_are_walked_in_order_and_hidden_files_skipped(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    for name in ("b/2.pdf", "b/1.pdf", "a.pdf", ".hidden.pdf"):
        (tmp_path / name).write_bytes(b"x")
    names = [p.relative_to(tmp_path).as_posix() for p in expand_paths([tmp_path])]
    assert names == ["a.pdf", "b/1.pdf", "b/2.pdf"]


def _vm_hwm_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0
