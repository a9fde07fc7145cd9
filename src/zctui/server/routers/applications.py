"""Applications and the review workflow (R12), every query scoped by the caller's role."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from functools import cache
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from zctui.data.catalog import load_catalog
from zctui.domain.checklist import Checklist, run_checklist
from zctui.domain.masking import mask_id
from zctui.domain.models import utcnow
from zctui.server import access, certificates, changes, content
from zctui.server.deps import DB, FORBIDDEN, Caller, Fast, Me, Refused
from zctui.server.models import Account, Application, Audit, Certificate, Unit
from zctui.server.reads import Query
from zctui.server.schemas import (
    Action,
    ActionIn,
    ApplicationIn,
    ApplicationOut,
    AuditOut,
    Limit,
    MissingItem,
    Offset,
    Problem,
    State,
)
from zctui.server.security import audit
from zctui.server.workflow import TRANSITIONS, refusal

router = APIRouter(prefix="/applications", tags=["applications"])
ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": Problem} for code in (401, 403, 404, 409, 422)
}
NOT_FOUND = "找不到该申报，或您无权查看"
TAKEN = "证书编号 {number} 已被使用：请核对后重新填写，或留空由系统生成"


def _out(
    app: Application, owner: Account, viewer: Account, certificate: str | None = None
) -> ApplicationOut:
    return _shown(app.model_dump(), owner.name, owner.id_number, viewer, certificate)


def _shown(
    app: Mapping[str, Any],
    name: str,
    id_number: str,
    viewer: Account,
    certificate: str | None = None,
) -> ApplicationOut:
    ident = mask_id(id_number) if viewer.role == "helpdesk" else id_number
    return ApplicationOut.model_validate(
        {**app, "name": name, "id_number": ident, "certificate_number": certificate}
    )


@cache
def _one(role: str) -> Query:
    """One application the role may see, with its owner's name and ID number and its
    certificate's number (once issued)."""
    return Query(
        access.visible(role)
        .add_columns(
            col(Account.name).label("owner_name"),
            col(Account.id_number).label("owner_ident"),
            col(Certificate.number).label("certificate_number"),
        )
        .join(Account, col(Account.id) == col(Application.owner_id))
        .outerjoin(Certificate, col(Certificate.application_id) == col(Application.id))
        .where(col(Application.id) == bindparam("app_id"))
    )


def _certificates(db: DB, apps: list[Application]) -> dict[uuid.UUID, str]:
    """The certificate numbers of those of `apps` that have one (one query)."""
    issued = [a.id for a in apps if a.state == "certificate_issued"]
    if not issued:
        return {}
    q = select(col(Certificate.application_id), col(Certificate.number))
    rows = db.execute(q.where(col(Certificate.application_id).in_(issued)))
    return {app_id: number for app_id, number in rows}


def _visible(db: DB, c: Caller, app_id: uuid.UUID) -> tuple[Application, Account]:
    q = access.applications(db, c.account).where(col(Application.id) == app_id)
    app = db.scalars(q).first()
    if app is None:
        raise HTTPException(404, NOT_FOUND)
    owner = db.get(Account, app.owner_id)
    assert owner is not None  # a foreign key
    return app, owner


@router.get("", responses=ERRORS)
def list_applications(
    db: DB, c: Me, state: State | None = None, offset: Offset = 0, limit: Limit = 100
) -> list[ApplicationOut]:
    q = access.applications(db, c.account)
    if state:
        q = q.where(col(Application.state) == state)
    q = q.order_by(col(Application.year).desc(), col(Application.id))
    apps = db.scalars(q.offset(max(offset, 0)).limit(min(max(limit, 1), 500))).all()
    owners = {
        a.id: a
        for a in db.scalars(select(Account).where(col(Account.id).in_({x.owner_id for x in apps})))
    }
    numbers = _certificates(db, list(apps))
    return [_out(a, owners[a.owner_id], c.account, numbers.get(a.id)) for a in apps]


@router.post("", status_code=201, responses=ERRORS)
def create_application(body: ApplicationIn, db: DB, c: Me) -> ApplicationOut:
    """An applicant opens the year's application; the unit is the account's (R2.1)."""
    me = c.account
    if me.role != "applicant":
        raise HTTPException(403, "只有申报人本人可以创建申报")
    unit = c.unit
    if unit is None:
        raise HTTPException(409, "您的帐号尚未归属任何单位，请联系单位管理员")
    if body.review_mode == "self_review" and not _may_self_review(unit, body):
        # The same list and the same words as the checklist (methods.yaml, R2.5).
        raise HTTPException(
            422,
            f"「{unit.name}」的此系列和等级不能选“自主评审”（R2.5）："
            + load_catalog().self_review_rule,
        )
    n = changes.next_change(db)  # first: the counter is the lock every sync writer takes first
    person_id = content.person_for(db, me.id_number, me.name)
    settings = body.model_dump(exclude={"id"})
    app = Application(
        id=body.id or uuid.uuid4(),
        rev=n,
        person_id=person_id,
        owner_id=me.id,
        unit_id=unit.id,
        unit_name=unit.name,
        city=unit.city,
        catalog_version=load_catalog().version,
        **settings,
    )
    db.add(app)
    audit(db, "application.created", actor=me, application_id=app.id, to_state="draft")
    try:
        db.flush()  # the clash shows here, before the change is recorded
        changes.record_change(db, "application", app.id, app.id, n)
        db.commit()
    except IntegrityError:
        db.rollback()
        raise HTTPException(
            409, f"您已有 {body.year} 年度的申报（或该申报编号已存在），每人每年只能申报一次"
        ) from None
    return _out(app, me, me)


