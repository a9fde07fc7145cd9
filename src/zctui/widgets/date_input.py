"""Date and year-month inputs: type it any common way, it is written back the standard way."""

from __future__ import annotations

from typing import Literal

from textual.events import Blur
from textual.widgets import Input

from zctui.domain.validators import parse_date, parse_year_month

Kind = Literal["date", "year_month"]


def normalise(kind: Kind, text: str) -> str:
    """`202105`, `2021.5`, `2021年5月` → `2021-05`; dates → `2021-05-03`. Unreadable text
    is returned unchanged (it is kept, and the field says what is wrong)."""
    if kind == "year_month":
        ym = parse_year_month(text)
        return f"{ym[0]:04d}-{ym[1]:02d}" if ym else text
    d = parse_date(text)
    return d.isoformat() if d else text


class DateInput(Input):
    """An input for 发表年月, 取得时间 …: accepts `2021-05`, `202105`, `2021.5`."""

    def __init__(self, kind: Kind, value: str | None = None, **kwargs: object) -> None:
        placeholder = (
            "如 2021-05（也可 202105、2021.5）" if kind == "year_month" else "如 2021-05-03"
        )
        super().__init__(value, placeholder=placeholder, compact=True, **kwargs)  # type: ignore[arg-type]
        self.kind: Kind = kind

    def _on_blur(self, event: Blur) -> None:
        fixed = normalise(self.kind, self.value.strip())
        if fixed != self.value:
            self.value = fixed  # posts Changed: the normalised form is saved too
