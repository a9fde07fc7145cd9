"""R12 提交审核: the checklist in full, submit only when nothing is missing (with the guide's
warning to confirm), and 清空 with a typed confirmation."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Static

from zctui.data.forms import StepSpec
from zctui.domain.checklist import Checklist
from zctui.screens.confirm import ConfirmScreen, TypedConfirmScreen
from zctui.screens.export import ExportKind, ExportScreen
from zctui.store.session import EditSession


def missing_text(checklist: Checklist) -> str:
    lines = [f"[{i.rule}] {i.message}" for i in checklist.errors]
    return "\n".join(lines)


class SubmitPane(VerticalScroll):
    DEFAULT_CSS = """
    SubmitPane { padding: 0 1; }
    SubmitPane > .state { text-style: bold; }
    SubmitPane > .missing { color: $warning; }
    SubmitPane Horizontal { height: auto; margin-top: 1; }
    SubmitPane Button { margin-right: 2; }
    """
    BINDINGS = [
        Binding("ctrl+t", "submit", "提交", id="submit"),
        # Not in the footer: at 80 columns it would push out F2 and F1; the pane's buttons
        # and the command palette show them.
        Binding("ctrl+e", "export('dossier')", "导出申报材料", id="export-dossier", show=False),
        Binding(
            "ctrl+r", "export('review_form')", "导出评审表", id="export-review-form", show=False
        ),
    ]

    class Submitted(Message):
        """The application went to the unit: every screen turns read-only."""

    class Cleared(Message):
        """清空 done: every screen shows the empty form."""

    def __init__(self, session: EditSession, step: StepSpec, **kw: Any) -> None:
        super().__init__(**kw)
        self.session, self.step = session, step

    def help_topic(self) -> tuple[str, str, str, str]:
        return (self.step.title, self.step.rule, "缺项全部补齐后才能提交。", self.step.guide)

    def compose(self) -> ComposeResult:
        yield Static("", classes="state", id="submit-state")
        yield Static("", classes="missing", id="submit-missing", markup=False)
        yield Static(self.step.guide, markup=False)
        with Horizontal():
            yield Button("提交", id="submit", variant="primary")
            yield Button("清空", id="clear", variant="error")
        with Horizontal():  # reading is allowed in every state: not disabled after submission
            yield Button("导出申报材料（PDF） Ctrl+E", id="export-dossier", classes="export")
            yield Button("导出评审表（PDF） Ctrl+R", id="export-review-form", classes="export")

    def on_mount(self) -> None:
        self.refresh_state()

    def refresh_state(self) -> None:
        s = self.session
        result = s.checklist
        if s.read_only:
            state = "已提交：等待用人单位审核，单位查看后不能撤回修改。"
        elif result.complete:
            state = "全部完成，可以提交。"
        else:
            state = f"还缺 {len(result.errors)} 项，补齐后才能提交（F2 跳到下一缺项）："
        self.query_one("#submit-state", Static).update(state)
        self.query_one("#submit-missing", Static).update(
            "" if s.read_only else missing_text(result)
        )
        for button in self.query(Button):
            button.disabled = s.read_only and not button.has_class("export")

    @on(Button.Pressed, "#submit")
    def action_submit(self) -> None:
        s = self.session
        if s.read_only:
            return
        if not s.checklist.complete:
            self.refresh_state()
            self.notify(f"还缺 {len(s.checklist.errors)} 项，不能提交", severity="warning")
            return

        def done(yes: bool | None) -> None:
            if yes and s.submit().complete:
                self.refresh_state()
                self.post_message(self.Submitted())

        # R12.2's warning and R12.3's notes, in the guide's words (data/forms.yaml, step 12).
        text = f"{self.step.guide}\n\n注意事项\n{self.step.notes}"
        self.app.push_screen(ConfirmScreen("提交审核", text, yes="确认提交"), done)

    @on(Button.Pressed, "#export-dossier")
    @on(Button.Pressed, "#export-review-form")
    def _export_pressed(self, event: Button.Pressed) -> None:
        self.action_export("dossier" if event.button.id == "export-dossier" else "review_form")

    def action_export(self, kind: ExportKind) -> None:
        self.app.push_screen(ExportScreen(self.session, kind))

    @on(Button.Pressed, "#clear")
    def _clear(self) -> None:
        def done(yes: bool | None) -> None:
            if yes:
                self.session.clear()
                self.refresh_state()
                self.post_message(self.Cleared())

        text = "清空将删除本申报已填写的全部信息和附件（申报设置保留），不能恢复。"
        self.app.push_screen(TypedConfirmScreen(text, "清空"), done)
