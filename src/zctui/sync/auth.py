"""What the TUI needs from a server to log in (R1): the server issue implements it; the
tests use a fake. Kept free of Textual and of any HTTP library."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class LoginResult:
    token: str
    must_change_password: bool  # a new or reset account still has the default (R1.2, R1.3)
    name: str = ""
    role: str = "applicant"  # applicant | unit_admin | helpdesk | office: picks the first screen


class AuthError(Exception):
    """Refused: the message is Chinese and can be shown as it is."""


class AuthClient(Protocol):
    def login(self, id_number: str, password: str) -> LoginResult:
        """Raises AuthError with a message for the person (wrong password, locked …)."""
        ...

    def change_password(self, token: str, old: str, new: str) -> None:
        """R1.2: after a change the person logs in again with the new password."""
        ...
