"""Batch import in the TUI (issue 7): pick a workbook (XLSX or CSV) and, if any, the attachment
folder, then the import runs in a worker with a progress bar, and the report (every problem
by sheet!cell, then the totals) is shown to scroll through and copy from.

Open it with `app.push_screen(ImportScreen(store), callback)`: the callback gets the
ImportReport when an import ran (refresh the applicants table then), or None."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, ProgressBar, Static, TextArea

from zctui.exchange.importer import ImportReport, ReadError, import_file
from zctui.store.repository import Store
from zctui.store.session import FileChecker
from zctui.widgets.path_picker import PathInput, suffix_filter

BOOK_SUFFIXES = frozenset({".xlsx", ".xlsm", ".csv"})


def _new_checker() -> FileChecker:
    from zctui.pdf.checks import Checker

    return Checker()


class ImportScreen(ModalScreen[ImportReport | None]):
    DEFAULT_CSS = """
    ImportScreen { align: center middle; }
    ImportScreen > Vertical {
        width: 110; max-width: 98%; height: 90%;
        border: round $accent; padding: 0 1; background: $surface;
    }
    ImportScreen .hint { color: $text-muted; }
    ImportScreen ProgressBar { height: 1; }
    ImportScreen #import-report { height: 1fr; }
    ImportScreen .-hidden { display: none; }
    """
    BINDINGS = [Binding("escape", "close", "关闭", id="import-close")]

    class Progress(Message):
        def __init__(self, done: int, total: int, label: str) -> None:
            super().__init__()
            self.done, self.total, self.label = done, total, label

    class Done(Message):
        def __init__(self, report: ImportReport) -> None:
            super().__init__()
            self.report = report

    class Failed(Message):
        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    def __init__(
        self,
        store: Store,
        *,
        checker_factory: Callable[[], FileChecker] = _new_checker,
        year: int | None = None,
        start_in: Path | None = None,
    ) -> None:
        super().__init__()
        self.store, self.checker_factory, self.year = store, checker_factory, year
        self.start_in = start_in or store.path.parent
        self.busy = False
        self.report: ImportReport | None = None
        self.progress_seen: list[tuple[int, int]] = []  # what the bar was fed (done, total)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("批量导入（XLSX 或 CSV；模板：zctui import --template）", markup=False)
            yield Static("导入文件（Tab 补全，回车开始）：", classes="hint")
            yield PathInput(suffix_filter(BOOK_SUFFIXES), compact=True, id="import-file")
            yield Static("附件文件夹（每人一个以身份证号命名的子文件夹；可不填）：", classes="hint")
            yield PathInput(lambda _name: False, compact=True, id="import-attachments")
            yield Checkbox("只检查，不写入（试导入）", id="import-dry-run", compact=True)
            yield ProgressBar(id="import-progress", show_eta=False, classes="-hidden")
            yield Static("", id="import-status", markup=False)
            yield TextArea("", id="import-report", read_only=True, classes="-hidden")
            yield Static("回车 开始导入 · Esc 关闭", classes="hint")

    def on_mount(self) -> None:
        path_input = self.query_one("#import-file", PathInput)
        path_input.suggest_folder(str(self.start_in).rstrip("/") + "/")
        path_input.focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.busy:
            return
        book_text = self.query_one("#import-file", PathInput).value.strip()
        book = Path(book_text).expanduser() if book_text else None
        if book is None or not book.is_file():
            self.notify("请输入要导入的 XLSX 或 CSV 文件的路径", severity="error")
            return
        folder_text = self.query_one("#import-attachments", PathInput).value.strip()
        folder = Path(folder_text).expanduser() if folder_text else None
        if folder is not None and not folder.is_dir():
            self.notify(f"附件文件夹 {folder} 不存在：请改正或清空", severity="error")
            return
        self.busy = True
        self.query_one("#import-status", Static).update("正在导入……")
        self.query_one("#import-report", TextArea).add_class("-hidden")
        if not getattr(self.app, "low_bandwidth", False):
            bar = self.query_one(ProgressBar)
            bar.update(total=None, progress=0)
            bar.remove_class("-hidden")
        dry = self.query_one("#import-dry-run", Checkbox).value
        self._run(book, folder, dry)

    @work(thread=True, exclusive=True, group="import")
    def _run(self, book: Path, folder: Path | None, dry_run: bool) -> None:
        last: dict[str, float | str] = {"at": 0.0, "label": ""}

        def progress(done: int, total: int, label: str) -> None:
            now = time.monotonic()  # at most ~10 messages a second reach the screen
            at = last["at"]
            assert isinstance(at, float)
            if label != last["label"] or now - at >= 0.1 or done >= total:
                last["at"], last["label"] = now, label
                self.post_message(self.Progress(done, total, label))

        try:
            report = import_file(
                self.store, book, attachments=folder, dry_run=dry_run, year=self.year,
                checker_factory=self.checker_factory, progress=progress,
            )  # fmt: skip
        except ReadError as exc:
            self.post_message(self.Failed(str(exc)))
        except Exception as exc:
            self.post_message(
                self.Failed(f"导入失败（{exc}）：工作区未被改动的部分保持原样，请重试")
            )
        else:
            self.post_message(self.Done(report))

    @on(Progress)
    def _progress(self, event: Progress) -> None:
        self.progress_seen.append((event.done, event.total))
        self.query_one("#import-status", Static).update(
            f"{event.label}（{event.done}/{event.total}）"
        )
        if not getattr(self.app, "low_bandwidth", False):
            self.query_one(ProgressBar).update(total=max(event.total, 1), progress=event.done)

    @on(Done)
    def _done(self, event: Done) -> None:
        self.busy = False
        self.report = event.report
        self.query_one(ProgressBar).add_class("-hidden")
        lines = event.report.lines()
        summary = next((x for x in lines if "文件中共" in x), "")
        self.query_one("#import-status", Static).update(summary)
        area = self.query_one("#import-report", TextArea)
        area.load_text("\n".join(lines))
        area.remove_class("-hidden")
        area.focus()

    @on(Failed)
    def _failed(self, event: Failed) -> None:
        self.busy = False
        self.query_one(ProgressBar).add_class("-hidden")
        self.query_one("#import-status", Static).update(event.message)

    def action_close(self) -> None:
        if self.busy:  # leaving would hide the report of an import that is still writing
            self.notify("正在导入，请稍候……", severity="warning")
            return
        self.dismiss(self.report)
