"""The helpdesk's screen (服务热线, issue 8): find a person by ID number, name or pinyin
initials, and read their application as the server has it — ID number and mobile masked,
the step they are on, and each missing item with its rule id, our help and the guide's
words: the same F1 text the applicant sees, so both read the same thing on the phone.

Read-only by construction: the one input is the search box; there is no key that edits,
submits or syncs. The server refuses any write from a helpdesk account as well."""

from __future__ import annotations

import uuid
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Input, OptionList, Static
from textual.widgets.option_list import Option

from zctui.data.catalog import Catalog, load_catalog
from zctui.data.forms import Forms, load_forms
from zctui.domain.checklist import STATUS_LABEL, Item
from zctui.domain.lookups import HelpdeskView, LookupOut
from zctui.sync.api import ApiError, ServerApi
from zctui.widgets.bindings_footer import BindingsFooter

MARK = {"complete": "✓", "incomplete": "✗", "not_applicable": "–"}
PROMPT = "输入完整的身份证号、姓名或姓名拼音首字母（如 yf），回车查找"


class HelpdeskScreen(Screen[None]):
    DEFAULT_CSS = """
    HelpdeskScreen > Horizontal { height: 1fr; }
    HelpdeskScreen #left { width: 46; height: 1fr; border-right: vkey $foreground 20%; }
    HelpdeskScreen #results { height: 1fr; }
    HelpdeskScreen #lookup-message { color: $text-muted; height: auto; }
    HelpdeskScreen #view { width: 1fr; height: 1fr; padding: 0 1; }
    HelpdeskScreen #missing { height: auto; max-height: 12; }
    HelpdeskScreen #item-help { margin: 1 0; height: auto; }
    HelpdeskScreen .title { text-style: bold; }
    """
    BINDINGS = [
        Binding("ctrl+f", "focus_search", "查找", id="helpdesk-search"),
        Binding("ctrl+l", "focus_results", "结果", id="helpdesk-results"),
        Binding("ctrl+o", "focus_missing", "缺项", id="helpdesk-missing"),
    ]

    class Found(Message):
        def __init__(self, result: LookupOut) -> None:
            super().__init__()
            self.result = result

    class Viewed(Message):
        def __init__(self, view: HelpdeskView) -> None:
            super().__init__()
            self.view = view

    class Failed(Message):
        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    def __init__(
        self,
        api: ServerApi,
        *,
        forms: Forms | None = None,
        catalog: Catalog | None = None,
        name: str = "",
        owns_api: bool = False,
    ) -> None:
        super().__init__()
        self.api = api
        self.owns_api = owns_api
        self.forms = forms or load_forms()
        self.catalog = catalog or load_catalog()
        self.staff_name = name
        self.view: HelpdeskView | None = None
        self.missing: list[Item] = []

    def compose(self) -> ComposeResult:
        yield Header(icon="职")
        with Horizontal():
            with Vertical(id="left"):
                yield Input(placeholder="身份证号 / 姓名 / 拼音首字母", id="query")
                yield Static(PROMPT, id="lookup-message", markup=False)
                yield OptionList(id="results")
            with VerticalScroll(id="view"):
                yield Static("在左侧查找申报人，选中后回车查看其申报（只读）。", id="app-head",
                             markup=False)  # fmt: skip
                yield Static("", id="app-step", classes="title", markup=False)
                yield OptionList(id="missing")
                yield Static("", id="item-help", markup=False)
                yield Static("", id="app-steps", markup=False)
        yield BindingsFooter()

    def on_mount(self) -> None:
        self.title = "服务热线 · 查询申报（只读）"
        self.sub_title = self.staff_name
        self.query_one("#missing", OptionList).display = False
        self.query_one("#query", Input).focus()

    def on_unmount(self) -> None:
        if self.owns_api:
            self.api.close()

    # ------------------------------------------------------------------ F1
    def help_topic(self) -> tuple[str, str, str, str]:
        item = self.highlighted_item()
        if item is None:
            return ("服务热线查询", "R1–R12", PROMPT + "；只能查看，不能修改。", "")
        return self.item_topic(item)

    def item_topic(self, item: Item) -> tuple[str, str, str, str]:
        """The applicant's F1 for the item's field, slot or section (the guide's words the
        checklist gave it when the field has none of its own)."""
        label, _, help_text, guide = self.forms.help_topic(item.section, item.field, item.slot)
        return (label, item.rule, help_text, guide or item.guide)

    def highlighted_item(self) -> Item | None:
        i = self.query_one("#missing", OptionList).highlighted
        return self.missing[i] if i is not None and i < len(self.missing) else None

    # ------------------------------------------------------------------ lookup
    @on(Input.Submitted, "#query")
    def _search(self, event: Input.Submitted) -> None:
        q = event.value.strip()
        if not q:
            self._say(PROMPT)
            return
        self._say("正在查找…")
        self._lookup(q)

    @work(thread=True, exclusive=True, group="helpdesk-lookup")
    def _lookup(self, query: str) -> None:
        try:
            self.post_message(self.Found(self.api.helpdesk_lookup(query)))
        except ApiError as exc:
            self.post_message(self.Failed(str(exc)))

    def on_helpdesk_screen_found(self, event: Found) -> None:
        results = self.query_one("#results", OptionList)
        results.clear_options()
        people = event.result.people
        if not people:
            self._say("没有找到：请核对身份证号或姓名；拼音首字母如 yf（杨丰）")
            return
        n_apps = 0
        for p in people:
            who = f"{p.name}  {p.id_number or ''}  {p.unit_name or ''}".rstrip()
            if not p.applications:
                results.add_option(Option(f"{who}\n  尚未创建申报", disabled=True))
            for a in p.applications:
                n_apps += 1
                state = self.catalog.values("workflow_state").label_of(a.state)
                where = (
                    f"第{a.step.number}步 {a.step.title}（缺 {a.missing} 项）"
                    if a.step
                    else "没有缺项"
                )
                results.add_option(Option(f"{who}\n  {a.year}年度 · {state} · {where}",
                                          id=str(a.id)))  # fmt: skip
        more = "；结果较多，只列出前 20 人，请输入更完整的姓名" if event.result.more else ""
        self._say(f"找到 {len(people)} 人、{n_apps} 份申报；选中后回车查看{more}")
        results.focus()
        if n_apps == 1:  # the usual call: one person, one application, shown at once
            only = next(o for o in results.options if o.id)
            self._open(uuid.UUID(only.id or ""))

    @on(OptionList.OptionSelected, "#results")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self._open(uuid.UUID(event.option.id))

    def _open(self, app_id: uuid.UUID) -> None:
        self.query_one("#app-head", Static).update("正在读取申报…")
        self._fetch(app_id)

    @work(thread=True, exclusive=True, group="helpdesk-view")
    def _fetch(self, app_id: uuid.UUID) -> None:
        try:
            self.post_message(self.Viewed(self.api.helpdesk_application(app_id)))
        except ApiError as exc:
            self.post_message(self.Failed(str(exc)))

    def on_helpdesk_screen_failed(self, event: Failed) -> None:
        self._say(event.message)

    def _say(self, text: str) -> None:
        self.query_one("#lookup-message", Static).update(text)

    # ------------------------------------------------------------------ the application
    def on_helpdesk_screen_viewed(self, event: Viewed) -> None:
        self.view = view = event.view
        self.query_one("#app-head", Static).update("\n".join(self.head_lines(view)))
        step = view.step
        self.query_one("#app-step", Static).update(
            f"正在第{step.number}步：{step.title}（{step.rule}），"
            f"还缺 {len(view.checklist.errors)} 项"
            if step
            else "没有缺项：可以在第12步提交审核"
        )
        self.missing = view.checklist.errors
        missing = self.query_one("#missing", OptionList)
        missing.clear_options()
        titles = {s.code: s.title for s in view.checklist.sections}
        missing.add_options(
            Option(f"✗ [{i.rule}] {titles.get(i.section, i.section)}：{i.message}")
            for i in self.missing
        )
        missing.display = bool(self.missing)
        if self.missing:
            missing.highlighted = 0
        self._show_item_help()
        self.query_one("#app-steps", Static).update("\n".join(self.step_lines(view)))

    def head_lines(self, view: HelpdeskView) -> list[str]:
        a = view.application
        c = self.catalog
        series = c.series_by_code(a.series or "")
        category = c.category(a.category or "")
        specialty = series.specialty(a.specialty or "") if series else None
        title = series.title(a.title or "") if series else None
        method = c.method(a.method or "")
        state = c.values("workflow_state").label_of(a.state)
        return [
            f"{a.name or '（未填姓名）'} · {a.year}年度 · {state}",
            f"证件号码：{a.id_number or '—'}    手机号码：{view.mobile or '—'}",
            f"申报单位：{a.unit_name or '—'}",
            "申报：" + " / ".join(
                x.label if x else "（未选）" for x in (category, series, specialty, title)
            ) + f" · {method.label if method else '（未选申报方式）'}",
        ]  # fmt: skip

    def step_lines(self, view: HelpdeskView) -> list[str]:
        out = ["", "十二个步骤："]
        for s in view.checklist.steps:
            missing = sum(sec.missing for sec in s.sections)
            extra = f"（缺 {missing} 项）" if missing else ""
            out.append(
                f"  {MARK[s.status]} 第{s.number}步 {s.title}  {STATUS_LABEL[s.status]}{extra}"
            )
        return out

    @on(OptionList.OptionHighlighted, "#missing")
    def _show_item_help(self) -> None:
        item = self.highlighted_item()
        text = ""
        if item is not None:
            label, rule, help_text, guide = self.item_topic(item)
            text = f"{label}  [{rule}]"
            if help_text:
                text += f"\n说明：{help_text}"
            if guide:
                text += f"\n指南原文：{guide}"
        self.query_one("#item-help", Static).update(text)

    # ------------------------------------------------------------------ keys
    def action_focus_search(self) -> None:
        self.query_one("#query", Input).focus()

    def action_focus_results(self) -> None:
        self.query_one("#results", OptionList).focus()

    def action_focus_missing(self) -> None:
        missing = self.query_one("#missing", OptionList)
        if missing.display:
            missing.focus()


def helpdesk_screen(base_url: str, token: str, name: str = "", **kw: Any) -> HelpdeskScreen:
    """What the app pushes after a helpdesk login (role `helpdesk`)."""
    return HelpdeskScreen(ServerApi(base_url, token), name=name, owns_api=True, **kw)
