"""The unit's review of one application (R12): every section read-only with its checklist
(the applicant's own screen, `MainScreen`, in its read-only state) and a panel of the items
marked for return. F3 marks the section shown (or another, and a field) with a reason; F4
returns the application with the marks (退回); F6 approves it and forwards it to the title
office (审核通过). Both ask first; the server's refusals are shown as they are.

The marks are kept in a file beside the workspace until the return is sent: a crash or a
dropped link does not lose what the reviewer wrote."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, Static

from zctui.data.forms import Forms
from zctui.screens.confirm import ConfirmScreen
from zctui.screens.main import MainScreen
from zctui.store.repository import Store
from zctui.store.session import EditSession
from zctui.sync.api import ApiError, ReturnItem, ServerApi, ServerApplication
from zctui.widgets.return_reasons import item_text
from zctui.widgets.review_marks import ReviewMarks

log = logging.getLogger(__name__)
WHOLE = "（整个部分）"
REASON_MAX = 500  # the server's limit for one item's reason


class ReviewHost(Protocol):
    """What the review screens need from the app (`ZctuiApp`)."""

    store: Store | None
    session: EditSession | None
    sync_text: str

    def sync_now(self) -> Any: ...


def drafts_path(session: EditSession) -> Path:
    """Where the reviewer's marks wait until they are sent: beside the workspace file."""
    return session.store.path.with_name(f"review-{session.application_id}.json")


def load_marks(path: Path) -> list[ReturnItem]:
    try:
        return [ReturnItem.model_validate(m) for m in json.loads(path.read_text("utf-8"))]
    except FileNotFoundError:
        return []
    except (ValueError, ValidationError, OSError):
        log.warning("unreadable review marks in %s", path)
        return []


def save_marks(path: Path, marks: list[ReturnItem]) -> None:
    if not marks:
        path.unlink(missing_ok=True)
        return
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([m.model_dump() for m in marks], ensure_ascii=False), "utf-8")
    tmp.replace(path)  # whole or not at all


