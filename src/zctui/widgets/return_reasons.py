"""The unit's reasons for returning an application (R12), item by item, above the form:
the applicant sees which section and field to fix before submitting again."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from textual.widgets import Static

from zctui.data.forms import Forms

HEADING = "单位退回了申报，请按以下意见修改后重新提交（第12步）："


def item_text(forms: Forms, section: str, field: str | None, reason: str) -> str:
    """「论文论著」刊号：… — the section and field by their labels, as the form shows them."""
    try:
        spec = forms.section(section)
    except KeyError:
        return f"「{section}」{field or ''}：{reason}"
    found = spec.field(field) if field else None
    where = f"「{spec.title}」" + (found.label if found else field or "")
    return f"{where}：{reason}"


def reasons_text(forms: Forms, items: Iterable[Mapping[str, Any]]) -> str:
    lines = [
        f"{i}. {item_text(forms, str(it.get('section')), it.get('field'), str(it.get('reason')))}"
        for i, it in enumerate(items, 1)
    ]
    return "\n".join([HEADING, *lines]) if lines else ""


class ReturnReasons(Static):
    DEFAULT_CSS = """
    ReturnReasons {
        height: auto; max-height: 8; overflow-y: auto; padding: 0 1;
        border: round $warning; color: $text;
    }
    ReturnReasons.-empty { display: none; }
    """

    def show(self, forms: Forms, state: str, items: Iterable[Mapping[str, Any]] | None) -> None:
        """Shown while the application is back with the applicant (unit_returned)."""
        text = reasons_text(forms, items or []) if state == "unit_returned" else ""
        if str(self.content) != text:
            self.update(text)
        self.set_class(not text, "-empty")
