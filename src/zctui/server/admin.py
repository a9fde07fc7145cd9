"""Administration without the API (`zctui admin`): units, accounts, CSV import, resets.
Each call is one transaction and writes its audit event."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from zctui.data.catalog import common_passwords
from zctui.domain.masking import mask_id
from zctui.domain.models import utcnow
from zctui.domain.validators import (
    DEFAULT_PASSWORD,
    check_id_number,
    check_mobile,
    check_password,
    check_uscc,
    id_clean,
)
from zctui.server.models import ROLES, UNIT_KINDS, Account, Unit
from zctui.server.security import Security, audit


class AdminError(ValueError):
    """A refusal in Chinese, shown as it is."""


def find_unit(db: Session, key: str) -> Unit:
    try:
        unit = db.get(Unit, uuid.UUID(key))
    except ValueError:
        unit = db.scalars(select(Unit).where(col(Unit.name) == key.strip())).first()
    if unit is None:
        raise AdminError(f"找不到单位「{key}」：请填写单位名称或编号")
    return unit


def create_unit(
    db: Session,
    *,
    name: str,
    kind: str = "unit",
    city: str = "",
    parent: str | None = None,
    uscc: str | None = None,
) -> Unit:
    if kind not in UNIT_KINDS:
        raise AdminError(f"单位类型应为 {'、'.join(UNIT_KINDS)} 之一，当前为「{kind}」")
    if uscc and (msg := check_uscc(uscc)):
        raise AdminError(msg)
    parent_unit = find_unit(db, parent) if parent else None
    if kind != "office" and parent_unit is None:
        raise AdminError("主管部门和用人单位须指定上级单位（职改办或主管部门）")
    unit = Unit(
        name=name.strip(),
        kind=kind,
        city=city or (parent_unit.city if parent_unit else ""),
        parent_id=parent_unit.id if parent_unit else None,
        uscc=uscc.strip().upper() if uscc else None,
    )
    db.add(unit)
    audit(db, "unit.created", reason=unit.name)
    db.commit()
    return unit


def create_account(
    db: Session,
    sec: Security,
    *,
    id_number: str,
    name: str,
    role: str = "applicant",
    unit: str | None = None,
    phone: str | None = None,
) -> Account:
    """A new account has the default password and must change it at first login (R1.2)."""
    if role not in ROLES:
        raise AdminError(f"角色应为 {'、'.join(ROLES)} 之一，当前为「{role}」")
    if msg := check_id_number(id_number):
        raise AdminError(msg)
    if phone and (msg := check_mobile(phone)):
        raise AdminError(msg)
    ident = id_clean(id_number)
    if db.scalars(select(Account).where(col(Account.id_number) == ident)).first():
        raise AdminError(f"身份证号 {mask_id(ident)} 已有帐号")
    unit_row = find_unit(db, unit) if unit else None
    if role != "helpdesk" and unit_row is None:
        raise AdminError("申报人、单位管理员和职改办帐号须指定所属单位")
    account = Account(
        id_number=ident,
        name=name.strip(),
        role=role,
        unit_id=unit_row.id if unit_row else None,
        phone=phone.strip() if phone and phone.strip() else None,
        password_hash=sec.hash(DEFAULT_PASSWORD),
    )
    db.add(account)
    audit(db, "account.created", subject=account, reason=role)
    db.commit()
    return account


@dataclass
class ImportReport:
    created: int = 0
    problems: list[str] = field(default_factory=list)


def import_applicants(db: Session, sec: Security, lines: Iterable[str], unit: str) -> ImportReport:
    """CSV with a header: 身份证号 (or id_number), 姓名 (name), optionally 手机 (phone).
    Bad rows are reported by line and skipped; good rows are created."""
    report = ImportReport()
    reader = csv.DictReader(lines)
    for n, row in enumerate(reader, start=2):
        ident = (row.get("身份证号") or row.get("id_number") or "").strip()
        name = (row.get("姓名") or row.get("name") or "").strip()
        phone = (row.get("手机") or row.get("phone") or "").strip() or None
        if not ident or not name:
            report.problems.append(f"第 {n} 行：缺少身份证号或姓名")
            continue
        try:
            create_account(db, sec, id_number=ident, name=name, unit=unit, phone=phone)
        except AdminError as exc:
            db.rollback()
            report.problems.append(f"第 {n} 行：{exc}")
            continue
        report.created += 1
    return report


def _account(db: Session, id_number: str) -> Account:
    ident = id_clean(id_number)
    account = db.scalars(select(Account).where(col(Account.id_number) == ident)).first()
    if account is None:
        raise AdminError(f"找不到身份证号为 {mask_id(ident)} 的帐号")
    return account


def reset_password(db: Session, sec: Security, id_number: str) -> Account:
    account = _account(db, id_number)
    sec.reset_password(db, account)
    audit(db, "password.reset", subject=account, reason="zctui admin")
    db.commit()
    return account


def set_password(db: Session, sec: Security, id_number: str, password: str) -> Account:
    """A chosen password, as if the person had changed it (the demo's staff accounts):
    R1.2's rules still apply, and the change is audited."""
    account = _account(db, id_number)
    if msg := check_password(password, id_number=account.id_number, common=common_passwords()):
        raise AdminError(msg)
    account.password_hash = sec.hash(password)
    account.must_change = False
    account.default_set_at = None
    account.password_changed_at = utcnow()
    db.add(account)
    audit(db, "password.set", subject=account, reason="zctui admin")
    db.commit()
    return account


__all__ = ["DEFAULT_PASSWORD", "AdminError"]
