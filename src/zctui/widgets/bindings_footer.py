"""The footer, rebuilt only when the bindings it shows change.

Textual's Footer rebuilds itself (removes and mounts every key) whenever the screen's bindings
*may* have changed: on every focus change, i.e. two or three times per section switch, each a
repaint of the whole line (about 0.5 KB over SSH) that shows exactly what was there before.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer

Shown = tuple[tuple[str, str, str, bool, str], ...]


class BindingsFooter(Footer):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._shown: Shown | None = None

    def _bindings_shown(self, screen: Screen[object]) -> Shown:
        """What compose() would show: each shown binding, its label and whether it is enabled
        (the command palette key included, whatever its show flag)."""
        return tuple(
            (binding.key, binding.action, binding.description, enabled, tooltip)
            for _node, binding, enabled, tooltip in screen.active_bindings.values()
            if binding.show or binding.key == self.app.COMMAND_PALETTE_BINDING
        )

    def bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen and screen.app.app_focus:
            shown = self._bindings_shown(screen)
            if shown == self._shown:
                return
            self._shown = shown
        super().bindings_changed(screen)
