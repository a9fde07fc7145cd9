"""The helpdesk (服务热线, issue 8): find a person by ID number, name or the name's pinyin
initials, and read their application as the server has it — masked, with the checklist and
the step they are on. Read-only: nothing here writes but the audit, one event per lookup
and per application viewed (who looked, for what; an ID number only ever masked)."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from sqlalchemy import select
from sqlmodel import col

from zctui.data.base import pinyin_initials
from zctui.domain.checklist import Checklist, run_checklist
from zctui.domain.lookups import (
    AppSummary,
    HelpdeskApplication,
    HelpdeskPerson,
    HelpdeskView,
    LookupOut,
    StepOut,
)
from zctui.domain.masking import mask_id, mask_phone
from zctui.domain.validators import check_id_number, id_clean
from zctui.server import access, content
from zctui.server.deps import DB, Caller, role
from zctui.server.models import SECTION_TABLES, Account, Application, Unit
from zctui.server.routers.applications import ERRORS, NOT_FOUND, _out
from zctui.server.security import audit

router = APIRouter(prefix="/helpdesk", tags=["helpdesk"])
Helpdesk = Annotated[Caller, Depends(role("helpdesk"))]
PEOPLE_MAX = 20  # a lookup lists at most this many: a longer query narrows it

PARTIAL_ID = (
    "请输入完整的身份证号（18位），或姓名、姓名拼音首字母；为保护个人信息，不能按部分身份证号查找"
)
TOO_SHORT = "拼音首字母至少输入2个（如 yf 查找“杨丰”），或输入姓名、完整的身份证号"
UNREADABLE = "请输入完整的身份证号、姓名或姓名拼音首字母（如 yf），不要夹杂其他符号"
_DIGITS = re.compile(r"^[0-9]+[0-9Xx]?$")
_LETTERS = re.compile(r"^[A-Za-z]+$")
_HAN = re.compile(r"^[\u3400-\u9fff·]+$")


def classify(q: str) -> str:
    """What the query is: an ID number, a name, or pinyin initials (422 otherwise)."""
    if _DIGITS.match(q):
        if check_id_number(id_clean(q)) is not None:
            raise HTTPException(422, PARTIAL_ID)
        return "id_number"
    if _HAN.match(q):
        return "name"
    if _LETTERS.match(q):
        if len(q) < 2:
            raise HTTPException(422, TOO_SHORT)
        return "pinyin"
    raise HTTPException(422, UNREADABLE)


_INITIALS: dict[str, str] = {}
_INITIALS_MAX = 500_000  # distinct names; far more than a province's applicants


def _initials(name: str) -> str:
    found = _INITIALS.get(name)
    if found is None:
        if len(_INITIALS) >= _INITIALS_MAX:
            _INITIALS.clear()
        found = _INITIALS[name] = pinyin_initials(name)
    return found


def _step(checklist: Checklist) -> StepOut | None:
    step = checklist.current_step
    return StepOut(number=step.number, title=step.title, rule=step.rule) if step else None


@router.get("/people", responses=ERRORS)
def lookup(db: DB, c: Helpdesk, q: Annotated[str, Query(min_length=1, max_length=40)]) -> LookupOut:
    """People with an applicant account, by full ID number, by name (or its beginning: the
    surname), or by the name's pinyin initials (`yf` → 杨丰)."""
    q = q.strip()
    kind = classify(q)
    applicants = select(Account).where(col(Account.role) == "applicant")
    if kind == "id_number":
        found = list(db.scalars(applicants.where(col(Account.id_number) == id_clean(q))))
    elif kind == "name":
        found = list(
            db.scalars(
                applicants.where(col(Account.name).startswith(q, autoescape=True))
                .order_by(col(Account.name), col(Account.id))
                .limit(PEOPLE_MAX + 1)
            )
        )
    else:
        # Initials are not stored: the names are read and matched here, each name's
        # initials computed once per process (pypinyin takes ~0.1 ms a name).
        wanted = q.lower()
        names = db.scalars(
            select(col(Account.name)).where(col(Account.role) == "applicant").distinct()
        ).all()
        # The first names in order, enough for a page of people (a name may be several).
        hits = sorted(n for n in names if _initials(n).startswith(wanted))[: PEOPLE_MAX + 1]
        found = list(
            db.scalars(
                applicants.where(col(Account.name).in_(hits))
                .order_by(col(Account.name), col(Account.id))
                .limit(PEOPLE_MAX + 1)
            )
        ) if hits else []  # fmt: skip
    more = len(found) > PEOPLE_MAX
    found = found[:PEOPLE_MAX]
    people = [_person(db, c.account, a) for a in found]
    audit(
        db,
        "helpdesk.lookup",
        actor=c.account,
        subject=found[0] if len(found) == 1 else None,
        address=c.address,
        reason=kind,
        detail={
            "query": mask_id(id_clean(q)) if kind == "id_number" else q,
            "found": len(found),
        },
    )
    db.commit()
    return LookupOut(people=people, more=more)


def _person(db: DB, viewer: Account, account: Account) -> HelpdeskPerson:
    q = access.applications(db, viewer).where(col(Application.owner_id) == account.id)
    apps = db.scalars(q.order_by(col(Application.year).desc())).all()
    unit = db.get(Unit, account.unit_id) if account.unit_id else None
    out = []
    for app in apps:
        checklist = run_checklist(content.load(db, app))
        out.append(
            HelpdeskApplication(
                id=app.id,
                year=app.year,
                state=app.state,
                unit_name=app.unit_name,
                step=_step(checklist),
                missing=len(checklist.errors),
            )
        )
    return HelpdeskPerson(
        account_id=account.id,
        name=account.name,
        id_number=mask_id(account.id_number),
        phone=mask_phone(account.phone),
        unit_name=unit.name if unit else None,
        applications=out,
    )


@router.get("/applications/{app_id}", responses=ERRORS)
def view(app_id: uuid.UUID, db: DB, c: Helpdesk) -> HelpdeskView:
    """The application, masked, with its checklist (each missing item with its rule id and
    the guide's words) and the step the person is on."""
    app = db.scalars(
        access.applications(db, c.account).where(col(Application.id) == app_id)
    ).first()
    if app is None:
        raise HTTPException(404, NOT_FOUND)
    owner = db.get(Account, app.owner_id)
    assert owner is not None  # a foreign key
    checklist = run_checklist(content.load(db, app))
    info = SECTION_TABLES["basic_info"]
    mobile = db.execute(
        select(info.c.mobile).where(info.c.application_id == app.id, info.c.deleted.is_(False))
    ).scalar()
    audit(
        db,
        "helpdesk.view",
        actor=c.account,
        subject=owner,
        application_id=app.id,
        address=c.address,
    )
    db.commit()
    return HelpdeskView(
        application=AppSummary.model_validate(_out(app, owner, c.account).model_dump()),
        mobile=mask_phone(mobile),
        step=_step(checklist),
        checklist=checklist,
    )
