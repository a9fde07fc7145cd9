"""Read-only views: 申报信息 (R6, generated from the settings) and the login step (R1)."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from zctui.data.forms import StepSpec
from zctui.domain.fields import options_for
from zctui.store.session import EditSession


class ApplicationInfo(VerticalScroll):
    """R6: 申报单位, 类别, 系列, 专业, 职称, 职称等级, 申报方式, 评审方式 — not editable here."""

    DEFAULT_CSS = """
    ApplicationInfo { padding: 0 1; }
    ApplicationInfo > .note { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, session: EditSession, step: StepSpec, **kw: Any) -> None:
        super().__init__(**kw)
        self.session, self.step = session, step

    def help_topic(self) -> tuple[str, str, str, str]:
        return (self.step.title, self.step.rule, "本页只读；要修改请回到第2步。", self.step.guide)

    def lines(self) -> list[str]:
        s = self.session
        section = s.forms.section("settings")
        app = s.data.application
        record = {f.name: getattr(app, f.name, None) for f in section.fields}
        out = []
        for spec in section.fields:
            value = record.get(spec.name) or ""
            if spec.kind == "select" and value:
                value = next(
                    (o.label for o in options_for(spec, record, s.catalog) if o.code == value),
                    value,
                )
            out.append(f"{spec.label}：{value or '（未填）'}")
            if spec.name == "title":
                series = s.catalog.series_by_code(app.series or "")
                title = series.title(app.title or "") if series else None
                level = s.catalog.levels[title.level - 1].label if title else "（随职称确定）"
                out.append(f"申报职称等级：{level}")
        return out

    def compose(self) -> ComposeResult:
        yield Static("\n".join(self.lines()), id="info-lines", markup=False)
        yield Static(self.step.guide, classes="note", markup=False)

    def refresh_info(self) -> None:
        self.query_one("#info-lines", Static).update("\n".join(self.lines()))


class StepText(VerticalScroll):
    """A step with no form of its own (R1 login): the guide's words for it."""

    DEFAULT_CSS = "StepText { padding: 0 1; }"

    def __init__(self, step: StepSpec, note: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.step, self.note = step, note

    def help_topic(self) -> tuple[str, str, str, str]:
        return (self.step.title, self.step.rule, self.note, self.step.guide)

    def compose(self) -> ComposeResult:
        yield Static(self.note, markup=False)
        yield Static(f"\n指南：{self.step.guide}", markup=False)
