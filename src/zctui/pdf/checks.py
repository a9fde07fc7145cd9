"""Is a file fit to attach? `check_file(path, "pdf" | "photo") -> Verdict`, each verdict with a
short code and a Chinese message that says what is wrong and what to do.

Untrusted bytes are only ever parsed in a child process (`zctui.pdf.check_worker`, where the
policy on active content and bombs is written down). Why `subprocess` and not
`multiprocessing`: a spawned multiprocessing child re-imports the parent's `__main__` (the TUI,
pytest …), and a forked one would copy the TUI's threads' locks; a plain `python -P -m
zctui.pdf.check_worker` imports only the parsers, starts in ~0.1 s, cannot pick up modules from
the folder being checked (-P), gets EOF on stdin and exits when its parent dies, and is killed
cleanly on a timeout. The child sets its own limits (address space, CPU seconds per file, no
core, no file writes) before it imports a parser; the parent adds a wall-clock timeout. A child
that is killed, runs out of memory or crashes gives a verdict, never an exception here.

Children are kept and reused by a `Checker` (each answers one file at a time), so checking a
folder does not pay a process start per file; one that failed is replaced.

Size, emptiness and "is it a regular file" are decided here before any child is involved.
"""

from __future__ import annotations

import json
import os
import queue
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

import zctui

Kind = Literal["pdf", "photo"]
KB = 1024
MB = 1024 * 1024


class Limits(BaseSettings):
    """What a file may be and what checking it may cost. From the environment as
    ZCTUI_CHECK_<NAME> (e.g. ZCTUI_CHECK_MAX_PDF_BYTES=31457280), or passed in."""

    model_config = SettingsConfigDict(env_prefix="ZCTUI_CHECK_", extra="ignore", frozen=True)

    max_pdf_bytes: int = 20 * MB
    max_photo_bytes: int = 500 * KB  # R3.1: 照片 ≤ 500 KB
    max_photo_pixels: int = 25_000_000  # an ID photo under 500 KB never needs more
    min_photo_width: int = 295  # smaller is accepted with a warning (1-inch photo at 300 dpi)
    max_image_pixels: int = 150_000_000  # an image inside a PDF: A3 at 600 dpi is 70 MP
    max_stream_bytes: int = 128 * MB  # one decoded stream (A4 RGB at 600 dpi is 105 MB)
    max_decoded_bytes: int = 512 * MB  # all of a document's streams together
    cpu_seconds: int = 5  # per file, in the child (RLIMIT_CPU)
    memory_bytes: int = 512 * MB  # the child's address space (RLIMIT_AS)
    timeout_seconds: float = 6.0  # wall clock per file, from the parent
    max_files_per_child: int = 200  # then a fresh child: no slow creep across a big folder


class Verdict(BaseModel):
    """The answer for one file. `message` is for the user, in Chinese; `code` for programs."""

    path: str
    kind: Kind
    accepted: bool
    code: str
    message: str
    warnings: list[str] = Field(default_factory=list)
    warning_codes: list[str] = Field(default_factory=list)
    pages: int | None = None
    size: int = 0
    media_type: str | None = None
    sha256: str | None = None  # of the bytes judged (accepted files)
    seconds: float = 0.0


# ---------------------------------------------------------------------------- messages
def human_size(n: int) -> str:
    if n < MB:
        return f"{max(1, round(n / KB))} KB" if n else "0 字节"
    return f"{n / MB:.1f}".removesuffix(".0") + " MB"


def _this_is(what: str) -> str:
    return f"这是 {what}" if what[:1].isascii() else f"这是{what}"


PRINT_TO_PDF = "请用原软件重新导出，或打开后“打印为 PDF”，再重新上传"

