"""Why a sync stopped, for the TUI and the CLI: each message is Chinese and can be shown as
it is. Nothing is lost when one is raised: the outbox keeps every edit the server has not
acknowledged."""

from __future__ import annotations


class SyncError(Exception):
    """The sync stopped (refused, garbled, or the server lost our edits)."""


class SyncExpired(SyncError):
    """The session token is no longer valid: log in again."""


class SyncUnavailable(SyncError):
    """The server could not be reached, or kept failing, after the retries."""
