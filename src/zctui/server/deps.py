"""Request dependencies: the database session, the caller's account, role checks.

Who the caller is and what they may see come from the session token alone, never from a
field of the request."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from zctui.domain.validators import PASSWORD_RULE
from zctui.server.db import get_session
from zctui.server.models import Account, AuthSession, Unit
from zctui.server.security import Security
from zctui.server.settings import Network

DB = Annotated[Session, Depends(get_session)]

NOT_LOGGED_IN = "未登录或登录已过期，请重新登录"
MUST_CHANGE = f"您还在使用初始密码，请先修改密码后再操作；新密码{PASSWORD_RULE}"
FORBIDDEN = "您的帐号无权执行此操作"


class Refused(HTTPException):
    """A refusal that also lists what is missing (a submission the checklist stops)."""

    def __init__(self, status: int, detail: str, missing: list[Any]) -> None:
        super().__init__(status, detail)
        self.missing = missing


@dataclass
class Caller:
    account: Account
    session: AuthSession
    address: str
    unit: Unit | None  # the account's, loaded with it


def address_of(request: Request) -> str:
    """The client's address, for the login throttle and the audit. Behind trusted proxies
    (settings.trusted_proxies) it is the rightmost X-Forwarded-For hop that is not one of
    them: everything left of it was written by the client and may be anything."""
    peer = request.client.host if request.client else "unknown"
    trusted: tuple[Network, ...] = request.app.state.trusted_proxies
    if not trusted or not _trusted(peer, trusted):
        return peer
    hops = [h.strip() for v in request.headers.getlist("x-forwarded-for") for h in v.split(",")]
    client = peer
    for hop in reversed(hops):
        try:
            ip = ipaddress.ip_address(hop)
        except ValueError:
            break  # not an address (a proxy wrote none, or a client wrote junk): stop here
        client = str(ip)
        if not any(ip in n for n in trusted):
            break
    return client


def _trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in n for n in trusted)


def security_of(request: Request) -> Security:
    sec: Security = request.app.state.security
    return sec


def _bearer(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def caller_even_must_change(request: Request, db: DB) -> Caller:
    """The caller, also while still on the default password (only change-password uses it)."""
    token = _bearer(request)
    found = security_of(request).session_account(db, token) if token else None
    if found is None:
        raise HTTPException(401, NOT_LOGGED_IN, headers={"WWW-Authenticate": "Bearer"})
    sess, account, unit = found
    return Caller(account, sess, address_of(request), unit)


# The checks below only look at the caller already loaded: async, so they run in the event
# loop instead of taking a trip through the threadpool each.
async def caller(c: Annotated[Caller, Depends(caller_even_must_change)]) -> Caller:
    if c.account.must_change:
        raise HTTPException(403, MUST_CHANGE)
    return c


Me = Annotated[Caller, Depends(caller)]


def role(*roles: str) -> Callable[[Caller], Awaitable[Caller]]:
    async def check(c: Me) -> Caller:
        if c.account.role not in roles:
            raise HTTPException(403, FORBIDDEN)
        return c

    return check
