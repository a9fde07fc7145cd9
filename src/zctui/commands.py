"""The command palette (ctrl+p): every step, section and action, found by characters or by
pinyin initials (`lwlz` → 论文论著)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from zctui.screens.main import MainScreen


class SectionCommands(Provider):
    def _entries(self) -> list[tuple[str, Callable[[], object], str]]:
        from zctui.screens.main import MainScreen

        screen = self.screen
        if not isinstance(screen, MainScreen):
            return []
        main: MainScreen = screen
        forms = main.session.forms
        out: list[tuple[str, Callable[[], object], str]] = []
        for step in forms.steps:
            sections = forms.sections_of(step.number)
            out.append(
                (
                    f"第{step.number}步 {step.title}",
                    partial(main.open_target, ("step", str(step.number))),
                    step.rule,
                )
            )
            if len(sections) > 1:
                for sec in sections:
                    out.append(
                        (
                            f"第{step.number}步 › {sec.title}",
                            partial(main.open_target, ("section", sec.code)),
                            sec.rule,
                        )
                    )
        out.append(
            ("下一缺项 (F2)", partial(main.run_action, "next_missing"), "跳到下一个未完成的项目")
        )
        out.append(("提交审核", partial(main.open_target, ("step", "12")), "R12"))
        from zctui.screens.export import KINDS  # it imports the store: not at start-up

        for kind, (_, title) in KINDS.items():
            out.append((title, partial(main.export, kind), "保存为 PDF 文件，可打印或交给单位"))
        out.append(("操作指南 (F3)", partial(main.app.run_action, "guide"), "十二个步骤的指南原文"))
        out.append(("帮助 (F1)", partial(main.app.run_action, "help"), "当前项目的指南原文和规则"))
        return out

    async def discover(self) -> Hits:
        for text, callback, help_text in self._entries():
            yield DiscoveryHit(text, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        from zctui.data.base import pinyin_initials  # pydantic and pypinyin: not at start-up

        matcher = self.matcher(query)
        q = query.strip().lower()
        for text, callback, help_text in self._entries():
            score = matcher.match(text)
            if q and q in pinyin_initials(text):
                score = max(score, 0.9)
            if score > 0:
                yield Hit(score, matcher.highlight(text), callback, help=help_text)


class UnitCommands(SectionCommands):
    """A unit admin's screens, on any screen once logged in to a server: the review queue
    (R12) and the unit's accounts (R1.3). Found like the sections (pinyin: shlb)."""

    def _entries(self) -> list[tuple[str, Callable[[], object], str]]:
        app = self.app
        api = getattr(app, "api", None)
        if api is None or getattr(app, "role", None) != "unit_admin":
            return []
        from zctui.screens.review_queue import ReviewQueueScreen
        from zctui.screens.unit_accounts import UnitAccountsScreen

        return [
            ("审核列表", lambda: app.push_screen(ReviewQueueScreen(api)), "R12 单位审核"),
            ("本单位帐号", lambda: app.push_screen(UnitAccountsScreen(api)), "开通帐号、重置密码"),
        ]
