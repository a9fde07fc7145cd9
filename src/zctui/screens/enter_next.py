"""Enter in a field of a short form (login, new application) goes to the next field."""

from __future__ import annotations

from typing import TypeVar

from textual.actions import SkipAction
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input

R = TypeVar("R")


class EnterMovesOn(Screen[R]):
    """Enter moves to the next field as the key arrives (a priority binding runs before the
    next key is dispatched), so keys typed ahead in one burst over a slow link land in the
    next field, not in this one; Enter in the last field submits the form."""

    BINDINGS = [
        Binding("enter", "enter_next", "下一项", show=False, priority=True, id="enter-next")
    ]

    async def action_enter_next(self) -> None:
        focused = self.focused
        if not isinstance(focused, Input):
            raise SkipAction()  # a button or a list: its own Enter
        inputs = [w for w in self.query(Input) if w.display and not w.disabled]
        if focused is not inputs[-1]:
            self.set_focus(inputs[inputs.index(focused) + 1])  # at once, not call_later
        else:
            await focused.action_submit()