class MarkScreen(ModalScreen[ReturnItem | None]):
    """One item to send back: the section (the one shown, or another), optionally a field,
    and the reason in words the applicant can act on."""

    DEFAULT_CSS = """
    MarkScreen { align: center middle; }
    MarkScreen > Vertical {
        width: 72; max-width: 95%; height: auto; border: round $warning;
        padding: 0 1; background: $surface;
    }
    MarkScreen Select { margin-bottom: 1; }
    MarkScreen #mark-error { color: $error; height: auto; }
    MarkScreen Horizontal { height: auto; align-horizontal: right; }
    MarkScreen Button { margin-left: 1; min-width: 10; }
    """
    BINDINGS = [Binding("escape", "cancel", "取消", id="mark-cancel")]

    def __init__(self, forms: Forms, section: str | None, field: str | None = None) -> None:
        super().__init__()
        self.forms = forms
        self.section = section or forms.sections[0].code
        self.field = field

    def compose(self) -> ComposeResult:
        sections = [(f"第{s.step}步 {s.title}", s.code) for s in self.forms.sections]
        with Vertical():
            yield Static("标记问题（退回时发给申报人）", markup=False)
            yield Select(sections, value=self.section, allow_blank=False, id="mark-section")
            yield Select(self._fields(self.section), value=self.field or "", allow_blank=False,
                         id="mark-field")  # fmt: skip
            yield Input(placeholder="退回原因：哪里不对，应当怎样改", max_length=REASON_MAX,
                        id="mark-reason")  # fmt: skip
            yield Static("", id="mark-error", markup=False)
            with Horizontal():
                yield Button("取消", id="no")
                yield Button("添加标记", id="yes", variant="warning")

    def _fields(self, code: str) -> list[tuple[str, str]]:
        spec = self.forms.section(code)
        return [(WHOLE, ""), *((f.label, f.name) for f in spec.fields)]

    def on_mount(self) -> None:
        self.query_one("#mark-reason", Input).focus()

    @on(Select.Changed, "#mark-section")
    def _section_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.section:
            self.section = event.value
            self.query_one("#mark-field", Select).set_options(self._fields(event.value))

    @on(Input.Submitted, "#mark-reason")
    @on(Button.Pressed, "#yes")
    def _add(self) -> None:
        reason = self.query_one("#mark-reason", Input).value.strip()
        if not reason:
            self.query_one("#mark-error", Static).update(
                "请写明退回原因：哪里不对、应当怎样改（申报人将看到这句话）"
            )
            return
        field = self.query_one("#mark-field", Select).value
        chosen = field if isinstance(field, str) and field else None
        self.dismiss(ReturnItem(section=self.section, field=chosen, reason=reason))

    @on(Button.Pressed, "#no")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ReviewScreen(MainScreen):
    """The application as the applicant filled it, read-only, with the reviewer's marks."""

    BINDINGS = [
        Binding("f3", "mark", "标记问题", id="review-mark", priority=True),
        Binding("f4", "return_application", "退回", id="review-return", priority=True),
        Binding("f6", "approve", "审核通过", id="review-approve", priority=True),
        Binding("escape", "close", "返回列表", id="review-close"),
    ]

    class Acted(Message):
        def __init__(self, action: str, result: ServerApplication) -> None:
            super().__init__()
            self.action, self.result = action, result

    class ActFailed(Message):
        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    def __init__(
        self, session: EditSession, api: ServerApi, sync_state: str = "", name: str = ""
    ) -> None:
        super().__init__(session, sync_state=sync_state)
        self.api = api
        self.person_name = name or (session.data.person.name if session.data.person else "")
        self.drafts = drafts_path(session)
        self._previous: EditSession | None = None

    def compose_aside(self) -> ComposeResult:
        yield ReviewMarks(self.session.forms, load_marks(self.drafts), id="review-marks")

    async def on_mount(self) -> None:
        # Textual runs MainScreen.on_mount after this one (handlers run along the MRO).
        host: ReviewHost = self.app  # type: ignore[assignment]
        self._previous, host.session = host.session, self.session  # sync reloads this one
        self._show_state()

    @property
    def marks(self) -> ReviewMarks:
        return self.query_one(ReviewMarks)

    def refresh_header(self) -> None:
        super().refresh_header()
        if self.is_mounted:
            self._show_state()

    def _show_state(self) -> None:
        state = self.session.data.application.state
        label = self.session.catalog.values("workflow_state").label_of(state)
        self.query_one(ReviewMarks).show_state(f"状态：{label}")

    @on(ReviewMarks.Changed)
    def _marks_changed(self, event: ReviewMarks.Changed) -> None:
        event.stop()
        try:
            save_marks(self.drafts, self.marks.marks)
        except OSError as exc:
            self.notify(f"审核意见未能保存到 {self.drafts}：{exc}", severity="error")

    # ------------------------------------------------------------------ actions
    def action_mark(self) -> None:
        kind, key = self.current
        section = key if kind == "section" else None

        def done(mark: ReturnItem | None) -> None:
            if mark is not None:
                self.marks.add(mark)

        self.app.push_screen(MarkScreen(self.session.forms, section), done)

    def action_return_application(self) -> None:
        marks = self.marks.marks
        if not marks:
            self.notify(
                "还没有标记问题：先按 F3 逐项标记需要修改的地方并写明原因，再退回",
                severity="warning",
            )
            return
        lines = "\n".join(
            f"{i}. {item_text(self.session.forms, m.section, m.field, m.reason)}"
            for i, m in enumerate(marks, 1)
        )
        text = f"将申报退回给{self.person_name}修改，附以下 {len(marks)} 条意见：\n{lines}"

        def done(yes: bool | None) -> None:
            if yes:
                self._act("return", list(marks))

        self.app.push_screen(ConfirmScreen("退回申报", text, yes="确认退回"), done)

    def action_approve(self) -> None:
        text = f"审核通过{self.person_name}的申报，报送职改办。报送后单位不能再退回。"
        if self.marks.marks:
            text += f"\n\n注意：已标记的 {len(self.marks.marks)} 条意见不会发送。"

        def done(yes: bool | None) -> None:
            if yes:
                self._act("approve", [])

        self.app.push_screen(ConfirmScreen("审核通过", text, yes="确认通过"), done)

    @work(thread=True, group="review-act", exit_on_error=False)
    def _act(self, action: str, items: list[ReturnItem]) -> None:
        try:
            result = self.api.act(self.session.application_id, action, items=items)
        except ApiError as exc:
            self.post_message(self.ActFailed(str(exc)))
            return
        self.post_message(self.Acted(action, result))

    @on(Acted)
    def _acted(self, event: Acted) -> None:
        if event.action == "return":
            self.marks.clear()  # sent: the draft file goes with them
        label = self.session.catalog.values("workflow_state").label_of(event.result.state)
        done = "已退回申报人修改" if event.action == "return" else "已审核通过，报送职改办"
        self.notify(f"{done}（状态：{label}）")
        self.marks.show_state(f"状态：{label}")
        host: ReviewHost = self.app  # type: ignore[assignment]
        host.sync_now()  # the new state reaches this workspace too

    @on(ActFailed)
    def _failed(self, event: ActFailed) -> None:
        self.notify(event.message, severity="error", timeout=10)

    def action_close(self) -> None:
        host: ReviewHost = self.app  # type: ignore[assignment]
        if host.session is self.session:
            host.session = self._previous
        self.dismiss()

    def on_unmount(self) -> None:
        self.session.close()
