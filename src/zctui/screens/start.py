"""Opening a workspace: start a first application, or pick one of several."""

from __future__ import annotations

import uuid
from datetime import date

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from zctui.domain.models import Application
from zctui.domain.validators import check_id_number, check_year
from zctui.screens.enter_next import EnterMovesOn
from zctui.store.repository import Store


class NewApplicationScreen(EnterMovesOn[uuid.UUID]):
    """An empty workspace: who is applying, and for which year."""

    DEFAULT_CSS = """
    NewApplicationScreen { align: center middle; }
    NewApplicationScreen > Vertical {
        width: 64; height: auto; border: round $accent; padding: 0 1;
    }
    NewApplicationScreen .error { color: $error; }
    """

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("新建申报：填写申报人和申报年度（之后的内容随填随存）")
            yield Input(placeholder="姓名", id="name", compact=True)
            yield Input(placeholder="身份证号（18位）", id="id-number", compact=True)
            yield Input(str(date.today().year), placeholder="申报年度", id="year", compact=True)
            yield Input(placeholder="申报单位（如 沧州市中西医结合医院）", id="unit", compact=True)
            yield Input("沧州市", placeholder="所在市", id="city", compact=True)
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
        person = self.store.create_person(values["id-number"], values["name"])
        app = self.store.create_application(
            person, int(values["year"]), unit_name=values["unit"], city=values["city"] or None
        )
        self.dismiss(app.id)


class PickApplicationScreen(Screen[uuid.UUID]):
    """A workspace with several applications (a unit's, or several years)."""

    DEFAULT_CSS = "PickApplicationScreen OptionList { height: 1fr; }"

    def __init__(self, store: Store, apps: list[Application]) -> None:
        super().__init__()
        self.store, self.apps = store, apps

    def compose(self) -> ComposeResult:
        yield Static("选择要打开的申报（回车打开）")
        options = []
        for app in self.apps:
            person = self.store.get("person", app.person_id)
            name = person.name if person else "?"
            options.append(Option(f"{name}  {app.year}年度  {app.unit_name or ''}", id=str(app.id)))
        yield OptionList(*options)
        yield Footer()

    @on(OptionList.OptionSelected)
    def _open(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.dismiss(uuid.UUID(event.option.id))
