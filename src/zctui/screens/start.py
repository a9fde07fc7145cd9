"""A new application: the first of an empty workspace, or one a unit admin starts for one
of the unit's people (the applicants table's `n`)."""

from __future__ import annotations

import uuid
from datetime import date

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Input, Static

from zctui.domain.validators import check_id_number, check_year
from zctui.screens.enter_next import EnterMovesOn
from zctui.store.applicants import find_person, has_application
from zctui.store.repository import Store


class NewApplicationScreen(EnterMovesOn[uuid.UUID | None]):
    """Who is applying, and for which year. A person already in the workspace (another
    year's application) is reused, not entered twice."""

    DEFAULT_CSS = """
    NewApplicationScreen { align: center middle; }
    NewApplicationScreen > Vertical {
        width: 64; height: auto; border: round $accent; padding: 0 1;
    }
    NewApplicationScreen .error { color: $error; }
    """

    BINDINGS = [Binding("escape", "cancel", "取消", id="new-cancel")]

    def __init__(
        self,
        store: Store,
        *,
        unit: str = "",
        city: str = "沧州市",
        for_others: bool = False,  # a unit admin's: Escape goes back to the table
    ) -> None:
        super().__init__()
        self.store = store
        self.unit, self.city, self.for_others = unit, city, for_others

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.for_others if action == "cancel" else True

    def action_cancel(self) -> None:
        self.dismiss(None)

    def compose(self) -> ComposeResult:
        with Vertical():
            who = "本单位人员" if self.for_others else "申报人"
            yield Static(f"新建申报：填写{who}和申报年度（之后的内容随填随存）")
            yield Input(placeholder="姓名", id="name", compact=True)
            yield Input(placeholder="身份证号（18位）", id="id-number", compact=True)
            yield Input(str(date.today().year), placeholder="申报年度", id="year", compact=True)
            yield Input(
                self.unit,
                placeholder="申报单位（如 沧州市中西医结合医院）",
                id="unit",
                compact=True,
            )
            yield Input(self.city, placeholder="所在市", id="city", compact=True)
            yield Static("", classes="error", id="new-error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        """Enter in the last field (the ones before move on: EnterMovesOn)."""
        values = {w.id: w.value.strip() for w in self.query(Input) if w.id}
        msg = (
            ("请填写姓名" if not values["name"] else None)
            or check_id_number(values["id-number"])
            or ("请填写身份证号" if not values["id-number"] else None)
            or check_year(values["year"], earliest=2000)
            or ("请填写申报单位" if not values["unit"] else None)
        )
        if msg:
            self.query_one("#new-error", Static).update(msg)
            return
        person = find_person(self.store, values["id-number"])
        if person is not None and has_application(self.store, person.id, int(values["year"])):
            self.query_one("#new-error", Static).update(
                f"{person.name or values['name']} 的 {values['year']} 年度申报已经存在："
                "请在列表中打开它，或换一个申报年度"
            )
            return
        if person is None:
            person = self.store.create_person(values["id-number"], values["name"])
        app = self.store.create_application(
            person, int(values["year"]), unit_name=values["unit"], city=values["city"] or None
        )
        self.dismiss(app.id)