def _may_self_review(unit: Unit, body: ApplicationIn) -> bool:
    """The catalog's list (methods.yaml), as the checklist's R2.5 assertion reads it."""
    catalog = load_catalog()
    series = catalog.series_by_code(body.series or "")
    title = series.title(body.title) if series is not None and body.title else None
    if series is None or title is None:
        return False
    return catalog.may_self_review(unit.city, unit.name, series.code, title.level)


@router.get("/{app_id}", responses=ERRORS)
async def get_application(app_id: uuid.UUID, reads: Fast, c: Me) -> ApplicationOut:
    """Every open screen polls this: the fast path (server/reads.py)."""
    me = c.account
    row = await reads.first(_one(me.role), app_id=app_id, **access.scope(me))
    if row is None:
        raise HTTPException(404, NOT_FOUND)
    return _shown(row, row["owner_name"], row["owner_ident"], me, row["certificate_number"])


@router.get("/{app_id}/checklist", responses=ERRORS)
def checklist(app_id: uuid.UUID, db: DB, c: Me) -> Checklist:
    """What is complete and what is missing, as the TUI's sidebar shows it."""
    app, _ = _visible(db, c, app_id)
    return run_checklist(content.load(db, app))


@router.get("/{app_id}/audit", responses=ERRORS)
def audit_trail(app_id: uuid.UUID, db: DB, c: Me) -> list[AuditOut]:
    """Who did what, when, from which state to which, and why (read-only)."""
    _visible(db, c, app_id)
    q = select(Audit).where(col(Audit.application_id) == app_id).order_by(col(Audit.id))
    return [AuditOut.model_validate(a) for a in db.scalars(q)]


@router.post("/{app_id}/{action}", responses=ERRORS)
def act(
    app_id: uuid.UUID,
    action: Action,
    request: Request,
    db: DB,
    c: Me,
    body: ActionIn | None = None,
) -> ApplicationOut:
    body = body or ActionIn()
    me = c.account
    app, owner = _visible(db, c, app_id)
    if me.role == "helpdesk":
        raise HTTPException(403, "服务热线帐号只能查看，不能修改申报")
    if me.role == "applicant" and app.owner_id != me.id:
        raise HTTPException(403, FORBIDDEN)
    if msg := refusal(action, app.state, me.role):
        raise HTTPException(403 if me.role not in TRANSITIONS[action].roles else 409, msg)
    t = TRANSITIONS[action]
    source = app.state  # the UPDATE below also refreshes `app` in the session
    values: dict[str, Any] = {}
    detail: dict[str, Any] = {}
    reason = body.reason
    if action == "submit":
        result = run_checklist(content.load(db, app))
        if not result.complete:
            raise _missing(result)
        values["submitted_at"] = utcnow()
        values["return_items"] = []
    elif action == "return":
        if not body.items:
            raise HTTPException(422, "退回时请逐项写明原因：哪一部分、哪一项、为什么退回")
        values["return_items"] = [i.model_dump() for i in body.items]
        detail["items"] = values["return_items"]
        reason = reason or "；".join(f"{i.section}：{i.reason}" for i in body.items)
    elif action == "reject" and not reason:
        raise HTTPException(422, "评审不通过时请填写原因")
    # A change number like every synced write, so clients pull the new state (and the lock).
    # Taken before the certificate's sequence: the counter is the lock every writer takes first.
    n = changes.next_change(db)
    number: str | None = None
    if action == "issue":
        number = body.certificate_number  # stripped by the schema; None: the server makes one
        if number is None:
            fmt = request.app.state.settings.certificate_format
            number = certificates.next_number(db, fmt, app.year)
        elif db.scalars(
            select(col(Certificate.id)).where(col(Certificate.number) == number)
        ).first():
            db.rollback()
            raise HTTPException(409, TAKEN.format(number=number))
        db.add(
            Certificate(
                number=number,
                name=owner.name,
                application_id=app.id,
                series=app.series,
                specialty=app.specialty,
                title=app.title,
                unit_name=app.unit_name,
            )
        )
        detail["certificate_number"] = number
    # Only if nobody moved it meanwhile: two admins clicking at once make one transition.
    moved = db.execute(
        update(Application)
        .where(col(Application.id) == app.id, col(Application.state) == source)
        .values(state=t.target, rev=n, updated_at=utcnow(), **values)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        db.rollback()
        raise HTTPException(409, "该申报的状态刚被他人改变，请刷新后重试")
    changes.record_change(db, "application", app.id, app.id, n)
    audit(
        db,
        f"workflow.{action}",
        actor=me,
        subject=owner,
        application_id=app.id,
        from_state=source,
        to_state=t.target,
        reason=reason,
        address=c.address,
        detail=detail,
    )
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise HTTPException(409, TAKEN.format(number=number)) from None
    db.refresh(app)
    return _out(app, owner, me, number)


def _missing(result: Checklist) -> Refused:
    missing = [
        MissingItem(rule=i.rule, section=i.section, message=i.message, field=i.field)
        for i in result.errors
    ]
    return Refused(
        422, f"申报还有 {len(missing)} 项未完成，补齐后才能提交（见 missing 列表）", missing
    )
