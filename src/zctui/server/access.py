"""What each role may see: every query starts here, scoped by the caller's account."""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any

from sqlalchemy import BindParameter, Select, bindparam, or_, select, true
from sqlalchemy.orm import Session
from sqlmodel import col

from zctui.server.models import Account, Application, Unit

# What the units forwarded: the office sees an application from here on.
FORWARDED = ("unit_approved", "office_review", "approved", "rejected", "certificate_issued")


def subtree_ids(root: uuid.UUID | BindParameter[Any] | None) -> Select[Any]:
    """The ids of the unit and every unit under it (city office → departments → units), as
    a recursive CTE (SQLite and PostgreSQL): the scoping query carries it, instead of every
    unit being loaded and walked per request. UNION, not UNION ALL: a cycle ends."""
    tree = select(col(Unit.id)).where(col(Unit.id) == root).cte("subtree", recursive=True)
    tree = tree.union(select(col(Unit.id)).where(col(Unit.parent_id) == tree.c.id))
    return select(tree.c.id)


def applications(db: Session, account: Account, *, deleted: bool = False) -> Select[Any]:
    """The applications `account` may see (with tombstones when `deleted`: sync sends them)."""
    return visible(account.role, deleted=deleted).params(scope(account))


def scope(account: Account) -> dict[str, Any]:
    """The values of `visible`'s parameters for `account`."""
    return {"me": account.id, "my_unit": account.unit_id}


@cache
def visible(role: str, *, deleted: bool = False) -> Select[Any]:
    """The applications a role may see, built once per role: who exactly is the bound
    parameters `me` and `my_unit` (`scope`)."""
    q = select(Application)
    if not deleted:
        q = q.where(col(Application.deleted).is_(False))
    match role:
        case "applicant":
            return q.where(col(Application.owner_id) == bindparam("me"))
        case "unit_admin":
            return q.where(col(Application.unit_id) == bindparam("my_unit"))
        case "office":
            return q.where(
                col(Application.unit_id).in_(subtree_ids(bindparam("my_unit"))),
                # Not IN (…): an expanding list is rendered per execution, and the fast
                # path (reads.py) compiles its statements once.
                or_(*(col(Application.state) == s for s in FORWARDED)),
            )
        case "helpdesk":
            return q.where(true())
    return q.where(false_())


def accounts(db: Session, account: Account) -> Select[Any]:
    q = select(Account)
    match account.role:
        case "unit_admin":
            return q.where(col(Account.unit_id) == account.unit_id)
        case "office":
            return q.where(col(Account.unit_id).in_(subtree_ids(account.unit_id)))
        case "helpdesk":
            return q
    return q.where(col(Account.id) == account.id)


def false_() -> Any:
    from sqlalchemy import false

    return false()
