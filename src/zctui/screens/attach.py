"""A slot's files: the list (Delete removes one) and a keyboard file picker to add more.

Type a path (Tab completes, `~` works) or browse the list below it (↓ to enter it, Enter opens
a folder, Space marks files, Backspace goes up); Enter attaches the marked files, or the one
typed. Every file is checked in a child process before it is stored (issue 4); several files
are checked in a worker, two at a time, with a progress bar, while the dialog keeps taking
keys. Accepted files are attached in the order chosen; each refused one is listed with its
message, and stays marked, so nothing chosen is lost."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option

from zctui.data.forms import SectionSpec, SlotSpec
from zctui.pdf.checks import Checker, Verdict, human_size
from zctui.store.session import AttachRefused, EditSession, ReadOnlyError
from zctui.widgets.path_picker import (
    IMAGE_SUFFIXES,
    PDF_SUFFIXES,
    FileList,
    PathInput,
    candidates,
    folder_of,
    shown,
    split_typed,
    suffix_filter,
)

_last_folder: str | None = None  # where the previous dialog was, so the next one starts there


class AttachScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    AttachScreen { align: center middle; }
    AttachScreen > Vertical {
        width: 90; max-width: 98%; height: auto; max-height: 95%;
        border: round $accent; padding: 0 1; background: $surface;
    }
    AttachScreen #attach-files { height: auto; max-height: 15vh; border: none; }
    AttachScreen #attach-browser { height: auto; max-height: 35vh; border: none; }
    AttachScreen #attach-results { height: auto; max-height: 20vh; }
    AttachScreen .hint { color: $text-muted; }
    AttachScreen .refused { color: $error; }
    AttachScreen ProgressBar { height: 1; }
    AttachScreen .-hidden { display: none; }
    """
    BINDINGS = [
        Binding("escape", "close", "关闭", id="attach-close"),
        Binding("delete", "remove", "删除所选文件", id="attach-remove"),
        Binding("down", "browse", "浏览文件夹", id="attach-browse", show=False),
    ]

    # ------------------------------------------------------------ worker → screen
    class Checked(Message):
        """One more file checked (from the worker)."""

        def __init__(self, done: int, total: int, name: str) -> None:
            super().__init__()
            self.done, self.total, self.name = done, total, name

    class Attached(Message):
        def __init__(self, path: Path, warnings: list[str]) -> None:
            super().__init__()
            self.path, self.warnings = path, warnings

    class Refused(Message):
        def __init__(self, path: Path, message: str) -> None:
            super().__init__()
            self.path, self.message = path, message

    class Finished(Message):
        def __init__(self, attached: int, refused: int, skipped: list[Path]) -> None:
            super().__init__()
            self.attached, self.refused, self.skipped = attached, refused, skipped

    def __init__(
        self, session: EditSession, section: SectionSpec, owner_id: uuid.UUID, slot: SlotSpec
    ) -> None:
        super().__init__()
        self.session, self.section, self.owner_id, self.slot = session, section, owner_id, slot
        suffixes = IMAGE_SUFFIXES if slot.kind == "photo" else PDF_SUFFIXES
        self.accept = suffix_filter(suffixes)
        self.busy = False
        self._cancel = threading.Event()
        self._results: list[str] = []

    @property
    def low_bandwidth(self) -> bool:
        return bool(getattr(self.app, "low_bandwidth", False))

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"{self.slot.label}  [{self.slot.rule}]", markup=False)
            yield Static(self.slot.help, classes="hint", markup=False)
            yield Static("已添加（Delete 删除所选）：", classes="hint")
            yield OptionList(id="attach-files")
            yield PathInput(
                self.accept,
                placeholder="文件路径，Tab 补全，回车添加（如 ~/扫描/封面.pdf）",
                compact=True,
                id="attach-path",
            )
            yield Static("", id="attach-folder", classes="hint", markup=False)
            yield FileList(id="attach-browser")
            yield ProgressBar(id="attach-progress", show_eta=False, classes="-hidden")
            yield Static("", id="attach-progress-text", classes="-hidden", markup=False)
            with VerticalScroll(id="attach-results", classes="-hidden", can_focus=False):
                yield Static("", id="attach-results-text", markup=False)
            yield Static(
                "回车添加 · Tab 补全 · ↓ 浏览 · 空格 多选 · Backspace 上一级 · Esc 关闭",
                classes="hint",
            )

    def on_mount(self) -> None:
        self._list()
        path_input = self.query_one(PathInput)
        path_input.suggest_folder(_last_folder or "~/")
        path_input.focus()
        self._start_checker()

    @work(thread=True)
    def _start_checker(self) -> None:
        """Start the check processes now, so the first file is checked in milliseconds."""
        self.session.checker.start()

    # ------------------------------------------------------------ the slot's files
    def _list(self) -> None:
        ol = self.query_one("#attach-files", OptionList)
        ol.clear_options()
        files = self.session.files(self.owner_id, self.slot.code)
        for a in files:
            ol.add_option(Option(Text(f"{a.original_name}  {human_size(a.size)}"), id=str(a.id)))
        if not files:
            ol.add_option(Option("（还没有文件）", disabled=True))

    def action_remove(self) -> None:
        ol = self.query_one("#attach-files", OptionList)
        if ol.highlighted is None:
            return
        option = ol.get_option_at_index(ol.highlighted)
        if option.id:
            try:
                self.session.remove_file(uuid.UUID(option.id))
            except ReadOnlyError as exc:
                self.notify(str(exc), severity="error")
                return
            self._list()

    # ------------------------------------------------------------ the picker
    @on(Input.Changed, "#attach-path")
    def _typed(self, event: Input.Changed) -> None:
        self._browse_list(event.value)

    def _browse_list(self, value: str) -> None:
        head, tail = split_typed(value)
        folder = folder_of(head)
        entries = candidates(value, self.accept)
        self.query_one(FileList).show(folder, entries)
        marked = len(self.query_one(FileList).marked)
        what = "图片" if self.slot.kind == "photo" else "PDF"
        line = f"{shown(folder)}{tail}  {len(entries)} 项（只列出文件夹和{what}）"
        if not folder.is_dir():
            line = f"文件夹 {head} 不存在：请检查路径"
        self.query_one("#attach-folder", Static).update(
            line + (f" · 已选 {marked} 个文件（回车添加）" if marked else "")
        )

    @on(PathInput.Stuck)
    def _stuck(self, event: PathInput.Stuck) -> None:
        """Tab found nothing more to complete: several candidates → go and pick in the list."""
        if len(event.hits) > 1:
            self.query_one(FileList).focus()
        elif not event.hits:
            self.notify("没有以此开头的文件或文件夹：请检查路径", severity="warning")

    def action_browse(self) -> None:
        if isinstance(self.focused, PathInput):
            self.query_one(FileList).focus()

    def _go(self, folder: Path) -> None:
        path_input = self.query_one(PathInput)
        path_input.suggest_folder(shown(folder))

    @on(FileList.Up)
    def _up(self) -> None:
        head, _ = split_typed(self.query_one(PathInput).value)
        folder = folder_of(head).resolve()
        self._go(folder.parent)

    @on(OptionList.OptionSelected, "#attach-browser")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        files = self.query_one(FileList)
        entry = files.current()
        if entry is None:
            return
        if entry.is_dir:
            self._go(entry.path)
            return
        chosen = list(files.marked) or [entry.path]
        self._attach_paths(chosen)

    @on(Input.Submitted, "#attach-path")
    def _submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        marked = list(self.query_one(FileList).marked)
        path = Path(value).expanduser() if value else None
        if path is not None and path.is_dir():
            if marked:  # the marked files, chosen while looking at this folder
                self._attach_paths(marked)
            else:
                self._go(path)
            return
        # a typed file joins the marked ones; a wrong path alone is checked, which says why
        if path is not None and (path.is_file() or not marked) and path not in marked:
            marked.append(path)
        if not marked:
            return
        self._attach_paths(marked)

    # ------------------------------------------------------------ attaching
    def _attach_paths(self, paths: list[Path]) -> None:
        if self.busy:
            self.notify("正在检查上一批文件，请稍候", severity="warning")
            return
        global _last_folder
        _last_folder = shown(paths[-1].expanduser().absolute().parent)
        self.busy = True
        self._cancel.clear()
        self._results = []
        self._show_results()
        total = len(paths)
        if self.low_bandwidth:  # one short line of text, no animated bar
            self._progress_text(f"正在检查 0/{total} 个文件……")
        else:
            bar = self.query_one(ProgressBar)
            bar.update(total=total, progress=0)
            bar.remove_class("-hidden")
        self._run(paths)

    def _progress_text(self, text: str) -> None:
        label = self.query_one("#attach-progress-text", Static)
        label.update(text)
        label.set_class(not text, "-hidden")

    @work(thread=True, exclusive=True, group="attach")
    def _run(self, paths: list[Path]) -> None:
        """Check every file (two children at a time), then attach the accepted ones in the
        order chosen, each as soon as the files before it are settled."""
        order = list(dict.fromkeys(p.expanduser().absolute() for p in paths))
        keys = [str(p) for p in order]
        verdicts: dict[str, Verdict] = {}
        settled = attached = refused = 0

        def progress(done: int, total: int, v: Verdict) -> None:
            self.post_message(self.Checked(done, total, Path(v.path).name))

        try:
            checker = self.session.checker
            assert isinstance(checker, Checker)
            for verdict in checker.check_many(
                order, self.slot.kind, progress=progress, cancel=self._cancel
            ):
                verdicts[verdict.path] = verdict
                while settled < len(order) and keys[settled] in verdicts:
                    if self._attach_one(order[settled], verdicts[keys[settled]]):
                        attached += 1
                    else:
                        refused += 1
                    settled += 1
        except Exception as exc:  # never leave the dialog busy, nor the files unaccounted for
            for path in order[settled:]:
                self.post_message(self.Refused(path, f"检查时出错（{exc}）：请重新添加"))
                refused += 1
            settled = len(order)
        finally:
            self.post_message(self.Finished(attached, refused, order[settled:]))

    def _attach_one(self, path: Path, verdict: Verdict) -> bool:
        if not verdict.accepted:
            self.post_message(self.Refused(path, verdict.message))
            return False
        try:
            digest, kept = self.session.store_file(self.section, self.slot.code, path, verdict)
            # the row goes in on the UI thread, which owns the session's memory
            self.app.call_from_thread(
                self.session.add_attachment,
                self.section, self.owner_id, self.slot.code, path.name, digest, kept,
            )  # fmt: skip
        except AttachRefused as exc:
            self.post_message(self.Refused(path, exc.verdict.message))
            return False
        except ReadOnlyError as exc:
            self.post_message(self.Refused(path, str(exc)))
            return False
        except OSError as exc:
            message = f"无法保存到工作区（{exc.strerror or exc}）：请检查磁盘空间后重新添加"
            self.post_message(self.Refused(path, message))
            return False
        self.post_message(self.Attached(path, verdict.warnings))
        return True

    @on(Checked)
    def _checked(self, event: Checked) -> None:
        if self.low_bandwidth:
            self._progress_text(f"正在检查 {event.done}/{event.total}：{event.name}")
        else:
            self.query_one(ProgressBar).update(total=event.total, progress=event.done)

    @on(Attached)
    def _attached(self, event: Attached) -> None:
        self._list()
        self.query_one(FileList).unmark([event.path])
        for w in event.warnings:
            self._results.append(f"⚠ {event.path.name}：{w}")
        self._show_results()

    @on(Refused)
    def _refused(self, event: Refused) -> None:
        self._results.append(f"✗ {event.path.name}：{event.message}")
        self._show_results()

    @on(Finished)
    def _finished(self, event: Finished) -> None:
        self.busy = False
        self.query_one(ProgressBar).add_class("-hidden")
        for p in event.skipped:
            self._results.append(f"– {p.name}：已停止，未添加（仍为选中状态，可再按回车添加）")
        parts = [f"已添加 {event.attached} 个文件"]
        if event.refused:
            parts.append(f"{event.refused} 个未通过检查（见下方原因，修改后可重新添加）")
        self._progress_text("；".join(parts))
        self._show_results()
        self._browse_list(self.query_one(PathInput).value)  # marks and counts
        if event.refused == 0 and not event.skipped:
            path_input = self.query_one(PathInput)
            if Path(path_input.value).expanduser().is_file():  # done with the typed file
                path_input.value = shown(Path(path_input.value).expanduser().parent)

    def _show_results(self) -> None:
        box = self.query_one("#attach-results", VerticalScroll)
        text = self.query_one("#attach-results-text", Static)
        text.update("\n".join(self._results))
        text.set_class(any(r.startswith("✗") for r in self._results), "refused")
        box.set_class(not self._results, "-hidden")

    def results(self) -> list[str]:
        """The lines listed for the last batch (refused files and warnings)."""
        return list(self._results)

    def action_close(self) -> None:
        if self.busy:
            if not self._cancel.is_set():
                self._cancel.set()
                self.notify("正在停止：检查中的文件完成后停止，已通过的文件会保留", timeout=4)
            return
        self.dismiss(None)

    def on_unmount(self) -> None:
        self._cancel.set()
