"""Accounts and units, scoped by the caller: a unit admin manages its own unit's applicants,
the office its tree, the helpdesk reads everything with ID numbers and phones masked."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from sqlalchemy import select
from sqlmodel import col

from zctui.domain.masking import mask_id, mask_phone
from zctui.domain.validators import DEFAULT_PASSWORD, check_id_number, id_clean
from zctui.server import access
from zctui.server.deps import DB, Caller, Me, role, security_of
from zctui.server.models import Account, Unit
from zctui.server.schemas import Limit, Offset, Problem, UnitOut, UserIn, UserOut
from zctui.server.security import audit

router = APIRouter(tags=["users"])
ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": Problem} for code in (401, 403, 404, 409, 422)
}
NOT_FOUND = "找不到该帐号，或您无权查看"


def user_out(a: Account, viewer: Account) -> UserOut:
    masked = viewer.role == "helpdesk"
    return UserOut(
        id=a.id,
        id_number=mask_id(a.id_number) if masked else a.id_number,
        name=a.name,
        phone=mask_phone(a.phone) if masked else a.phone,
        role=a.role,
        unit_id=a.unit_id,
        must_change_password=a.must_change,
    )


@router.get("/users", responses=ERRORS)
def list_users(db: DB, c: Me, offset: Offset = 0, limit: Limit = 100) -> list[UserOut]:
    q = access.accounts(db, c.account).order_by(col(Account.name), col(Account.id))
    rows = db.scalars(q.offset(max(offset, 0)).limit(min(max(limit, 1), 500))).all()
    return [user_out(a, c.account) for a in rows]


@router.post("/users", status_code=201, responses=ERRORS)
def create_applicant(
    body: UserIn,
    request: Request,
    db: DB,
    c: Annotated[Caller, Depends(role("unit_admin"))],
) -> UserOut:
    """A unit admin opens an applicant account in its own unit, on the default password."""
    if msg := check_id_number(body.id_number):
        raise HTTPException(422, msg)
    ident = id_clean(body.id_number)
    if db.scalars(select(Account).where(col(Account.id_number) == ident)).first():
        raise HTTPException(409, "该身份证号已有帐号，无需重复创建；如忘记密码请重置密码")
    account = Account(
        id_number=ident,
        name=body.name,
        phone=body.phone,
        role="applicant",
        unit_id=c.account.unit_id,
        password_hash=security_of(request).hash(DEFAULT_PASSWORD),
    )
    db.add(account)
    audit(db, "account.created", actor=c.account, subject=account, address=c.address)
    db.commit()
    return user_out(account, c.account)


@router.post("/users/{user_id}/reset-password", status_code=204, responses=ERRORS)
def reset_password(
    user_id: uuid.UUID,
    request: Request,
    db: DB,
    c: Annotated[Caller, Depends(role("unit_admin", "office"))],
) -> Response:
    """R1.3: back to the default, which must be changed at the next login; sessions end."""
    target = db.scalars(access.accounts(db, c.account).where(col(Account.id) == user_id)).first()
    if target is None:
        raise HTTPException(404, NOT_FOUND)
    # A unit admin resets applicants; resetting staff is the office's.
    if c.account.role == "unit_admin" and target.role != "applicant":
        raise HTTPException(403, "单位管理员只能重置本单位申报人的密码")
    security_of(request).reset_password(db, target)
    audit(db, "password.reset", actor=c.account, subject=target, address=c.address)
    db.commit()
    return Response(status_code=204)


@router.get("/units", responses=ERRORS)
def list_units(db: DB, c: Me) -> list[UnitOut]:
    q = select(Unit).order_by(col(Unit.name))
    if c.account.role != "helpdesk":
        q = q.where(col(Unit.id).in_(access.subtree_ids(c.account.unit_id)))
    return [UnitOut.model_validate(u) for u in db.scalars(q)]
