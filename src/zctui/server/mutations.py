"""Applying one pushed mutation (issue 6; the protocol is domain/sync.py).

`Pusher.apply(m)` turns whatever a client sent into a `Result`: a bad table, column or
value, a row the caller may not write, a locked application, a stale base, all become a
status with a Chinese `msg`, never an exception. The router holds the counter lock (so the
rows read here cannot change before they are written), runs each mutation in a savepoint
and stores its result with the rows.

Who may write what: applicants their own applications, unit admins those of their unit
(`access.applications` for both), only while the application is `draft` or
`unit_returned` (R12.2). Persons are one per ID number; an applicant writes only their
own, a unit admin those of the accounts of their unit.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, NoReturn

from pydantic import ValidationError
from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session
from sqlmodel import SQLModel, col

from zctui.data.catalog import load_catalog
from zctui.data.forms import load_forms
from zctui.domain import models as domain
from zctui.domain.checklist import run_checklist
from zctui.domain.models import column_adapter, utcnow
from zctui.domain.sync import Mutation, Result, Status
from zctui.domain.validators import id_clean
from zctui.server import access, changes, content
from zctui.server.content import CLASSES
from zctui.server.models import SECTION_TABLES, Account, Application, SyncAlias, Unit
from zctui.server.security import audit
from zctui.server.workflow import TRANSITIONS, refusal, state_label

APPLICATION: Table = Application.__table__  # type: ignore[attr-defined]
TABLES: dict[str, Table] = {"application": APPLICATION, **SECTION_TABLES}
MODELS: dict[str, type[SQLModel]] = {"application": domain.Application, **CLASSES}

EDITABLE_STATES = ("draft", "unit_returned")  # R12.2: until the unit opens it
# The application's settings the applicant chooses (R2.2–R2.5); the rest is the server's.
APP_EDITABLE = frozenset({"category", "series", "specialty", "title", "method", "review_mode"})
SYSTEM = frozenset({"id", "rev", "updated_at"})  # the server sets these on every change
INT32 = (-(2**31), 2**31 - 1)

NOT_FOUND = "服务器上找不到这条记录，或您无权修改它所属的申报；您的修改已保留在“被拒绝的修改”中"
SAVED = "您的修改已保留在“被拒绝的修改”中"


class _Stop(Exception):
    """Ends one mutation with a status other than ok (raised and caught inside this module)."""

    def __init__(self, st: Status, msg: str, theirs: dict[str, Any] | None = None) -> None:
        super().__init__(msg)
        self.st, self.msg, self.theirs = st, msg, theirs


def _refuse(msg: str) -> NoReturn:
    raise _Stop("refused", msg)


def jsonable(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


# ---------------------------------------------------------------------- names for messages
_NAMES = {"person": "申报人", "application": "申报设置", "attachment": "附件"}
SANE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def table_label(t: str) -> str:
    if t in _NAMES:
        return f"「{_NAMES[t]}」"
    spec = load_forms().by_table(t)
    return f"「{spec.title}」" if spec else f"「{t}」" if SANE.match(t) else "（名称无法识别）"


def field_label(t: str, name: str) -> str:
    spec = load_forms().by_table(t)
    found = spec.field(name) if spec else None
    if found is not None:
        return f"「{found.label}」"
    return f"「{name}」" if SANE.match(name) else "（名称无法识别）"


# ---------------------------------------------------------------------- values
_KINDS = (("UUID", "编号（UUID）"), ("bool", "是或否"), ("int", "整数"), ("str", "文字"))


def _coerce(t: str, model: type[SQLModel], name: str, value: Any) -> Any:
    """One JSON value as the column holds it, or a refusal that says what is expected."""
    field = model.model_fields.get(name)
    if field is None:
        _refuse(f"{table_label(t)}的{field_label(t, name)}由服务器决定，不能由客户端写入")
    try:
        out = column_adapter(model, name).validate_python(value)
    except ValidationError:
        kind = next((k for key, k in _KINDS if key in str(field.annotation)), "")
        expected = f"，应为{kind}" if kind else ""
        _refuse(f"{table_label(t)}的{field_label(t, name)}取值不符合要求{expected}；{SAVED}")
    if isinstance(out, str) and "\x00" in out:
        _refuse(f"{table_label(t)}的{field_label(t, name)}含有空字符（\\0），请删除后重试")
    if isinstance(out, int) and not isinstance(out, bool) and not INT32[0] <= out <= INT32[1]:
        _refuse(f"{table_label(t)}的{field_label(t, name)}数值太大，超出了允许的范围")
    return out


def _same(a: Any, b: Any) -> bool:
    return bool(a == b)


# ---------------------------------------------------------------------- the pusher
class Pusher:
    def __init__(
        self,
        db: Session,
        numbers: changes.Block,
        account: Account,
        unit: Unit | None,
        client: uuid.UUID,
        address: str,
    ) -> None:
        self.db, self.numbers, self.account, self.unit = db, numbers, account, unit
        self.client, self.address = client, address
        # Per request: the applications already checked, and the changes to record. The
        # router calls `kept` once a mutation's savepoint is released and `flush` before
        # the commit: one upsert for the batch instead of one per mutation.
        self._apps: dict[uuid.UUID, Application] = {}
        self._staged: list[changes.Entry] = []
        self._kept: dict[tuple[str, uuid.UUID], changes.Entry] = {}

    def apply(self, m: Mutation) -> Result:
        self._staged = []
        if m.t == "application":
            self._apps.clear()  # its state or tombstone may change: read it again
        try:
            return self._apply(m)
        except _Stop as stop:
            return Result(seq=m.seq, st=stop.st, msg=stop.msg, theirs=stop.theirs)

    def kept(self) -> None:
        for e in self._staged:
            self._kept[(e.table, e.row_id)] = e
        self._staged = []

    def flush(self) -> None:
        """Record the kept changes and move the counter past them (before the commit)."""
        changes.record_changes(self.db, list(self._kept.values()))
        self._kept.clear()
        self.numbers.save()

    # ------------------------------------------------------------------ dispatch
    def _apply(self, m: Mutation) -> Result:
        table = TABLES.get(m.t)
        if table is None:
            _refuse(
                f"服务器不认识数据表{table_label(m.t)}，无法保存这项修改；请把客户端升级到最新版本"
            )
        pairs = self._pairs(m, table)
        if m.t == "person":
            return self._person(m, table, pairs)
        if m.t == "application":
            return self._application(m, pairs)
        return self._section(m, table, pairs)

    def _pairs(self, m: Mutation, table: Table) -> dict[str, tuple[Any, Any]]:
        """{column: (old, new)} checked against the table and coerced to the column types."""
        model = MODELS[m.t]
        pairs: dict[str, tuple[Any, Any]] = {}
        for name, pair in m.ch.items():
            if name not in table.c:
                _refuse(f"{table_label(m.t)}没有{field_label(m.t, name)}这一项，服务器无法保存")
            if not isinstance(pair, list) or len(pair) != 2:
                _refuse(f"{field_label(m.t, name)}的修改格式不对：应为 [原值, 新值]")
            if name in SYSTEM:
                if m.op == "insert":
                    continue  # the server sets them; an insert's copy is ignored
                _refuse(f"{field_label(m.t, name)}由服务器维护，不能修改")
            old = None if m.op == "insert" else _coerce(m.t, model, name, pair[0])
            pairs[name] = (old, _coerce(m.t, model, name, pair[1]))
        if m.op == "update":
            for fixed in ("application_id", "person_id", "deleted"):
                if fixed in pairs:
                    _refuse(
                        f"{field_label(m.t, fixed)}不能修改（删除请用删除操作，其余请新建记录）"
                    )
        return pairs

    # ------------------------------------------------------------------ rows and access
    def _row(self, table: Table, row_id: uuid.UUID) -> Mapping[Any, Any] | None:
        found = self.db.execute(select(table).where(table.c.id == row_id)).first()
        return found._mapping if found else None

    def _writable(self, app_id: uuid.UUID | None, *, locked: bool = True) -> Application:
        """The application, if the caller may write it (and, with `locked`, if it is still
        editable); the same refusal whether it does not exist or is not theirs."""
        if app_id is None:
            _refuse(NOT_FOUND)
        app = self._apps.get(app_id)
        if app is None:
            q = access.applications(self.db, self.account, deleted=True).where(
                col(Application.id) == app_id
            )
            app = self.db.scalars(q.execution_options(populate_existing=True)).first()
            if app is None:
                _refuse(NOT_FOUND)
            self._apps[app_id] = app
        if locked and app.state not in EDITABLE_STATES:
            raise _Stop("locked", _locked_message(app.state))
        return app

    def _person_writable(self, id_number: str) -> Account:
        """The account a person belongs to, if the caller may write that person."""
        me = self.account
        if me.role == "applicant":
            if id_number != me.id_number:
                _refuse("只能填写或修改本人的身份信息（身份证号须与登录帐号一致）")
            return me
        owner = self.db.scalars(select(Account).where(col(Account.id_number) == id_number)).first()
        if owner is None or owner.unit_id is None or owner.unit_id != me.unit_id:
            _refuse("该身份证号不是本单位的帐号，不能代为填写；请先在本单位为其开通帐号")
        return owner

    def _alias(self, local: uuid.UUID) -> uuid.UUID:
        found = self.db.get(SyncAlias, (self.client, local))
        return found.server_id if found else local

    # ------------------------------------------------------------------ writing
    def _write(
        self,
        m: Mutation,
        table: Table,
        row_id: uuid.UUID,
        app_id: uuid.UUID | None,
        values: dict[str, Any],
        *,
        new: bool,
        st: Status = "ok",
        author_has_it: bool = True,
    ) -> Result:
        """Insert or update one row under the next change number. An `ok` row is not sent
        back to its author; a merged one, or one the server filled in, is."""
        n = self.numbers.next()
        values = {**values, "rev": n, "updated_at": utcnow()}
        if new:
            self.db.execute(insert(table).values(id=row_id, **values))
        else:
            self.db.execute(update(table).where(table.c.id == row_id).values(**values))
        origin = self.client if st == "ok" and author_has_it else None
        self._staged.append(changes.Entry(m.t, row_id, app_id, n, origin))
        return Result(seq=m.seq, st=st, rev=n)

    def _existing_insert(
        self, m: Mutation, stored: Mapping[Any, Any], values: dict[str, Any]
    ) -> Result:
        """An insert of a row the server has: a retry if it holds the same values."""
        if all(_same(stored[k], v) for k, v in values.items()):
            return Result(seq=m.seq, st="ok", rev=stored["rev"])
        theirs = {k: jsonable(stored[k]) for k in values}
        raise _Stop("conflict", _conflict_message(m.t, list(values)), theirs)

    def _change(
        self,
        m: Mutation,
        table: Table,
        stored: Mapping[Any, Any],
        app_id: uuid.UUID | None,
        pairs: dict[str, tuple[Any, Any]],
    ) -> Result:
        """Update or delete against the stored row: apply, merge, or conflict."""
        row_id = stored["id"]
        if m.op == "delete":
            if stored["deleted"]:
                return Result(seq=m.seq, st="ok", rev=stored["rev"])
            if m.base != stored["rev"]:
                theirs = {
                    k: jsonable(v)
                    for k, v in stored.items()
                    if k not in SYSTEM and k not in ("application_id",)
                    and k in MODELS[m.t].model_fields
                }  # fmt: skip
                raise _Stop(
                    "conflict",
                    f"这条{table_label(m.t)}记录在服务器上已被他人修改，不能直接删除；"
                    "请看过对方的修改后再决定是否删除",
                    theirs,
                )
            return self._write(m, table, row_id, app_id, {"deleted": True}, new=False)
        if stored["deleted"]:
            raise _Stop(
                "conflict",
                f"这条{table_label(m.t)}记录在服务器上已被删除，您的修改没有保存；"
                "如仍需要，请重新添加一条",
                {"deleted": True},
            )
        if not pairs:
            return Result(seq=m.seq, st="ok", rev=stored["rev"])
        if m.base == stored["rev"]:
            return self._write(
                m, table, row_id, app_id, {k: new for k, (_, new) in pairs.items()}, new=False
            )
        apply: dict[str, Any] = {}
        clash = []
        for name, (old, new) in pairs.items():
            if _same(stored[name], old):
                apply[name] = new
            elif not _same(stored[name], new):
                clash.append(name)
        if clash:
            # Field by field: what did not clash is applied; the clash goes to the user.
            theirs = {k: jsonable(stored[k]) for k in clash}
            msg = _conflict_message(m.t, clash)
            if not apply:
                raise _Stop("conflict", msg, theirs)
            done = self._write(m, table, row_id, app_id, apply, new=False, st="conflict")
            return done.model_copy(update={"theirs": theirs, "msg": msg})
        if not apply:  # every field already holds what the client wants
            return Result(seq=m.seq, st="ok", rev=stored["rev"])
        return self._write(m, table, row_id, app_id, apply, new=False, st="merged")

    # ------------------------------------------------------------------ per table
    def _section(self, m: Mutation, table: Table, pairs: dict[str, tuple[Any, Any]]) -> Result:
        stored = self._row(table, m.row)
        if m.op == "insert":
            values = {k: new for k, (_, new) in pairs.items()}
            app_id = values.setdefault("application_id", m.app)
            if stored is not None:
                self._writable(stored["application_id"], locked=False)
                return self._existing_insert(m, stored, values)
            self._writable(app_id)
            try:
                full = MODELS[m.t].model_validate({"id": m.row, **values}).model_dump()
            except ValidationError as exc:
                missing = [str(e["loc"][0]) for e in exc.errors() if e["type"] == "missing"]
                what = "、".join(field_label(m.t, x) for x in missing[:5]) or "必填项"
                _refuse(f"新建的{table_label(m.t)}记录缺少{what}，服务器无法保存")
            full = {k: v for k, v in full.items() if k not in SYSTEM}
            return self._write(m, table, m.row, app_id, full, new=True)
        if stored is None:
            if m.op == "delete":
                return Result(seq=m.seq, st="ok")  # never reached the server: nothing to delete
            _refuse(NOT_FOUND)
        app_id = stored["application_id"]
        self._writable(app_id)
        return self._change(m, table, stored, app_id, pairs)

    def _transition(self, m: Mutation, pairs: dict[str, tuple[Any, Any]]) -> Result:
        """A state change made offline is a workflow action (R12): 提交 (draft or returned →
        submitted) or 撤回 (submitted → draft, until the unit opens it, R12.2), taken under
        the same rules as the workflow's own route: the caller's role, the current state,
        and for a submission the checklist, run here on the server's copy."""
        target = pairs["state"][1]
        others = {k: v for k, v in pairs.items() if k != "state"}
        if others:  # settings changed in the same edit go first, as any other edit
            result = self._application(m.model_copy(update={"ch": {}}), others)
            if result.st != "ok" and result.st != "merged":
                return result
        app = self._writable(m.row, locked=False)
        if app.state == target:
            return Result(seq=m.seq, st="ok", rev=app.rev)
        action = next(
            (a for a, t in TRANSITIONS.items() if t.target == target and app.state in t.sources),
            None,
        )
        if action is None or action not in ("submit", "withdraw"):
            _refuse(
                f"申报当前状态为「{state_label(app.state)}」，不能改为「{state_label(target)}」"
            )
        if why := refusal(action, app.state, self.account.role):
            _refuse(why)
        if self.account.role == "applicant" and app.owner_id != self.account.id:
            _refuse(NOT_FOUND)
        values: dict[str, Any] = {"state": TRANSITIONS[action].target}
        if action == "submit":
            missing = run_checklist(content.load(self.db, app)).errors
            if missing:
                listed = "；".join(f"[{i.rule}] {i.message}" for i in missing[:5])
                more = f" 等 {len(missing)} 项" if len(missing) > 5 else ""
                _refuse(f"服务器检查发现申报还有缺项，未能提交：{listed}{more}")
            values |= {"submitted_at": utcnow(), "return_items": []}
        source = app.state
        # A submission also sets submitted_at and clears the unit's reasons: the author
        # pulls the row back, or its copy would keep the old reasons.
        filled = action == "submit"
        result = self._write(
            m, APPLICATION, app.id, app.id, values, new=False, author_has_it=not filled
        )
        audit(
            self.db,
            f"workflow.{action}",
            actor=self.account,
            application_id=app.id,
            from_state=source,
            to_state=values["state"],
            detail={"via": "sync"},
        )
        return result

    def _person(self, m: Mutation, table: Table, pairs: dict[str, tuple[Any, Any]]) -> Result:
        row_id = self._alias(m.row)
        stored = self._row(table, row_id)
        if m.op == "insert":
            values = {k: new for k, (_, new) in pairs.items()}
            id_number = id_clean(values.get("id_number") or "")
            if not id_number:
                _refuse("新建的申报人缺少身份证号，服务器无法保存")
            values["id_number"] = id_number
            self._person_writable(id_number)
            if stored is not None:
                self._person_writable(stored["id_number"])  # never show another's row
                return self._existing_insert(m, stored, values)
            same = self.db.execute(select(table).where(table.c.id_number == id_number)).first()
            if same is not None:
                # One person per ID number: the client adopts the server's id.
                self.db.merge(SyncAlias(client_id=self.client, local_id=m.row, server_id=same.id))
                return Result(seq=m.seq, st="ok", rev=same.rev, alias=same.id)
            values = {**values, "deleted": bool(values.get("deleted", False))}
            values.setdefault("name", "")
            return self._write(m, table, m.row, None, values, new=True)
        if stored is None:
            _refuse(NOT_FOUND)
        self._person_writable(stored["id_number"])
        if m.op == "delete":
            _refuse("申报人信息不能删除（它属于登录帐号）；如不再申报，请删除对应年度的申报")
        if "id_number" in pairs:
            _refuse("身份证号是登录帐号，不能修改；如有错误请联系单位管理员")
        return self._change(m, table, stored, None, pairs)

    def _application(self, m: Mutation, pairs: dict[str, tuple[Any, Any]]) -> Result:
        if m.op == "update" and "state" in pairs:
            return self._transition(m, pairs)
        if m.op != "insert":
            for name in pairs:
                if name not in APP_EDITABLE:
                    _refuse(
                        f"申报的{field_label('application', name)}由服务器根据您的帐号和审核流程"
                        "决定，不能在客户端修改"
                    )
            stored = self._row(APPLICATION, m.row)
            if stored is None:
                if m.op == "delete":
                    return Result(seq=m.seq, st="ok")
                _refuse(NOT_FOUND)
            self._writable(m.row)
            return self._change(m, APPLICATION, stored, m.row, pairs)
        # An insert: the client chooses person, year and settings; the rest is the server's.
        values = {k: new for k, (_, new) in pairs.items() if k in APP_EDITABLE}
        year = pairs.get("year", (None, None))[1]
        person_local = pairs.get("person_id", (None, None))[1]
        if year is None or not 2000 <= year <= 2100 or person_local is None:
            _refuse("新建的申报缺少申报人或申报年度（2000–2100），服务器无法保存")
        person_id = self._alias(person_local)
        values |= {"person_id": person_id, "year": year}
        stored = self._row(APPLICATION, m.row)
        if stored is not None:
            self._writable(m.row, locked=False)
            return self._existing_insert(m, stored, values)
        person = self._row(SECTION_TABLES["person"], person_id)
        if person is None:
            _refuse("服务器上还没有这位申报人的信息，请先同步申报人后再同步申报")
        owner = self._person_writable(person["id_number"])
        unit = self.unit if owner.id == self.account.id else self.db.get(Unit, owner.unit_id)
        if unit is None:
            _refuse("该帐号尚未归属任何单位，不能创建申报；请联系单位管理员")
        clash = self.db.execute(
            select(APPLICATION.c.id).where(
                APPLICATION.c.person_id == person_id, APPLICATION.c.year == year
            )
        ).first()
        if clash is not None:
            who = "您" if owner.id == self.account.id else "该申报人"
            _refuse(
                f"服务器上已有{who} {year} 年度的申报，每人每年只能申报一次；"
                f"请在已有的申报中继续填写。{SAVED}"
            )
        values |= {
            "owner_id": owner.id,
            "unit_id": unit.id,
            "unit_name": unit.name,
            "city": unit.city,
            "state": "draft",
            "catalog_version": load_catalog().version,
            "deleted": False,
            "return_items": [],
        }
        # The server filled in unit, city and state: the author pulls the row whole.
        result = self._write(m, APPLICATION, m.row, m.row, values, new=True, author_has_it=False)
        audit(
            self.db,
            "application.created",
            actor=self.account,
            subject=owner,
            application_id=m.row,
            to_state="draft",
            address=self.address,
            detail={"via": "sync"},
        )
        return result


def _locked_message(state: str) -> str:
    why = {
        "submitted": "申报已提交，不能再修改；单位打开审核之前可以先撤回申报再修改",
        "unit_opened": "申报已被单位打开审核，不能再修改",
    }.get(state, f"申报已处于「{state_label(state)}」状态，不能再修改")
    return f"{why}（R12.2）；{SAVED}"


def _conflict_message(t: str, fields: list[str]) -> str:
    names = "、".join(field_label(t, k) for k in fields[:5])
    return (
        f"{table_label(t)}的{names}在服务器上已被他人改为别的内容，与您的修改冲突；"
        "您的修改没有保存，请对照两边的内容选择保留哪一个"
    )
