"""The title office publishes 通知公告 and 政策文件 (title, body in Markdown), and sees what is
published of each kind. What was typed stays in the fields until the server took it."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Input, Markdown, Select, Static, TextArea

from zctui.screens.confirm import ConfirmScreen
from zctui.sync.api import ApiError, ServerApi
from zctui.widgets.bindings_footer import BindingsFooter

KINDS = {"announcement": "通知公告", "policy": "政策文件"}
TITLE_MAX = 200  # PublicationIn.title


class PublishScreen(Screen[None]):
    DEFAULT_CSS = """
    PublishScreen #publish-top { height: auto; }
    PublishScreen #publish-kind { width: 20; }
    PublishScreen #publish-title { width: 1fr; }
    PublishScreen #publish-body { height: 1fr; min-height: 6; }
    PublishScreen #publish-list { height: 8; }
    PublishScreen #publish-preview { height: 10; border-top: solid $accent; overflow-y: auto; }
    PublishScreen #publish-status { height: auto; color: $warning; padding: 0 1; }
    """
    BINDINGS = [
        Binding("ctrl+s", "publish", "发布", id="publish-send", priority=True),
        Binding("f5", "refresh", "刷新列表", id="publish-refresh"),
        Binding("escape", "back", "返回", id="publish-back"),
    ]

    class Listed(Message):
        def __init__(self, kind: str, items: list[dict[str, Any]]) -> None:
            super().__init__()
            self.kind, self.items = kind, items

    class Published(Message):
        def __init__(self, item: dict[str, Any]) -> None:
            super().__init__()
            self.item = item

    class Failed(Message):
        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    def __init__(self, api: ServerApi, *, kind: str = "announcement") -> None:
        super().__init__()
        self.api, self.kind = api, kind
        self.items: list[dict[str, Any]] = []
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("发布通知公告或政策文件（正文可用 Markdown）", markup=False)
            with Horizontal(id="publish-top"):
                yield Select(
                    [(label, code) for code, label in KINDS.items()],
                    value=self.kind,
                    allow_blank=False,
                    id="publish-kind",
                )
                yield Input(
                    placeholder="标题（必填，最多200字）",
                    max_length=TITLE_MAX,
                    compact=True,
                    id="publish-title",
                )
            yield TextArea(id="publish-body", soft_wrap=True)
            yield Static("", id="publish-status", markup=False)
            yield Static("已发布：", id="publish-heading", markup=False)
            table: DataTable[str] = DataTable(cursor_type="row", id="publish-list")
            table.add_columns("发布时间", "标题")
            yield table
            yield Markdown("", id="publish-preview")
        yield BindingsFooter()

    def on_mount(self) -> None:
        self.query_one("#publish-title", Input).focus()
        self.action_refresh()

    # ------------------------------------------------------------------ the list
    def action_refresh(self) -> None:
        self._list(self.kind)

    @work(thread=True, exclusive=True, group="publish-list")
    def _list(self, kind: str) -> None:
        try:
            self.post_message(self.Listed(kind, self.api.publications(kind)))
        except ApiError as exc:
            self.post_message(self.Failed(str(exc)))

    @on(Listed)
    def _listed(self, event: Listed) -> None:
        if event.kind != self.kind:
            return  # the kind changed while this list was on its way
        self.items = event.items
        table: DataTable[str] = self.query_one("#publish-list", DataTable)
        table.clear()
        for item in self.items:
            when = str(item.get("published_at") or "")[:16].replace("T", " ")
            table.add_row(when, str(item.get("title") or ""), key=str(item["id"]))
        heading = f"已发布的{KINDS[self.kind]}：{len(self.items)} 篇"
        self.query_one("#publish-heading", Static).update(heading)
        self._preview()

    @on(DataTable.RowHighlighted, "#publish-list")
    def _preview(self) -> None:
        table: DataTable[str] = self.query_one("#publish-list", DataTable)
        body = ""
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            item = next((i for i in self.items if str(i["id"]) == key), None)
            if item is not None:
                body = f"# {item.get('title') or ''}\n\n{item.get('body') or ''}"
        self.query_one("#publish-preview", Markdown).update(body)

    @on(Select.Changed, "#publish-kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        self.kind = str(event.value)
        self.action_refresh()

    # ------------------------------------------------------------------ publishing
    def action_publish(self) -> None:
        if self.busy:
            return
        title = self.query_one("#publish-title", Input).value.strip()
        if not title:
            self._status("请填写标题：标题不能为空，最多200字")
            self.query_one("#publish-title", Input).focus()
            return
        kind = KINDS[self.kind]
        self.app.push_screen(
            ConfirmScreen(f"发布{kind}", f"确认发布{kind}「{title}」？发布后所有人可见。"),
            lambda yes: self._send(title) if yes else None,
        )

    def _send(self, title: str) -> None:
        self.busy = True
        self._status("正在发布……")
        self._publish(self.kind, title, self.query_one("#publish-body", TextArea).text)

    @work(thread=True, group="publish-send")
    def _publish(self, kind: str, title: str, body: str) -> None:
        try:
            self.post_message(self.Published(self.api.publish(kind, title, body)))
        except ApiError as exc:
            self.post_message(self.Failed(str(exc)))

    @on(Published)
    def _published(self, event: Published) -> None:
        self.busy = False
        # Only now are the fields cleared: the server has the text.
        self.query_one("#publish-title", Input).value = ""
        self.query_one("#publish-body", TextArea).text = ""
        self._status(f"已发布：{event.item.get('title') or ''}")
        self.action_refresh()

    @on(Failed)
    def _failed(self, event: Failed) -> None:
        self.busy = False
        self._status(event.message)
        self.notify(event.message, severity="error")

    def _status(self, text: str) -> None:
        self.query_one("#publish-status", Static).update(text)

    def action_back(self) -> None:
        """Back to the office's queue (installed there, so what is typed stays)."""
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