FORMATS: dict[str, tuple[str, str]] = {
    # what the bytes are: (名称, 怎么办)
    "jpeg": ("JPEG 图片", "请把图片转成 PDF（扫描软件或“打印为 PDF”）后重新上传"),
    "png": ("PNG 图片", "请把图片转成 PDF（扫描软件或“打印为 PDF”）后重新上传"),
    "gif": ("GIF 图片", "请把图片转成 PDF 后重新上传"),
    "bmp": ("BMP 图片", "请把图片转成 PDF 后重新上传"),
    "webp": ("WebP 图片", "请把图片转成 PDF 后重新上传"),
    "tiff": ("TIFF 图片", "请把图片转成 PDF 后重新上传"),
    "heic": ("HEIC 图片（苹果手机照片）", "请先转换为 JPG，再转成 PDF 后上传"),
    "pdf": ("PDF 文件", "请上传图片格式（JPG 或 PNG）的照片"),
    "docx": ("Word 文档（.docx）", "请在 Word 或 WPS 中“另存为 PDF”后重新上传"),
    "xlsx": ("Excel 表格（.xlsx）", "请在 Excel 或 WPS 中“另存为 PDF”后重新上传"),
    "pptx": ("PowerPoint 演示文稿（.pptx）", "请“另存为 PDF”后重新上传"),
    "ole": (
        "旧版 Office/WPS 文档（.doc/.xls/.wps）",
        "请在 Word、Excel 或 WPS 中“另存为 PDF”后重新上传",
    ),
    "ofd": ("OFD 版式文件", "请用 OFD 阅读器“打印为 PDF”或另存为 PDF 后重新上传"),
    "zip": ("ZIP 压缩包", "请解压后把其中的 PDF 分别上传"),
    "archive": ("压缩包（RAR/7z）", "请解压后把其中的 PDF 分别上传"),
    "rtf": ("RTF 文档", "请在 Word 或 WPS 中“另存为 PDF”后重新上传"),
    "html": ("网页文件", "请在浏览器中打开后“打印为 PDF”再上传"),
    "xml": ("XML 文件", "请上传 PDF 格式的文件"),
    "text": ("文本文件", "请上传 PDF 格式的文件"),
    "unknown": ("无法识别的文件", "请上传 PDF 格式的文件"),
}

WARNINGS = {
    "repaired": "文件结构有轻微错误，已能正常读取；如显示不正常，请重新导出",
    "damaged_stream": "文件中有部分附属数据损坏（页面可读），如显示不完整请重新导出",
    "outside_action": "文件含有访问外部文件或网络的动作（{outside}），评审时不会执行",
    "multimedia": "文件含有音视频等多媒体内容，评审时不会播放",
    "xfa": "文件是动态表单（XFA），部分阅读器显示不全，建议“打印为 PDF”后上传",
    "low_resolution": "照片分辨率较低（{width}×{height} 像素），建议宽度不小于 {min_width} 像素",
}


def _message(code: str, kind: Kind, p: dict[str, Any], lim: Limits, name: str) -> str:
    what, todo = FORMATS.get(str(p.get("format", "unknown")), FORMATS["unknown"])
    if code == "ok":
        if kind == "photo":
            fmt = p.get("format", "")
            return f"检查通过：{fmt} 照片，{p.get('width')}×{p.get('height')} 像素，{p['size']}"
        return f"检查通过：PDF，共 {p['pages']} 页，{p['size']}"
    if code == "too_large" and kind == "photo":
        return (
            f"照片太大（{p['size']}，上限 {human_size(lim.max_photo_bytes)}）："
            "请用画图等软件缩小尺寸或压缩后重新上传（标准证件照 358×441 像素即可）"
        )
    if code == "bomb" and kind == "photo":
        return "照片像素数异常大（可能是恶意构造的文件）：请重新拍摄或导出为普通 JPG 后上传"
    if code == "bomb" and p.get("what") == "pixels":
        return f"文件中的图片尺寸异常大（可能是恶意构造的文件）：{PRINT_TO_PDF}"
    if code == "encrypted" and not p.get("password", True):
        return (
            "文件设置了权限密码（限制打印、复制或修改）：请另存为未加密的 PDF"
            "（或打开后“打印为 PDF”）再重新上传"
        )
    if code == "embedded_file":
        names = "、".join(p.get("names") or [])
        more = f" 等 {p['count']} 个" if p.get("count", 0) > len(p.get("names") or []) else ""
        return (
            f"文件里内嵌了其他文件（{names}{more}）：评审专家看不到内嵌的文件，"
            "请把其内容转成 PDF 页面单独上传，或“打印为 PDF”去掉内嵌文件后上传"
        )
    if code == "javascript":
        on_open = " /OpenAction" in " " + " ".join(p.get("where") or [])
        when = "（打开文件时自动运行）" if on_open else ""
        return f"文件含有 JavaScript 脚本{when}：评审系统不接受带脚本的文件，{PRINT_TO_PDF}"
    texts = {
        "missing": f"找不到文件 {name}：请检查路径是否正确",
        "not_a_file": f"{name} 不是普通文件（可能是文件夹或设备）：请选择要上传的文件",
        "unreadable": f"没有权限读取文件 {name}：请检查文件权限，或复制到自己的文件夹后再上传",
        "empty": "文件是空的（0 字节），可能复制或下载没有完成：请重新导出或重新下载后上传",
        "too_large": (
            f"文件太大（{p.get('size')}，上限 {human_size(lim.max_pdf_bytes)}）：请压缩 PDF"
            "（如扫描分辨率改为 150–300 dpi、用灰度扫描）或拆分成几个文件后上传"
        ),
        "not_pdf": f"{_this_is(what)}，不是 PDF 文件：{todo}",
        "encrypted": "文件已加密（打开需要密码）：请用原软件另存为未加密的 PDF 后重新上传",
        "no_pages": "PDF 里一页也没有：请用原软件重新导出后上传",
        "truncated": (
            "文件不完整（结尾缺失，可能下载或复制时中断）：请重新导出或重新下载完整的文件后上传"
        ),
        "corrupt": f"文件已损坏，无法正常读取：{PRINT_TO_PDF}",
        "bomb": (
            f"文件解压后超过 {human_size(int(p.get('limit') or lim.max_decoded_bytes))}，"
            f"可能是恶意构造的文件：{PRINT_TO_PDF}"
        ),
        "launch": f"文件含有启动外部程序的动作（Launch）：评审系统不接受，{PRINT_TO_PDF}",
        "timeout": (
            f"检查超时（超过 {p.get('seconds')} 秒），文件可能过于复杂或已损坏：{PRINT_TO_PDF}"
        ),
        "memory": (
            f"检查时占用内存超过上限（{human_size(lim.memory_bytes)}），文件可能过于复杂"
            f"或是恶意构造的：{PRINT_TO_PDF}"
        ),
        "crashed": f"检查程序读取该文件时异常退出，文件可能已损坏：{PRINT_TO_PDF}",
        "not_image": f"{_this_is(what)}，不是照片：请上传 JPG 或 PNG 格式的证件照",
        "unsupported_image": (
            f"照片格式 {p.get('format')} 不支持：请转换为 JPG 或 PNG 格式后重新上传"
        ),
        "image_corrupt": "照片已损坏或不完整，无法显示：请重新拍摄或重新导出后上传",
        "not_portrait": (
            f"照片是横向的（{p.get('width')}×{p.get('height')} 像素）："
            "证件照应为竖向（高度大于宽度），请裁剪或旋转后重新上传"
        ),
    }
    return texts.get(code, f"无法检查该文件（{code}）：{PRINT_TO_PDF}")


