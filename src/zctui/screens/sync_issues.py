"""Edits the server did not take (issue 6): conflicts, where the same field was changed on
both sides, and edits refused because the unit has opened the application (R12.2) or the
value was not accepted. Nothing is dropped silently: each stays listed, with what the
user typed, until the user settles it.

A conflict shows mine and theirs in full (long text too); `m` keeps mine (typed again as
a new edit, which the next sync sends), `t` keeps theirs. A refused edit can only be
acknowledged (Enter): its text stays visible here to copy from until then."""

from __future__ import annotations

import json
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from zctui.domain.fields import label_of
from zctui.domain.models import SyncIssue
from zctui.store import outbox
from zctui.store.session import EditSession

KIND_LABEL = {"conflict": "冲突", "locked": "已锁定，未保存到服务器", "refused": "被服务器拒绝"}


class SyncIssuesScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    SyncIssuesScreen { align: center middle; }
    SyncIssuesScreen > Vertical {
        width: 96; max-width: 98%; height: 90%; border: round $warning;
        padding: 0 1; background: $surface;
    }
    SyncIssuesScreen OptionList { height: 8; }
    SyncIssuesScreen Horizontal { height: 1fr; }
    SyncIssuesScreen .side { width: 1fr; height: 1fr; border: round $foreground 30%; }
    SyncIssuesScreen #hint { color: $text-muted; height: auto; }
    """
    BINDINGS = [
        Binding("m", "keep_mine", "用我的", id="issues-keep-mine"),
        Binding("t", "keep_theirs", "用服务器的", id="issues-keep-theirs"),
        Binding("enter", "acknowledge", "知道了", id="issues-acknowledge"),
        Binding("escape", "close", "关闭", id="issues-close"),
    ]

    def __init__(self, session: EditSession) -> None:
        super().__init__()
        self.session = session
        self.issues: list[SyncIssue] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("未被服务器接受的修改", id="heading")
            yield OptionList(id="issues")
            yield Static("", id="message", markup=False)
            with Horizontal():
                with VerticalScroll(classes="side"):
                    yield Static("", id="mine", markup=False)
                with VerticalScroll(classes="side"):
                    yield Static("", id="theirs", markup=False)
            yield Static("", id="hint")

    def on_mount(self) -> None:
        self.reload()
        self.query_one(OptionList).focus()

    def reload(self) -> None:
        self.issues = outbox.open_issues(self.session.store, self.session.application_id)
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(
            Option(f"{KIND_LABEL[i.kind]}：{self._where(i)}", id=str(i.id)) for i in self.issues
        )
        if not self.issues:
            self.dismiss(None)
            return
        options.highlighted = 0
        self._show(self.issues[0])

    def _section(self, issue: SyncIssue) -> Any:
        return self.session.forms.by_table(issue.table_name)

    def _where(self, issue: SyncIssue) -> str:
        section = self._section(issue)
        fields = list(json.loads(issue.mine))
        if section is None:
            return "、".join(fields)
        names = {f.name: f.label for f in section.fields}
        shown = [names[f] for f in fields if f in names]
        what = {"insert": "新增的记录", "delete": "删除记录"}.get(issue.op, "、".join(shown))
        return f"{section.title} · {what or '记录'}"

    def _values(self, issue: SyncIssue, raw: str | None) -> str:
        if not raw:
            return "—"
        values: dict[str, Any] = json.loads(raw)
        section = self._section(issue)
        specs = {f.name: f for f in section.fields} if section is not None else {}
        lines = []
        for name, value in values.items():
            spec = specs.get(name)
            if spec is None:
                continue  # position, ids: not what the user typed
            shown = label_of(spec, value, values, self.session.catalog) if value else "（空）"
            lines.append(f"{spec.label}：{shown}")
        if values.get("deleted") is True:
            lines.append("（这条记录已被删除）")
        return "\n".join(lines) or "—"

    def _show(self, issue: SyncIssue) -> None:
        self.query_one("#message", Static).update(issue.message)
        self.query_one("#mine", Static).update("我的：\n" + self._values(issue, issue.mine))
        theirs = self._values(issue, issue.theirs) if issue.kind == "conflict" else "—"
        self.query_one("#theirs", Static).update("服务器上的：\n" + theirs)
        hint = (
            "m 用我的（作为新的修改再次同步） · t 用服务器的 · Esc 关闭"
            if issue.kind == "conflict"
            else "Enter 知道了（左边是您当时填写的内容，可对照重新填写） · Esc 关闭"
        )
        self.query_one("#hint", Static).update(hint)

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_index < len(self.issues):
            self._show(self.issues[event.option_index])

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.action_acknowledge()

    def current(self) -> SyncIssue | None:
        index = self.query_one(OptionList).highlighted
        return self.issues[index] if index is not None and index < len(self.issues) else None

    def action_keep_mine(self) -> None:
        issue = self.current()
        if issue is None or issue.kind != "conflict":
            return
        if self.session.read_only:
            self.notify("申报已锁定，不能再修改", severity="warning")
            return
        section = self._section(issue)
        if section is not None and issue.op == "delete":
            # Mine was to delete it: delete it again, now that their changes are seen.
            if section.kind == "list" and any(
                r.id == issue.row_id for r in self.session.rows_of(section)
            ):
                self.session.delete_record(section, issue.row_id)
        elif section is not None:
            row_id = None if section.kind != "list" else issue.row_id
            for name, value in json.loads(issue.mine).items():
                if name in {f.name for f in section.fields}:
                    self.session.set_value(section, row_id, name, value or "")
        self._settle(issue)

    def action_keep_theirs(self) -> None:
        issue = self.current()
        if issue is not None and issue.kind == "conflict":
            self._settle(issue)

    def action_acknowledge(self) -> None:
        issue = self.current()
        if issue is not None and issue.kind != "conflict":
            self._settle(issue)

    def _settle(self, issue: SyncIssue) -> None:
        outbox.settle(self.session.store, issue.id or 0)
        self.reload()

    def action_close(self) -> None:
        self.dismiss(None)
