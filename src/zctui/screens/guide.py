"""The guide (issue 8): the operations guide's twelve steps in its own words (Markdown), and
the 填报说明 (R2.7). Opened from an application, a step leads to its part of the form:
Enter on a step, or a section's link, closes the guide there."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown, OptionList, Static
from textual.widgets.option_list import Option

from zctui.data.forms import Forms, load_forms
from zctui.data.guide import Guide, load_guide
from zctui.widgets.bindings_footer import BindingsFooter

Target = tuple[str, str]  # ("step", "3") or ("section", "basic"), as the checklist's
INSTRUCTIONS = "instructions"
SECTION_LINK = "zctui-section:"


class GuideScreen(ModalScreen[Target | None]):
    DEFAULT_CSS = """
    GuideScreen { background: $background 60%; }
    GuideScreen > Horizontal { height: 1fr; }
    GuideScreen #guide-steps { width: 30; height: 1fr; }
    GuideScreen #guide-scroll { width: 1fr; height: 1fr; padding: 0 1; }
    GuideScreen #guide-hint { height: 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape,q", "close", "关闭", id="guide-close"),
        Binding("tab", "toggle_focus", "切换", id="guide-toggle", show=False),
    ]

    def __init__(
        self,
        *,
        can_jump: bool = False,
        step: int | None = None,
        guide: Guide | None = None,
        forms: Forms | None = None,
    ) -> None:
        super().__init__()
        self.guide = guide or load_guide()
        self.forms = forms or load_forms()
        self.can_jump = can_jump  # opened from an application: a step opens its section
        self.first = step

    def compose(self) -> ComposeResult:
        entries = [Option(s.heading, id=str(s.number)) for s in self.guide.steps]
        entries.append(Option("填报说明（R2.7）", id=INSTRUCTIONS))
        with Horizontal():
            yield OptionList(*entries, id="guide-steps")
            with VerticalScroll(id="guide-scroll"):
                yield Markdown("", id="guide-text", open_links=False)
        hint = "回车：打开这一步  ·  Tab：阅读正文  ·  Esc：关闭"
        yield Static(hint if self.can_jump else "Tab：阅读正文  ·  Esc：关闭", id="guide-hint")
        yield BindingsFooter()

    def on_mount(self) -> None:
        steps = self.query_one("#guide-steps", OptionList)
        steps.highlighted = (self.first - 1) if self.first else 0
        steps.focus()
        self._show()

    def help_topic(self) -> tuple[str, str, str, str]:
        return ("操作指南", "R1–R12", "十二个步骤的指南原文；上下键选择步骤。", "")

    def markdown_of(self, entry: str) -> str:
        if entry == INSTRUCTIONS:
            return self.guide.instructions_markdown()
        step = self.guide.step(int(entry))
        sections = self.forms.sections_of(step.number)
        md = step.markdown()
        if sections:
            links = "、".join(f"[{s.title}]({SECTION_LINK}{s.code})" for s in sections)
            md += f"\n---\n\n在 zctui 中：{links}\n"
        return md

    def highlighted(self) -> str:
        steps = self.query_one("#guide-steps", OptionList)
        option = steps.highlighted_option
        return option.id if option is not None and option.id else "1"

    @on(OptionList.OptionHighlighted, "#guide-steps")
    def _show(self) -> None:
        self.query_one("#guide-text", Markdown).update(self.markdown_of(self.highlighted()))
        self.query_one("#guide-scroll").scroll_home(animate=False)

    @on(OptionList.OptionSelected, "#guide-steps")
    def _chosen(self) -> None:
        entry = self.highlighted()
        if self.can_jump and entry != INSTRUCTIONS:
            self.dismiss(("step", entry))
        else:
            self.query_one("#guide-scroll").focus()

    @on(Markdown.LinkClicked)
    def _link(self, event: Markdown.LinkClicked) -> None:
        event.stop()
        if event.href.startswith(SECTION_LINK) and self.can_jump:
            self.dismiss(("section", event.href.removeprefix(SECTION_LINK)))

    def action_toggle_focus(self) -> None:
        steps = self.query_one("#guide-steps", OptionList)
        (self.query_one("#guide-scroll") if steps.has_focus else steps).focus()

    def action_close(self) -> None:
        self.dismiss(None)
