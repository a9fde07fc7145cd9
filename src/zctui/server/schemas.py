"""Request and response bodies, separate from the tables; requests forbid unknown fields."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from zctui.domain.validators import check_mobile

# Bounded paging: a huge offset is a 422, not a database overflow.
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
Limit = Annotated[int, Query(ge=1, le=500)]

Role = Literal["applicant", "unit_admin", "helpdesk", "office"]
State = Literal[
    "draft",
    "submitted",
    "unit_opened",
    "unit_returned",
    "unit_approved",
    "office_review",
    "approved",
    "rejected",
    "certificate_issued",
]
Action = Literal[
    "submit", "withdraw", "open", "return", "approve", "accept", "pass", "reject", "issue"
]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        # PostgreSQL text cannot hold NUL: refuse it here rather than fail in the database.
        if _has_nul(data):
            raise ValueError("文字中不能含有空字符（\\0），请删除后重试")
        return data


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Problem(Out):
    """Every refusal: what is wrong and what is expected, in Chinese."""

    detail: str
    missing: list[MissingItem] | None = None


class MissingItem(Out):
    rule: str
    section: str
    message: str
    field: str | None = None


# -------------------------------------------------------------------- auth
class LoginIn(In):
    id_number: str = Field(min_length=1, max_length=32)
    password: str = Field(min_length=1, max_length=128)


class LoginOut(Out):
    token: str
    must_change_password: bool
    name: str
    role: Role
    idle_minutes: int
    absolute_hours: int


class PasswordIn(In):
    old_password: str = Field(min_length=1, max_length=128)
    new_password: str = Field(min_length=1, max_length=128)


class Me(Out):
    id: uuid.UUID
    id_number: str | None
    name: str
    role: Role
    unit_id: uuid.UUID | None
    unit_name: str | None
    must_change_password: bool


# -------------------------------------------------------------------- users, units
class UserIn(In):
    id_number: str = Field(min_length=15, max_length=20)
    name: str = Field(min_length=1, max_length=50)
    phone: str | None = Field(default=None, max_length=20)

    @field_validator("phone")
    @classmethod
    def _mobile(cls, value: str | None) -> str | None:
        """R3.1: the validator the TUI uses for 手机号码; its Chinese message is the 422's."""
        if value is None or not value.strip():
            return None
        if msg := check_mobile(value):
            raise ValueError(msg)
        return value.strip()


class UserOut(Out):
    id: uuid.UUID
    id_number: str | None
    name: str
    phone: str | None
    role: Role
    unit_id: uuid.UUID | None
    must_change_password: bool


class UnitOut(Out):
    id: uuid.UUID
    parent_id: uuid.UUID | None
    kind: Literal["office", "department", "unit"]
    name: str
    city: str
    uscc: str | None


# -------------------------------------------------------------------- applications
class ApplicationIn(In):
    """R2.2–R2.5 settings; the unit comes from the account (R2.1), never from here. The id
    may be made by the client, which created the application offline (DESIGN)."""

    id: uuid.UUID | None = None
    year: int = Field(ge=2000, le=2100)
    category: str | None = Field(default=None, max_length=40)
    series: str | None = Field(default=None, max_length=40)
    specialty: str | None = Field(default=None, max_length=40)
    title: str | None = Field(default=None, max_length=40)
    method: str | None = Field(default=None, max_length=40)
    review_mode: str | None = Field(default=None, max_length=40)


class ReturnItem(In):
    section: str = Field(min_length=1, max_length=40)
    field: str | None = Field(default=None, max_length=40)
    reason: str = Field(min_length=1, max_length=500)


class ReturnItemOut(Out):
    section: str
    field: str | None = None
    reason: str


class ActionIn(In):
    reason: str | None = Field(default=None, max_length=1000)
    items: list[ReturnItem] = Field(default_factory=list, max_length=200)
    certificate_number: str | None = Field(default=None, min_length=1, max_length=40)


class ApplicationOut(Out):
    id: uuid.UUID
    year: int
    state: State
    owner_id: uuid.UUID
    unit_id: uuid.UUID
    unit_name: str | None
    name: str | None
    id_number: str | None
    category: str | None
    series: str | None
    specialty: str | None
    title: str | None
    method: str | None
    review_mode: str | None
    submitted_at: datetime | None
    rev: int
    return_items: list[ReturnItemOut]


class AuditOut(Out):
    id: int
    at: datetime
    event: str
    actor_id: uuid.UUID | None
    actor_role: str | None
    from_state: str | None
    to_state: str | None
    reason: str | None


# -------------------------------------------------------------------- public
class PublicationIn(In):
    kind: Literal["announcement", "policy"]
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=100_000)
    city: str = Field(default="", max_length=20)


class PublicationOut(Out):
    id: uuid.UUID
    kind: Literal["announcement", "policy"]
    title: str
    body: str
    city: str
    published_at: datetime


class CertificateQuery(In):
    number: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=50)


class CertificateOut(Out):
    number: str
    name: str
    series: str | None
    specialty: str | None
    title: str | None
    unit_name: str | None
    issued_at: datetime


Problem.model_rebuild()
