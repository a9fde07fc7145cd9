"""Export the application as a PDF from the TUI: the dossier (申报材料: cover, summary and every
attachment, bookmarked) or the review form (评审表). Asks where to save it (default: the
workspace folder, `<姓名>-<年度>-申报材料.pdf`), builds it in a worker with a progress bar,
then shows the path, the page count and any warning (e.g. no Chinese font to embed)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, ProgressBar, Static

from zctui.store.session import EditSession
from zctui.widgets.path_picker import PDF_SUFFIXES, PathInput, suffix_filter

ExportKind = Literal["dossier", "review_form"]
# (the file's name part, the action's name in menus)
KINDS: dict[ExportKind, tuple[str, str]] = {
    "dossier": ("申报材料", "导出申报材料（PDF）"),
    "review_form": ("评审表", "导出评审表（PDF）"),
}


def default_path(session: EditSession, kind: ExportKind) -> Path:
    """<workspace folder>/<姓名>-<年度>-申报材料.pdf, with characters no file system takes
    replaced."""
    data = session.data
    name = data.person.name if data.person and data.person.name else ""
    stem = "-".join(p for p in (name, str(data.application.year), KINDS[kind][0]) if p)
    return session.store.path.parent / (re.sub(r'[\\/:*?"<>|\s]+', "_", stem) + ".pdf")


class ExportScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    ExportScreen { align: center middle; }
    ExportScreen > Vertical {
        width: 90; max-width: 98%; height: auto; max-height: 95%;
        border: round $accent; padding: 0 1; background: $surface;
    }
    ExportScreen .hint { color: $text-muted; }
    ExportScreen #export-note { color: $warning; }
    ExportScreen #export-warnings { color: $warning; }
    ExportScreen ProgressBar { height: 1; }
    ExportScreen .-hidden { display: none; }
    """
    BINDINGS = [Binding("escape", "close", "关闭", id="export-close")]

    class Progress(Message):
        def __init__(self, done: int, total: int, label: str) -> None:
            super().__init__()
            self.done, self.total, self.label = done, total, label

    class Done(Message):
        def __init__(self, path: Path, pages: int, attachments: int | None, warnings: list[str]):
            super().__init__()
            self.path, self.pages, self.attachments, self.warnings = (
                path, pages, attachments, warnings,
            )  # fmt: skip

    class Failed(Message):
        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    def __init__(self, session: EditSession, kind: ExportKind) -> None:
        super().__init__()
        self.session, self.kind = session, kind
        self.busy = False
        self.result: Path | None = None

    @property
    def low_bandwidth(self) -> bool:
        return bool(getattr(self.app, "low_bandwidth", False))

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(KINDS[self.kind][1], markup=False)
            yield Static("保存到（Tab 补全，回车开始导出）：", classes="hint")
            yield PathInput(suffix_filter(PDF_SUFFIXES), compact=True, id="export-path")
            yield Static("", id="export-note", markup=False)
            yield ProgressBar(id="export-progress", show_eta=False, classes="-hidden")
            yield Static("", id="export-status", markup=False)
            yield Static("", id="export-warnings", markup=False)
            yield Static("回车 导出 · Esc 关闭", classes="hint")

    def on_mount(self) -> None:
        path_input = self.query_one(PathInput)
        path_input.value = str(default_path(self.session, self.kind))
        path_input.cursor_position = len(path_input.value)
        path_input.focus()

    @on(Input.Changed, "#export-path")
    def _changed(self, event: Input.Changed) -> None:
        target = self._target(event.value)
        note = ""
        if target is not None and target.exists():
            note = "文件已存在：回车将覆盖它（或改一个文件名）"
        self.query_one("#export-note", Static).update(note)

    def _target(self, value: str) -> Path | None:
        """Where to write: a folder gets the default name; .pdf is added when missing."""
        if not value.strip():
            return None
        path = Path(value.strip()).expanduser()
        if path.is_dir():
            path = path / default_path(self.session, self.kind).name
        if path.suffix.lower() != ".pdf":
            path = path.with_name(path.name + ".pdf")
        return path.absolute()

    @on(Input.Submitted, "#export-path")
    def _submitted(self, event: Input.Submitted) -> None:
        if self.busy:
            return
        target = self._target(event.value)
        if target is None:
            self.notify("请输入保存 PDF 的文件路径", severity="error")
            return
        if not target.parent.is_dir():
            self.notify(
                f"文件夹 {target.parent} 不存在：请先建立它，或换一个位置", severity="error"
            )
            return
        self.busy = True
        self.query_one("#export-status", Static).update("正在生成……")
        self.query_one("#export-warnings", Static).update("")
        if not self.low_bandwidth:
            bar = self.query_one(ProgressBar)
            bar.update(total=None, progress=0)  # the review form has no steps to count
            bar.remove_class("-hidden")
        self._build(target)

    @work(thread=True, exclusive=True, group="export")
    def _build(self, target: Path) -> None:
        # Imported here: reportlab, fpdf and pypdf are needed only once something is exported.
        from zctui.config import Settings
        from zctui.pdf.dossier import build_dossier
        from zctui.pdf.fonts import find_cjk_font
        from zctui.pdf.review_form import build_review_form

        s = self.session

        def progress(done: int, total: int, label: str) -> None:
            self.post_message(self.Progress(done, total, label))

        try:
            settings = Settings()  # the configured font (ZCTUI_CJK_FONT), as the CLI uses
            font = find_cjk_font(settings.cjk_font, settings.cjk_font_index)
            if self.kind == "dossier":
                d = build_dossier(s.data, s.catalog, s.forms, s.blobs, target, progress, font=font)
                self.post_message(self.Done(d.path, d.pages, d.attachments, d.warnings))
            else:
                r = build_review_form(s.data, s.catalog, s.forms, target, blobs=s.blobs, font=font)
                self.post_message(self.Done(r.path, r.pages, None, r.warnings))
        except OSError as exc:
            self.post_message(
                self.Failed(f"无法写入 {target}（{exc.strerror or exc}）：请换一个位置再导出")
            )
        except Exception as exc:
            self.post_message(self.Failed(f"导出失败（{exc}）：请稍后重试，或联系服务热线"))

    @on(Progress)
    def _progress(self, event: Progress) -> None:
        text = f"正在生成 {event.done}/{event.total}：{event.label}"
        self.query_one("#export-status", Static).update(text)
        if not self.low_bandwidth:
            self.query_one(ProgressBar).update(total=event.total, progress=event.done)

    @on(Done)
    def _done(self, event: Done) -> None:
        self.busy = False
        self.result = event.path
        self.query_one(ProgressBar).add_class("-hidden")
        files = f"，附件 {event.attachments} 个" if event.attachments is not None else ""
        self.query_one("#export-status", Static).update(
            f"已导出：{event.path}（{event.pages} 页{files}）"
        )
        self.query_one("#export-note", Static).update("")
        self.query_one("#export-warnings", Static).update(
            "\n".join(f"注意：{w}" for w in event.warnings)
        )

    @on(Failed)
    def _failed(self, event: Failed) -> None:
        self.busy = False
        self.query_one(ProgressBar).add_class("-hidden")
        self.query_one("#export-status", Static).update(event.message)

    def action_close(self) -> None:
        if self.busy:  # the worker writes a .part file; leaving now would hide the result
            self.notify("正在导出，请稍候……", severity="warning")
            return
        self.dismiss(None)