def _verdict(
    path: Path, kind: Kind, lim: Limits, code: str, size: int, reply: dict[str, Any] | None = None
) -> Verdict:
    reply = reply or {}
    params = dict(reply.get("params") or {})
    params["size"] = human_size(size)
    params["pages"] = reply.get("pages")
    if "outside" in params:
        params["outside"] = "、".join(params["outside"])
    warn_codes = list(reply.get("warnings") or [])
    warns = [WARNINGS[w].format(**params) if w in WARNINGS else w for w in warn_codes]
    return Verdict(
        path=str(path), kind=kind, accepted=code == "ok", code=code,
        message=_message(code, kind, params, lim, path.name), warnings=warns,
        warning_codes=warn_codes, pages=reply.get("pages"), size=size,
        media_type=reply.get("media_type"), sha256=reply.get("sha256"),
        seconds=float(reply.get("seconds") or 0.0),
    )  # fmt: skip


# ---------------------------------------------------------------------------- the children
class _Child:
    """One worker process and its pipes; answers one request at a time."""

    def __init__(self, lim: Limits) -> None:
        env = dict(os.environ)
        # The child imports this very zctui, whatever put it on the parent's path.
        src = str(Path(zctui.__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen(
            [sys.executable, "-P", "-m", "zctui.pdf.check_worker", lim.model_dump_json()],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            cwd="/", env=env, close_fds=True,
        )  # fmt: skip
        self.uses = 0
        self._buf = bytearray()

    def ask(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        """The child's reply, or {"code": "timeout"|"memory"|"crashed"} when it did not give
        one (it is then dead: the caller must not reuse it)."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.uses += 1
        try:
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return self._died(timeout)
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                return {"code": "timeout", "params": {"seconds": timeout}, "dead": True}
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    return self._died(timeout)
                self._buf += chunk
        line, _, rest = self._buf.partition(b"\n")
        self._buf = bytearray(rest)
        reply: dict[str, Any] = json.loads(line)
        if reply.get("fatal"):
            reply["dead"] = True
            self.kill()
        return reply

    def _died(self, timeout: float) -> dict[str, Any]:
        try:
            rc = self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()
            rc = -signal.SIGKILL
        if rc == -signal.SIGXCPU:  # the CPU-time limit ended it
            return {"code": "timeout", "params": {"seconds": timeout}, "dead": True}
        return {"code": "crashed", "params": {"rc": rc}, "dead": True}  # e.g. a C decoder

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()

    def close(self) -> None:
        """Ask it to finish (EOF on stdin); kill it if it does not at once."""
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()


ProgressFn = Callable[[int, int, Verdict], None]


class Checker:
    """Keeps up to `workers` children and reuses them. Thread-safe: `check` may be called from
    several threads at once (each call borrows a child). Close it, or use it as a context."""

    def __init__(self, limits: Limits | None = None, workers: int = 2) -> None:
        self.limits = limits or Limits()
        self.workers = max(1, workers)
        self._idle: queue.LifoQueue[_Child] = queue.LifoQueue()
        self._all: set[_Child] = set()
        self._lock = threading.Lock()
        self._closed = False

    def __enter__(self) -> Checker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start the children now, in the background (a process start is ~0.1 s of imports):
        call it when a screen that will check files opens, so the first check is quick."""
        with self._lock:
            missing = self.workers - len(self._all)
        for _ in range(max(0, missing)):
            child = _Child(self.limits)
            with self._lock:
                self._all.add(child)
            self._idle.put(child)

    def _borrow(self) -> _Child:
        while True:
            try:
                child = self._idle.get_nowait()
            except queue.Empty:
                child = _Child(self.limits)
                with self._lock:
                    self._all.add(child)
                return child
            if child.alive:
                return child
            self._drop(child)

    def _drop(self, child: _Child) -> None:
        child.kill()
        with self._lock:
            self._all.discard(child)

    def _give_back(self, child: _Child, reply: dict[str, Any]) -> None:
        if reply.get("dead") or self._closed or child.uses >= self.limits.max_files_per_child:
            self._drop(child)
        else:
            self._idle.put(child)

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        child = self._borrow()
        reply: dict[str, Any] = {"dead": True}
        try:
            reply = child.ask(request, self.limits.timeout_seconds)
            return reply
        finally:
            self._give_back(child, reply)

    def check(self, path: str | os.PathLike[str], kind: Kind = "pdf") -> Verdict:
        if kind not in ("pdf", "photo"):
            raise ValueError(f"kind must be 'pdf' or 'photo', not {kind!r}")
        p = Path(path).absolute()
        lim = self.limits
        try:
            st = p.stat()
        except FileNotFoundError:
            return _verdict(p, kind, lim, "missing", 0)
        except PermissionError:
            return _verdict(p, kind, lim, "unreadable", 0)
        if not p.is_file():  # a FIFO or device would block the reader forever
            return _verdict(p, kind, lim, "not_a_file", 0)
        size = st.st_size
        if size == 0:
            return _verdict(p, kind, lim, "empty", 0)
        if size > (lim.max_photo_bytes if kind == "photo" else lim.max_pdf_bytes):
            return _verdict(p, kind, lim, "too_large", size)
        started = time.monotonic()
        reply = self._ask({"op": "check", "path": str(p), "kind": kind})
        reply.setdefault("seconds", round(time.monotonic() - started, 4))
        return _verdict(p, kind, lim, str(reply.get("code")), size, reply)

    def check_many(
        self,
        paths: Iterable[str | os.PathLike[str]],
        kind: Kind = "pdf",
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[Verdict]:
        """Check files `workers` at a time; yield each verdict as it is ready (not in input
        order) and call `progress(done, total, verdict)` first. Meant for a worker thread;
        setting `cancel` (or closing the generator) stops before the next file."""
        todo = list(paths)
        total, done = len(todo), 0
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="zctui-check")
        pending: set[Future[Verdict]] = set()
        it = iter(todo)
        try:
            while True:
                while len(pending) < self.workers and not (cancel and cancel.is_set()):
                    nxt = next(it, None)
                    if nxt is None:
                        break
                    pending.add(pool.submit(self.check, nxt, kind))
                if not pending:
                    return
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    verdict = fut.result()
                    done += 1
                    if progress is not None:
                        progress(done, total, verdict)
                    yield verdict
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _probe(self, **what: Any) -> dict[str, Any]:
        """For the tests: run a probe in a child (allocate, spin, sleep) and return its
        reply, which shows the limits the child runs under."""
        return self._ask({"op": "probe", **what})

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                self._idle.get_nowait()
            except queue.Empty:
                break
        with self._lock:
            children = list(self._all)
            self._all.clear()
        for child in children:
            child.close()


def check_file(
    path: str | os.PathLike[str], kind: Kind = "pdf", limits: Limits | None = None
) -> Verdict:
    """Check one file in a fresh child (about 0.1 s to start); for many, use `check_many`
    or keep a `Checker`."""
    with Checker(limits, workers=1) as checker:
        return checker.check(path, kind)


def check_many(
    paths: Iterable[str | os.PathLike[str]],
    kind: Kind = "pdf",
    *,
    workers: int = 2,
    limits: Limits | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> Iterator[Verdict]:
    """Check files `workers` at a time, yielding verdicts as they finish (see Checker)."""
    with Checker(limits, workers=workers) as checker:
        yield from checker.check_many(paths, kind, progress=progress, cancel=cancel)


def expand_paths(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Files as given, and every file under a given folder (sorted, hidden ones skipped)."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for dirpath, dirnames, filenames in os.walk(p):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                out += [Path(dirpath) / f for f in sorted(filenames) if not f.startswith(".")]
        else:
            out.append(p)
    return out
