"""R1: login with ID number and password, the forced change of the default, logout."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from sqlalchemy import update
from sqlmodel import col

from zctui.data.catalog import common_passwords
from zctui.domain.models import utcnow
from zctui.domain.validators import check_password
from zctui.server.deps import DB, Caller, Me, address_of, caller_even_must_change, security_of
from zctui.server.models import Account, AuthSession
from zctui.server.schemas import LoginIn, LoginOut, PasswordIn, Problem
from zctui.server.schemas import Me as MeOut
from zctui.server.security import LoginRefused, audit

router = APIRouter(prefix="/auth", tags=["auth"])
ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": Problem} for code in (401, 403, 422, 429)
}


@router.post("/login", responses=ERRORS)
def login(body: LoginIn, request: Request, db: DB) -> LoginOut:
    sec = security_of(request)
    try:
        account, token = sec.login(db, body.id_number, body.password, address_of(request))
    except LoginRefused as exc:
        raise HTTPException(exc.status, exc.message) from None
    s = sec.settings
    return LoginOut(
        token=token,
        must_change_password=account.must_change,
        name=account.name,
        role=account.role,
        idle_minutes=s.session_idle_minutes,
        absolute_hours=s.session_absolute_hours,
    )


@router.post("/password", status_code=204, responses=ERRORS)
def change_password(
    body: PasswordIn,
    request: Request,
    db: DB,
    c: Annotated[Caller, Depends(caller_even_must_change)],
) -> Response:
    """R1.2: the only call allowed on the default password. Every session ends: the person
    logs in again with the new password."""
    sec = security_of(request)
    account = db.get(Account, c.account.id)  # the caller's copy is read-only
    assert account is not None  # the session's foreign key
    if not sec.verify(body.old_password, account.password_hash):
        audit(db, "password.change_failed", actor=account, address=c.address)
        db.commit()
        raise HTTPException(403, "原密码不正确，请重新输入")
    msg = check_password(body.new_password, id_number=account.id_number, common=common_passwords())
    if msg is None and body.new_password == body.old_password:
        msg = "新密码不能与原密码相同，请换一个"
    if msg:
        raise HTTPException(422, msg)
    account.password_hash = sec.hash(body.new_password)
    account.must_change = False
    account.default_set_at = None
    account.password_changed_at = utcnow()
    db.add(account)
    sec.revoke_all(db, account.id)
    audit(db, "password.changed", actor=account, subject=account, address=c.address)
    db.commit()
    return Response(status_code=204)


@router.post("/logout", status_code=204, responses=ERRORS)
def logout(db: DB, c: Annotated[Caller, Depends(caller_even_must_change)]) -> Response:
    db.execute(
        update(AuthSession).where(col(AuthSession.id) == c.session.id).values(revoked_at=utcnow())
    )
    audit(db, "logout", actor=c.account, address=c.address)
    db.commit()
    return Response(status_code=204)


@router.get("/me", responses=ERRORS)
async def me(c: Me) -> MeOut:  # nothing to wait for: no trip through the threadpool
    a, unit = c.account, c.unit
    return MeOut(
        id=a.id,
        id_number=a.id_number,
        name=a.name,
        role=a.role,
        unit_id=a.unit_id,
        unit_name=unit.name if unit else None,
        must_change_password=a.must_change,
    )
