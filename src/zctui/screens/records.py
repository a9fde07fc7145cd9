"""A list section (education, papers, appraisals …): the records in their order, with add,
edit (Enter), delete (with confirmation) and move up/down (order matters: R7.2, R9.1, R10.1).
A record opens in a dialog holding the same form as any section; it saves as you type."""

from __future__ import annotations

import uuid
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.reactive import Reactive
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import DataTable, Static

from zctui.data.forms import SectionSpec
from zctui.domain.fields import options_for
from zctui.screens.confirm import ConfirmScreen
from zctui.screens.section_form import Edited, SectionForm
from zctui.store.session import EditSession, ReadOnlyError


class RecordScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    RecordScreen { align: center middle; }
    RecordScreen > Vertical {
        width: 100; max-width: 100%; height: 90%; border: round $accent; background: $surface;
    }
    RecordScreen .title { padding: 0 1; text-style: bold; }
    """
    BINDINGS = [Binding("escape", "close", "关闭（已自动保存）", id="record-close")]
    # Each Tab would repaint the whole dialog and the screen under it (see MainScreen.focused)
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)

    def __init__(
        self,
        session: EditSession,
        section: SectionSpec,
        row: Any,
        index: int,
        *,
        field: str | None = None,
        slot: str | None = None,
    ) -> None:
        super().__init__()
        self.session, self.section, self.row, self.index = session, section, row, index
        self._focus_on = (field, slot)  # where F2 sends the user; else the first field

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                f"第{self.index}条{self.section.title}  [{self.section.rule}]", classes="title"
            )
            yield SectionForm(self.session, self.section, self.row)

    def on_mount(self) -> None:
        # one focus request, made here: a second one from outside would race this one
        field, slot = self._focus_on
        if slot and not field:
            self.focus_slot(slot)
        else:
            self.focus_field(field)

    def focus_field(self, name: str | None) -> None:
        form = self.query_one(SectionForm)
        row = form.field_row(name) if name else next(iter(form.query("FieldRow")), None)
        if row is not None:
            row.focus_editor()  # type: ignore[attr-defined]

    def focus_slot(self, code: str) -> None:
        found = self.query(f"#slot-{code}")
        if found:
            found.first().focus()

    def action_close(self) -> None:
        self.dismiss(None)


def summary(session: EditSession, section: SectionSpec, row: Any) -> str:
    """A record in one line: its first filled fields, with select codes shown as labels."""
    record = {f.name: getattr(row, f.name, None) for f in section.fields}
    parts = []
    for spec in section.fields:
        value = record.get(spec.name)
        if not value:
            continue
        if spec.kind == "select":
            label = next(
                (o.label for o in options_for(spec, record, session.catalog) if o.code == value),
                value,
            )
            value = label
        parts.append(str(value).replace("\n", " "))
        if len(parts) == 3:
            break
    return " · ".join(parts) or "（空）"


class RecordList(Vertical):
    DEFAULT_CSS = """
    RecordList { height: 1fr; padding: 0 1; }
    RecordList > .guide { color: $text-muted; }
    RecordList > DataTable { height: 1fr; overflow-x: hidden; }
    RecordList > .hint { color: $text-muted; height: 1; }
    """
    BINDINGS = [
        Binding("a", "add", "添加", id="record-add"),
        Binding("enter", "edit", "编辑", id="record-edit"),
        Binding("delete,d", "delete", "删除", id="record-delete"),
        Binding("ctrl+up,K", "move(-1)", "上移", id="record-up"),
        Binding("ctrl+down,J", "move(1)", "下移", id="record-down"),
    ]

    def __init__(self, session: EditSession, section: SectionSpec, **kw: Any) -> None:
        super().__init__(**kw)
        self.session, self.section = session, section

    def help_topic(self) -> tuple[str, str, str, str]:
        return (
            self.section.title,
            self.section.rule,
            "a 添加，回车编辑，d 删除，Ctrl+↑/↓ 调整顺序。",
            self.section.guide,
        )

    def compose(self) -> ComposeResult:
        if self.section.guide:
            yield Static(self.section.guide, classes="guide", markup=False)
        table: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=True)
        table.add_columns("#", "状态", "内容")
        yield table
        yield Static("a 添加 · 回车 编辑 · d 删除 · Ctrl+↑↓ 排序", classes="hint")

    def on_mount(self) -> None:
        # A rebuild (a sync reloaded the session) can remove a pane still being built ahead.
        if self.query(DataTable):
            self.reload()

    def reload(self, select: uuid.UUID | None = None) -> None:
        table = self.query_one(DataTable)
        rows = self.session.rows_of(self.section)
        result = self.session.checklist.section(self.section.code)
        missing: dict[uuid.UUID, int] = {}
        for item in result.items:
            if item.record_id is not None and item.severity == "error":
                missing[item.record_id] = missing.get(item.record_id, 0) + 1
        table.clear()
        for i, row in enumerate(rows, start=1):
            state = f"缺{missing[row.id]}" if row.id in missing else "✓"
            table.add_row(str(i), state, summary(self.session, self.section, row), key=str(row.id))
        if select is not None:
            ids = [r.id for r in rows]
            if select in ids:
                table.move_cursor(row=ids.index(select))

    def _current(self) -> Any:
        table = self.query_one(DataTable)
        rows = self.session.rows_of(self.section)
        if not rows or table.cursor_row is None or table.cursor_row >= len(rows):
            return None
        return rows[table.cursor_row]

    def open_record(self, row: Any, field: str | None = None, slot: str | None = None) -> None:
        index = [r.id for r in self.session.rows_of(self.section)].index(row.id) + 1
        screen = RecordScreen(self.session, self.section, row, index, field=field, slot=slot)
        self.app.push_screen(screen, callback=lambda _r: self._record_closed(row.id))

    def _record_closed(self, row_id: uuid.UUID) -> None:
        self.reload(select=row_id)
        self.post_message(Edited())

    def action_add(self) -> None:
        try:
            row = self.session.add_record(self.section)
        except ReadOnlyError as exc:
            self.notify(str(exc), severity="error")
            return
        self.reload(select=row.id)
        self.post_message(Edited())
        self.open_record(row)

    def action_edit(self) -> None:
        row = self._current()
        if row is not None:
            self.open_record(row)

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_edit()

    def action_delete(self) -> None:
        row = self._current()
        if row is None:
            return
        text = f"删除这条{self.section.title}及其附件？\n{summary(self.session, self.section, row)}"

        def done(yes: bool | None) -> None:
            if yes:
                try:
                    self.session.delete_record(self.section, row.id)
                except ReadOnlyError as exc:
                    self.notify(str(exc), severity="error")
                    return
                self.reload()
                self.post_message(Edited())

        self.app.push_screen(ConfirmScreen("删除记录", text, yes="删除"), callback=done)

    def action_move(self, offset: int) -> None:
        row = self._current()
        if row is None:
            return
        try:
            moved = self.session.move_record(self.section, row.id, offset)
        except ReadOnlyError as exc:
            self.notify(str(exc), severity="error")
            return
        if moved:
            self.reload(select=row.id)
            self.post_message(Edited())
