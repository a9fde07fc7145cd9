"""The application screen: the checklist sidebar on the left, the current step or section on
the right, the header with who, which year, the workflow state and the saving state."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import AwaitMount, Widget
from textual.widgets import ContentSwitcher, Header

from zctui.domain.checklist import Item
from zctui.screens.export import ExportKind, ExportScreen
from zctui.screens.info import ApplicationInfo, StepText
from zctui.screens.records import RecordList
from zctui.screens.section_form import Edited, SectionForm
from zctui.screens.submit import SubmitPane
from zctui.store.session import EditSession
from zctui.widgets.bindings_footer import BindingsFooter
from zctui.widgets.checklist_sidebar import ChecklistSidebar, Target
from zctui.widgets.field_row import FieldRow
from zctui.widgets.return_reasons import ReturnReasons
from zctui.widgets.save_state import SaveState

LOGIN_NOTE = "本地工作区无需登录。连接服务器后，用身份证号和密码登录；首次登录须修改默认密码。"


PREBUILD_AFTER = 0.5  # seconds after the first pane is up
PREBUILD_EVERY = 0.03


def pane_id(target: Target) -> str:
    return f"pane-{target[0]}-{target[1]}"


class MainScreen(Screen[None]):
    DEFAULT_CSS = """
    MainScreen > Horizontal { height: 1fr; }
    MainScreen ContentSwitcher { width: 1fr; height: 1fr; }
    MainScreen #side { width: 30; height: 1fr; border-right: vkey $foreground 20%; }
    MainScreen #side > ChecklistSidebar { width: 1fr; height: 1fr; border-right: none; }
    """
    BINDINGS = [
        # priority: a DataTable or a long Input would otherwise take these keys first
        Binding("f2", "next_missing", "下一缺项", id="next-missing", priority=True),
        Binding("ctrl+pagedown", "step(1)", "下一步", id="next-step", priority=True),
        Binding("ctrl+pageup", "step(-1)", "上一步", id="prev-step", priority=True),
        Binding("ctrl+b", "focus_sidebar", "目录", id="focus-sidebar", priority=True),
        # Opened from the applicants table: back to it (everything typed is saved first).
        Binding("f9", "back", "返回名单", id="back-to-list", priority=True),
    ]
    # Textual repaints the whole screen when the focus moves (Screen.focused repaints): 6–8 KB
    # per section switch over SSH. The widgets whose look depends on the focus repaint
    # themselves (focus styles, the cursor), so the screen need not.
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)

    def __init__(
        self, session: EditSession, sync_state: str = "本地工作区", *, back: bool = False
    ) -> None:
        super().__init__()
        self.session = session
        self.back = back  # opened over a list (the applicants table) that F9 returns to
        self.sync_state = sync_state
        self.current: Target = ("step", "2")
        self._last_missing: tuple[int, int, int] | None = None  # where F2 last took the user
        self.prebuilt = False  # every pane built (tests and benchmarks wait for it)
        self._building: AwaitMount | None = None  # the pane being built ahead, if any

    def compose(self) -> ComposeResult:
        yield Header(icon="职")
        yield ReturnReasons(markup=False, classes="-empty")
        with Horizontal():
            with Vertical(id="side"):
                yield ChecklistSidebar(self.session.checklist, id="sidebar")
                yield SaveState()
            yield ContentSwitcher(id="content")
            yield from self.compose_aside()
        yield BindingsFooter()

    def compose_aside(self) -> ComposeResult:
        """A panel right of the form (the unit's review adds its marks there)."""
        yield from ()

    async def on_mount(self) -> None:
        self.refresh_header()
        self.refresh_reasons()
        first = "settings" if self.session.data.application.category is None else "basic"
        pane = await self.show(("section", first))
        self._focus_first(pane)
        if getattr(self.app, "low_bandwidth", False):
            # Each hidden mount re-lays out the screen, which Textual sends whole: ~100 KB
            # at start-up. On a slow link that costs seconds; building on demand, 40 ms.
            self.prebuilt = True
        else:
            self.set_timer(PREBUILD_AFTER, self._prebuild_next)

    async def _prebuild_next(self) -> None:
        """Build the panes not visited yet, one per idle moment, hidden: a first visit costs
        ~40 ms of widget building, a revisit ~12 ms. One pane at a time, so a key pressed
        meanwhile waits for one pane at most."""
        if not self.is_current:  # a dialog is open: try again later
            self.set_timer(PREBUILD_EVERY * 10, self._prebuild_next)
            return
        switcher = self.query_one(ContentSwitcher)
        for target in self.order():
            target = self.resolve(target)
            try:
                switcher.get_child_by_id(pane_id(target))
            except NoMatches:
                pane = self._make_pane(target)
                pane.display = False
                self._building = switcher.mount(pane)
                await self._building
                self._building = None
                self.set_timer(PREBUILD_EVERY, self._prebuild_next)
                return
        self.prebuilt = True

    # ------------------------------------------------------------------ header
    def refresh_header(self) -> None:
        """Set the header only when its text changes (a change repaints the screen); the
        saving state, which changes with every key, has a line of its own under the sidebar."""
        s = self.session
        person = s.data.person
        name = person.name if person and person.name else "（未填姓名）"
        title = f"{name} · {s.data.application.year}年度"
        state = s.catalog.values("workflow_state").label_of(s.data.application.state)
        sub_title = f"{state} · {self.sync_state}"
        if (self.title, self.sub_title) != (title, sub_title):
            self.title, self.sub_title = title, sub_title
        self.query_one(SaveState).show(s.pending, bool(s.failed))

    # ------------------------------------------------------------------ navigation
    def _make_pane(self, target: Target) -> Widget:
        kind, key = target
        s = self.session
        pid = pane_id(target)
        if kind == "step":
            step = next(st for st in s.forms.steps if st.number == int(key))
            if step.number == 6:
                return ApplicationInfo(s, step, id=pid)
            if step.number == 12:
                return SubmitPane(s, step, id=pid)
            return StepText(step, LOGIN_NOTE, id=pid)
        section = s.forms.section(key)
        if section.kind == "list":
            return RecordList(s, section, id=pid)
        return SectionForm(s, section, s.row_of(section), id=pid)

    def resolve(self, target: Target) -> Target:
        """A step with sections opens its first section."""
        kind, key = target
        if kind == "step" and int(key) not in (1, 6, 12):
            sections = self.session.forms.sections_of(int(key))
            if sections:
                return ("section", sections[0].code)
        return target

    async def show(self, target: Target) -> Widget:
        target = self.resolve(target)
        switcher = self.query_one(ContentSwitcher)
        pid = pane_id(target)
        try:
            pane: Widget = switcher.get_child_by_id(pid)
            existed = True
            if self._building is not None:  # it may be the one still composing
                await self._building
        except NoMatches:
            pane, existed = self._make_pane(target), False
            pane.display = False  # no frame of the old pane sharing the space with it
            await switcher.mount(pane)
        switcher.current = pid
        self.current = target
        if existed and isinstance(pane, ApplicationInfo):
            pane.refresh_info()
        if existed and isinstance(pane, SubmitPane):
            pane.refresh_state()
        if existed and isinstance(pane, SectionForm):
            pane.refresh_rules()
        self.query_one(ChecklistSidebar).select_target(target)
        return pane

    def open_target(self, target: Target) -> None:
        """Show a step or section and focus its first field (for the command palette)."""
        self.call_later(self._open_and_focus, target)

    async def _open_and_focus(self, target: Target) -> None:
        self._focus_first(await self.show(target))

    @on(ChecklistSidebar.Chosen)
    async def _chosen(self, event: ChecklistSidebar.Chosen) -> None:
        pane = await self.show(event.target)
        self._focus_first(pane)

    def _focus_first(self, pane: Widget) -> None:
        editable = [r for r in pane.query(FieldRow) if not r.read_only]
        if isinstance(pane, RecordList):
            pane.query_one("DataTable").focus()
        elif editable:
            editable[0].focus_editor()
        else:
            focusable = [w for w in pane.query("*") if w.focusable]
            (focusable[0] if focusable else pane).focus()

    def order(self) -> list[Target]:
        out: list[Target] = []
        for step in self.session.forms.steps:
            sections = self.session.forms.sections_of(step.number)
            if sections:
                out += [("section", sec.code) for sec in sections]
            else:
                out.append(("step", str(step.number)))
        return out

    async def action_step(self, offset: int) -> None:
        targets = self.order()
        i = targets.index(self.current) if self.current in targets else 0
        pane = await self.show(targets[(i + offset) % len(targets)])
        self._focus_first(pane)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            return self.back
        return True

    async def action_back(self) -> None:
        if self._building is not None:  # a pane half mounted must not be torn down mid-way
            await self._building
        closer = getattr(self.app, "close_application", None)
        if closer is not None:
            closer()

    def action_focus_sidebar(self) -> None:
        self.query_one(ChecklistSidebar).focus()

    # ------------------------------------------------------------------ F2
    def place(self, item: Item) -> tuple[int, int, int]:
        """Where an item sits in the form: section, record, then field or slot order."""
        section = self.session.forms.section(item.section)
        names = [f.name for f in section.fields] + [sl.code for sl in section.slots]
        key = item.field or item.slot
        # a rule on the whole record or section (至少一项 …) comes after its fields and slots
        within = names.index(key) if key in names else len(names)
        # the section's own rules (缺少2022年度考核 …) come after its records, as in the checklist
        record = item.record_index if item.record_index is not None else 1_000_000
        return (self.section_index(item.section), record, within)

    def section_index(self, code: str) -> int:
        return [sec.code for sec in self.session.forms.sections].index(code)

    async def action_next_missing(self) -> None:
        """The first missing item after the last one F2 showed, in the form's order (an item
        just fixed drops out of the list, so counting positions would skip its successor);
        when the user has gone elsewhere since, the first from the top of where they are."""
        errors = self.session.checklist.errors
        if not errors:
            self.notify("没有缺项：可以到第12步提交。")
            return
        places = [self.place(e) for e in errors]
        kind, key = self.current
        here = self.section_index(key) if kind == "section" else -1
        last = self._last_missing
        if last is None or last[0] != here:
            last = (here, -1, -1)  # just before everything in this section
        after = [i for i, p in enumerate(places) if p > last]
        chosen = after[0] if after else 0  # past the last one: wrap to the first
        self._last_missing = places[chosen]
        await self.go_to(errors[chosen])

    async def go_to(self, item: Item) -> None:
        pane = await self.show(("section", item.section))
        self.notify(f"[{item.rule}] {item.message}", timeout=4, markup=False)
        if isinstance(pane, RecordList):
            rows = self.session.rows_of(pane.section)
            row = next((r for r in rows if r.id == item.record_id), None)
            if row is not None:
                pane.open_record(row, field=item.field, slot=item.slot)
            else:
                pane.query_one("DataTable").focus()
            return
        self._focus_item(pane, item)

    def _focus_item(self, pane: Widget, item: Item) -> None:
        if item.field:
            found = pane.query(f"#field-{item.field}")
            if found:
                found.first(FieldRow).focus_editor()
                return
        if item.slot:
            found = pane.query(f"#slot-{item.slot}")
            if found:
                found.first().focus()
                return
        self._focus_first(pane)

    def export(self, kind: ExportKind) -> None:
        """The PDFs, from the command palette (and Ctrl+E / Ctrl+R on step 12)."""
        self.app.push_screen(ExportScreen(self.session, kind))

    # ------------------------------------------------------------------ edits
    @on(Edited)
    def _edited(self, event: Edited) -> None:
        event.stop()
        self.refresh_checklist()

    def refresh_checklist(self) -> None:
        self.query_one(ChecklistSidebar).show(self.session.checklist)
        self.refresh_reasons()
        self.refresh_header()

    def refresh_reasons(self) -> None:
        app = self.session.data.application
        self.query_one(ReturnReasons).show(self.session.forms, app.state, app.return_items)

    @on(SubmitPane.Submitted)
    @on(SubmitPane.Cleared)
    def _rebuild(self, event: Any) -> None:
        """After submission everything turns read-only; after 清空 everything is empty."""
        event.stop()
        switcher = self.query_one(ContentSwitcher)
        current = self.current
        for child in list(switcher.children):
            if child.id != pane_id(current):
                child.remove()
        self.refresh_checklist()

    def rebuild(self) -> None:
        """The session was read again (a sync brought changes, or a lock): every pane is
        built anew from it, the current one at once."""
        switcher = self.query_one(ContentSwitcher)
        focus_was_here = self.focused is not None
        for child in list(switcher.children):
            child.remove()
        self.refresh_checklist()

        async def reopen() -> None:
            pane = await self.show(self.current)
            if focus_was_here:
                self._focus_first(pane)

        self.call_later(reopen)
