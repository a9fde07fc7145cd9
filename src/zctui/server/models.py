"""The server's tables, on their own metadata (the local store's tables live on SQLModel's).

Units, accounts, sessions, the login throttle, the append-only audit, the application with
its workflow state, publications and certificates. The application's sections are the
domain's own tables, copied onto this metadata, so the sync issue can push rows into them
unchanged (DESIGN: every row has id/rev/updated_at/deleted).

Times are aware UTC (SQLModel's UTCDateTime restores the zone SQLite does not keep).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from zctui.domain import models as domain
from zctui.domain.models import utcnow


class ServerModel(SQLModel, registry=registry()):
    """Base of the server's tables: a metadata of their own, migrated by server/migrations."""


ROLES = ("applicant", "unit_admin", "helpdesk", "office")
UNIT_KINDS = ("office", "department", "unit")  # 职改办 → 主管部门 → 用人单位


class Unit(ServerModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    parent_id: uuid.UUID | None = Field(default=None, foreign_key="unit.id", index=True)
    kind: str = "unit"
    name: str = Field(index=True)
    city: str = ""
    uscc: str | None = Field(default=None, unique=True)  # 统一社会信用代码, optional
    created_at: datetime = Field(default_factory=utcnow)


class Account(ServerModel, table=True):
    """A login: the ID number is the account name for every role (R1.1)."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    id_number: str = Field(unique=True)
    name: str = ""
    phone: str | None = None
    role: str = "applicant"
    unit_id: uuid.UUID | None = Field(default=None, foreign_key="unit.id", index=True)
    password_hash: str
    must_change: bool = True  # still on the default password (R1.2, R1.3)
    default_set_at: datetime | None = Field(default_factory=utcnow)  # None once changed
    password_changed_at: datetime | None = None
    disabled: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class AuthSession(ServerModel, table=True):
    __tablename__ = "auth_session"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    token_hash: str = Field(unique=True)  # SHA-256 of the token: a leaked table logs no one in
    account_id: uuid.UUID = Field(foreign_key="account.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class LoginThrottle(ServerModel, table=True):
    """Failures of one account name from one address; 5 lock only that pair (see security)."""

    __tablename__ = "login_throttle"
    account_key: str = Field(primary_key=True)  # hash of the ID number as typed, known or not
    address: str = Field(primary_key=True)
    failures: int = 0
    locked_until: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class LoginFailure(ServerModel, table=True):
    """Recent failures, for the per-address and per-account limits and spraying detection;
    pruned after a day. `password_mark` is a keyed hash, never the password."""

    __tablename__ = "login_failure"
    __table_args__ = (
        Index("ix_login_failure_key_at", "account_key", "at"),
        Index("ix_login_failure_address_at", "address", "at"),
        Index("ix_login_failure_mark_at", "password_mark", "at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    account_key: str
    address: str
    password_mark: str


class KnownAddress(ServerModel, table=True):
    """Addresses an account has logged in from: the slower account-wide limit spares them."""

    __tablename__ = "known_address"
    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    address: str = Field(primary_key=True)
    last_login: datetime = Field(default_factory=utcnow)


class Audit(ServerModel, table=True):
    """Append-only (the migration's triggers refuse UPDATE and DELETE): who, when, from,
    to, why."""

    __table_args__ = (Index("ix_audit_application_id", "application_id", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    event: str = Field(index=True)  # login.failed, workflow.submit, password.reset …
    actor_id: uuid.UUID | None = None
    actor_role: str | None = None
    subject_id: uuid.UUID | None = None  # the account acted on, if any
    application_id: uuid.UUID | None = None
    from_state: str | None = None
    to_state: str | None = None
    reason: str | None = None
    address: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class Application(ServerModel, table=True):
    """The domain's application columns plus ownership and the workflow (R12)."""

    __table_args__ = (UniqueConstraint("person_id", "year"),)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    rev: int = 0
    updated_at: datetime = Field(default_factory=utcnow)
    deleted: bool = False
    person_id: uuid.UUID = Field(foreign_key="person.id", index=True)
    owner_id: uuid.UUID = Field(foreign_key="account.id", index=True)
    unit_id: uuid.UUID = Field(foreign_key="unit.id", index=True)
    year: int
    state: str = Field(default="draft", index=True)
    catalog_version: int | None = None
    unit_name: str | None = None
    city: str | None = None
    category: str | None = None
    series: str | None = None
    specialty: str | None = None
    title: str | None = None
    method: str | None = None
    review_mode: str | None = None
    submitted_at: datetime | None = None
    # The unit's latest return, item by item, for the applicant to act on.
    return_items: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))


class Publication(ServerModel, table=True):
    """通知公告 (kind "announcement") and 政策文件 (kind "policy"): one shape, one table."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    kind: str = Field(index=True)
    title: str
    body: str = ""
    city: str = ""
    published_at: datetime = Field(default_factory=utcnow)
    author_id: uuid.UUID | None = Field(default=None, foreign_key="account.id")


class Certificate(ServerModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    number: str = Field(unique=True)
    name: str
    application_id: uuid.UUID = Field(foreign_key="application.id", unique=True)
    series: str | None = None
    specialty: str | None = None
    title: str | None = None
    unit_name: str | None = None
    issued_at: datetime = Field(default_factory=utcnow)


class CertificateSequence(ServerModel, table=True):
    """The last certificate sequence number handed out per year (certificates.py)."""

    __tablename__ = "certificate_sequence"
    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    n: int = 0


# Sync (issue 6; the protocol is domain/sync.py) ----------------------------------------
class SyncCounter(ServerModel, table=True):
    """One row: the last change number handed out. Every change takes the next one with
    `UPDATE … SET n = n + 1 RETURNING n`; the row lock, held until commit, makes the numbers
    become visible in order (see changes.py)."""

    __tablename__ = "sync_counter"
    id: int = Field(primary_key=True)
    n: int = Field(sa_column=Column(BigInteger, nullable=False))


class SyncClient(ServerModel, table=True):
    """One local store; it belongs to the account that first synced it."""

    __tablename__ = "sync_client"
    client_id: uuid.UUID = Field(primary_key=True)
    account_id: uuid.UUID = Field(foreign_key="account.id", index=True)
    acked: int = 0  # the highest seq applied
    created_at: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow)


class SyncResult(ServerModel, table=True):
    """What became of one applied mutation, to answer a retry identically."""

    __tablename__ = "sync_result"
    client_id: uuid.UUID = Field(primary_key=True)
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True))
    result: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class SyncChange(ServerModel, table=True):
    """The latest change of each synced row: what a pull reads, in `n` order."""

    __tablename__ = "sync_change"
    table_name: str = Field(primary_key=True)
    row_id: uuid.UUID = Field(primary_key=True)
    n: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    application_id: uuid.UUID | None = Field(default=None, index=True)  # None for persons
    origin: uuid.UUID | None = None  # the client whose mutation made it (not sent back to it)


class SyncAlias(ServerModel, table=True):
    """A client's id for a person the server holds under another id (same ID number)."""

    __tablename__ = "sync_alias"
    client_id: uuid.UUID = Field(primary_key=True)
    local_id: uuid.UUID = Field(primary_key=True)
    server_id: uuid.UUID


# The application's content: the domain tables, unchanged, on the server's metadata.
SECTION_TABLES = {
    name: cls.__table__.to_metadata(ServerModel.metadata)  # type: ignore[attr-defined]
    for name, cls in {
        "person": domain.Person,
        **domain.SINGLE_TABLES,
        **domain.LIST_TABLES,
        "attachment": domain.Attachment,
    }.items()
}
