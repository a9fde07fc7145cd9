"""Request dependencies: the database session, the caller's account, role checks.

Who the caller is and what they may see come from the session token alone, never from a
field of the request."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, TypeVar, cast

from fastapi import Depends, HTTPException, Request
from sqlalchemy import LABEL_STYLE_TABLENAME_PLUS_COL, Table, bindparam, select, update
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from zctui.domain.models import utcnow
from zctui.domain.validators import PASSWORD_RULE
from zctui.server.db import get_session
from zctui.server.models import Account, AuthSession, Unit
from zctui.server.reads import Query, Reads
from zctui.server.security import Security, token_hash
from zctui.server.settings import Network

DB = Annotated[Session, Depends(get_session)]
M = TypeVar("M", bound=SQLModel)

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
    """Who is calling. `account`, `session` and `unit` are read-only copies, in no ORM
    session: load the row to change it (or write it with a statement)."""

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


async def reads_of(request: Request) -> Reads:
    reads: Reads = request.app.state.reads
    return reads


Fast = Annotated[Reads, Depends(reads_of)]

_SESSION: Table = AuthSession.__table__  # type: ignore[attr-defined]
_ACCOUNT: Table = Account.__table__  # type: ignore[attr-defined]
_UNIT: Table = Unit.__table__  # type: ignore[attr-defined]
# The session, its account and the account's unit: one query by the token's unique index.
_SESSION_ACCOUNT = Query(
    select(_SESSION, _ACCOUNT, _UNIT)
    .join_from(_SESSION, _ACCOUNT, _ACCOUNT.c.id == _SESSION.c.account_id)
    .outerjoin(_UNIT, _UNIT.c.id == _ACCOUNT.c.unit_id)
    .where(_SESSION.c.token_hash == bindparam("token_hash"))
    .set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL)
)
_TOUCH = Query(
    update(_SESSION).where(_SESSION.c.id == bindparam("session")).values(last_seen=bindparam("now"))
)


def _part(row: Mapping[str, Any], model: type[M]) -> M:
    """One table's columns of a joined row, as that table's object: built without
    validation (the database's own values; a sixth of the cost) and outside any ORM
    session, so it is read-only (setting a field raises). A handler that changes the
    account or the session loads it, or writes it with a statement."""
    return cast(M, model.model_construct(**{name: row[key] for name, key in _labels(model)}))


@cache
def _labels(model: type[SQLModel]) -> list[tuple[str, str]]:
    """(column, its label in _SESSION_ACCOUNT's rows) for each column of the model's table."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return [(c.name, f"{table.name}_{c.name}") for c in table.columns]


async def caller_even_must_change(request: Request, reads: Fast) -> Caller:
    """The caller, also while still on the default password (only change-password uses it).
    Looked up on every request, so a revocation (logout, a password changed or reset) ends
    the session at once."""
    token = _bearer(request)
    row = await reads.first(_SESSION_ACCOUNT, token_hash=token_hash(token)) if token else None
    if row is None:
        raise HTTPException(401, NOT_LOGGED_IN, headers={"WWW-Authenticate": "Bearer"})
    sec, now = security_of(request), utcnow()
    sess, account = _part(row, AuthSession), _part(row, Account)
    if not sec.session_live(sess, account, now):
        raise HTTPException(401, NOT_LOGGED_IN, headers={"WWW-Authenticate": "Bearer"})
    if sec.session_stale(sess, now):
        await reads.write(_TOUCH, session=sess.id, now=now)
    unit = _part(row, Unit) if row["unit_id"] is not None else None  # unit.id: found one
    return Caller(account, sess, address_of(request), unit)


# The checks below only look at the caller already loaded.
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
