"""What the TUI holds once logged in to a server: something that syncs the workspace.
Light on purpose (the app imports it at start-up): the engine and the HTTP client are
made by `Connect`, after the login."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from zctui.sync.engine import SyncReport


class Syncs(Protocol):
    def sync(self) -> SyncReport:
        """Push what is waiting and pull what changed; raises with a Chinese message."""
        ...

    def close(self) -> None: ...


Connect = Callable[[str], Syncs]  # the session token → a syncer for this workspace
