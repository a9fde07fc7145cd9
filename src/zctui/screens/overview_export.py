"""Export the overview table (一览表, XLSX) of the workspace's applicants from the TUI: asks
where to save it (default: the workspace folder, `<单位>-一览表.xlsx`), writes it in a worker,
then shows the path and how many applicants it holds. The unit admin's applicants table
opens it (`OverviewExportScreen(store)`)."""

from __future__ import annotations

import re
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from zctui.data.documents import load_documents
from zctui.store.repository import Store
from zctui.widgets.path_picker import PathInput, suffix_filter

XLSX = frozenset({".xlsx"})


def default_path(store: Store) -> Path:
    units = sorted({a.unit_name for a in store.applications() if a.unit_name})
    stem = "-".join([*units[:1], load_documents().overview.sheet])
    return store.path.parent / (re.sub(r'[\\/:*?"<>|\s]+', "_", stem) + ".xlsx")


class OverviewExportScreen(ModalScreen[Path | None]):
    """Dismissed with the written file, or None when closed without one."""

    DEFAULT_CSS = """
    OverviewExportScreen { align: center middle; }
    OverviewExportScreen > Vertical {
        width: 90; max-width: 98%; height: auto; max-height: 95%;
        border: round $accent; padding: 0 1; background: $surface;
    }
    OverviewExportScreen .hint { color: $text-muted; }
    OverviewExportScreen #overview-note { color: $warning; }
    """
    BINDINGS = [Binding("escape", "close", "关闭", id="overview-close")]

    class Done(Message):
        def __init__(self, path: Path, rows: int) -> None:
            super().__init__()
            self.path, self.rows = path, rows

    class Failed(Message):
        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    def __init__(self, store: Store, states: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.store, self.states = store, states
        self.busy = False
        self.result: Path | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("导出一览表（XLSX，A4 横向，可打印盖章）", markup=False)
            yield Static("保存到（Tab 补全，回车开始导出）：", classes="hint")
            yield PathInput(suffix_filter(XLSX), compact=True, id="overview-path")
            yield Static("", id="overview-note", markup=False)
            yield Static("", id="overview-status", markup=False)
            yield Static("回车 导出 · Esc 关闭", classes="hint")

    def on_mount(self) -> None:
        path_input = self.query_one(PathInput)
        path_input.value = str(default_path(self.store))
        path_input.cursor_position = len(path_input.value)
        path_input.focus()

    def _target(self, value: str) -> Path | None:
        if not value.strip():
            return None
        path = Path(value.strip()).expanduser()
        if path.is_dir():
            path = path / default_path(self.store).name
        if path.suffix.lower() != ".xlsx":
            path = path.with_name(path.name + ".xlsx")
        return path.absolute()

    @on(Input.Changed, "#overview-path")
    def _changed(self, event: Input.Changed) -> None:
        target = self._target(event.value)
        note = "文件已存在：回车将覆盖它（或改一个文件名）" if target and target.exists() else ""
        self.query_one("#overview-note", Static).update(note)

    @on(Input.Submitted, "#overview-path")
    def _submitted(self, event: Input.Submitted) -> None:
        if self.busy:
            return
        target = self._target(event.value)
        status = self.query_one("#overview-status", Static)
        if target is None:
            status.update("请输入保存一览表的文件路径（.xlsx）")
            return
        if not target.parent.is_dir():
            status.update(f"文件夹 {target.parent} 不存在：请先建立它，或换一个位置")
            return
        self.busy = True
        status.update("正在生成……")
        self._write(target)

    @work(thread=True, exclusive=True, group="overview")
    def _write(self, target: Path) -> None:
        from zctui.exchange.overview import from_store, write_overview

        try:
            # Its own connection: the store's engine is shared, SQLite reads are safe.
            apps = from_store(self.store, self.states)
            if not apps:
                self.post_message(self.Failed("工作区中没有申报，一览表无内容"))
                return
            result = write_overview(apps, target)
        except OSError as exc:
            msg = f"无法写入 {target}（{exc.strerror or exc}）：请换一个位置再导出"
            self.post_message(self.Failed(msg))
            return
        self.post_message(self.Done(result.path, result.rows))

    @on(Done)
    def _done(self, event: Done) -> None:
        self.busy = False
        self.result = event.path
        self.query_one("#overview-note", Static).update("")
        self.query_one("#overview-status", Static).update(
            f"已导出一览表：{event.path}（{event.rows} 人）"
        )

    @on(Failed)
    def _failed(self, event: Failed) -> None:
        self.busy = False
        self.query_one("#overview-status", Static).update(event.message)

    def action_close(self) -> None:
        if self.busy:
            self.notify("正在导出，请稍候……", severity="warning")
            return
        self.dismiss(self.result)
