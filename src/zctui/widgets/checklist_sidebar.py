"""The checklist sidebar: the twelve steps and their sections, each ✓ / ✗ 缺n / –,
straight from the checklist engine, refreshed after every edit."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from zctui.domain.checklist import Checklist, SectionResult, StepResult

MARK = {"complete": "✓", "incomplete": "✗", "not_applicable": "–"}
Target = tuple[str, str]  # ("step", "6") or ("section", "paper")


def step_label(step: StepResult) -> str:
    missing = sum(s.missing for s in step.sections)
    tail = f" 缺{missing}" if missing else ""
    return f"{MARK[step.status]} {step.number} {step.title}{tail}"


def section_label(section: SectionResult) -> str:
    tail = f" 缺{section.missing}" if section.missing else ""
    return f"{MARK[section.status]} {section.title}{tail}"


class ChecklistSidebar(Tree[Target]):
    DEFAULT_CSS = """
    ChecklistSidebar {
        width: 30; overflow-x: hidden; scrollbar-size-vertical: 1;
        border-right: vkey $foreground 20%;
    }
    """
    BINDINGS = [Binding("enter", "select_cursor", "打开", show=False, id="sidebar-open")]

    class Chosen(Message):
        def __init__(self, target: Target) -> None:
            super().__init__()
            self.target = target

    def __init__(self, checklist: Checklist, **kwargs: object) -> None:
        super().__init__("申报", **kwargs)  # type: ignore[arg-type]
        self.show_root = False
        self.guide_depth = 2
        self._by_target: dict[Target, TreeNode[Target]] = {}
        self._step_of: dict[str, str] = {}
        for step in checklist.steps:
            for section in step.sections:
                self._step_of[section.code] = str(step.number)
            node = self.root.add(step_label(step), data=("step", str(step.number)), expand=True)
            self._by_target[("step", str(step.number))] = node
            if len(step.sections) > 1:
                for section in step.sections:
                    leaf = node.add_leaf(section_label(section), data=("section", section.code))
                    self._by_target[("section", section.code)] = leaf

    def show(self, checklist: Checklist) -> None:
        """Relabel in place (no rebuild): cheap enough for every keystroke."""
        for step in checklist.steps:
            self._set(("step", str(step.number)), step_label(step))
            for section in step.sections:
                self._set(("section", section.code), section_label(section))

    def _set(self, key: Target, label: str) -> None:
        node = self._by_target.get(key)
        if node is not None and str(node.label) != label:
            node.set_label(label)

    def select_target(self, target: Target) -> None:
        node = self._by_target.get(target)
        if node is None and target[0] == "section":  # a step with a single section
            node = self._by_target.get(("step", self._step_of.get(target[1], "")))
        if node is not None:
            self.move_cursor(node)

    def on_tree_node_selected(self, event: Tree.NodeSelected[Target]) -> None:
        event.stop()
        if event.node.data is not None:
            self.post_message(self.Chosen(event.node.data))
