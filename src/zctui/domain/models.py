"""The application as tables: one class per section of the guide (R2–R11).

Every user-entered value is stored as the text the user typed (`str | None`): an edit is
saved the moment it is made, even when it is not valid yet, so nothing typed is ever lost.
Whether a value is valid, and whether a section is complete, is decided by the field specs
in `data/forms.yaml` (see `domain.fields` and `domain.checklist`), not by the columns.

Sync columns (DESIGN): a client-made UUID key, `application_id`, `rev` (server revision,
0 = never synced), `updated_at`, `deleted` (tombstone).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import cache
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


@cache
def column_adapter(model: type[SQLModel], name: str) -> TypeAdapter[Any]:
    """Validates a JSON value for one column (UUIDs, times as text): what sync sends."""
    annotation: Any = model.model_fields[name].annotation
    return TypeAdapter(annotation)


class SyncColumns(SQLModel):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    rev: int = 0
    updated_at: datetime = Field(default_factory=utcnow)
    deleted: bool = False


class Person(SyncColumns, table=True):
    """The person behind one or more yearly applications; the account is the ID number (R1.1)."""

    id_number: str = Field(index=True, unique=True)
    name: str = ""


class Application(SyncColumns, table=True):
    """One application (申报) per person per year, with its settings (R2)."""

    __table_args__ = (UniqueConstraint("person_id", "year"),)

    person_id: uuid.UUID = Field(foreign_key="person.id", index=True)
    year: int
    state: str = "draft"
    catalog_version: int | None = None
    # R2.1: from the account, not editable by the applicant.
    unit_name: str | None = None
    city: str | None = None
    # R2.2–R2.5
    category: str | None = None
    series: str | None = None
    specialty: str | None = None
    title: str | None = None
    method: str | None = None
    review_mode: str | None = None
    # R12: the unit's reasons when it returned the application, item by item ({section,
    # field, reason}); set by the server, pulled by sync, cleared at the next submission.
    return_items: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON))

    @property
    def application_id(self) -> uuid.UUID:
        return self.id


class SectionRow(SyncColumns):
    application_id: uuid.UUID = Field(foreign_key="application.id", index=True)


class ListRow(SectionRow):
    """A row of a list section; `position` keeps the guide's order (R7.2, R9.1, R10.1)."""

    position: int = 0


# R3 ---------------------------------------------------------------------------------------
class BasicInfo(SectionRow, table=True):
    __tablename__ = "basic_info"
    name: str | None = None
    id_type: str | None = None
    id_number: str | None = None
    gender: str | None = None
    ethnicity: str | None = None
    birth_date: str | None = None
    politics: str | None = None
    mobile: str | None = None
    work_phone: str | None = None
    summary: str | None = None


class SocialSecurityRecord(ListRow, table=True):
    __tablename__ = "social_security_record"
    unit: str | None = None
    months: str | None = None
    start_date: str | None = None
    status: str | None = None


# R4 ---------------------------------------------------------------------------------------
class CurrentStatus(SectionRow, table=True):
    __tablename__ = "current_status"
    archive_unit: str | None = None
    unit_type: str | None = None
    hr_phone: str | None = None
    years_in_specialty: str | None = None
    current_specialty: str | None = None
    has_title: str | None = None
    cur_category: str | None = None
    cur_series: str | None = None
    cur_specialty: str | None = None
    cur_title: str | None = None
    cur_title_date: str | None = None
    k12_location: str | None = None


# R7 ---------------------------------------------------------------------------------------
class Education(ListRow, table=True):
    kind: str | None = None
    school: str | None = None
    major: str | None = None
    level: str | None = None
    degree: str | None = None
    origin: str | None = None
    start: str | None = None
    graduated: str | None = None
    chsi_code: str | None = None
    double_college: str | None = None


class WorkHistory(ListRow, table=True):
    __tablename__ = "work_history"
    start: str | None = None
    end: str | None = None
    unit: str | None = None
    post: str | None = None


class TitleCertificate(ListRow, table=True):
    __tablename__ = "title_certificate"
    role: str | None = None
    category: str | None = None
    series: str | None = None
    specialty: str | None = None
    title: str | None = None
    approval_no: str | None = None
    management_no: str | None = None
    obtained: str | None = None


class ExamCertificate(ListRow, table=True):
    """以考代评 professional exam certificate (R7.7)."""

    __tablename__ = "exam_certificate"
    name: str | None = None
    series: str | None = None
    title: str | None = None
    number: str | None = None
    obtained: str | None = None


class CombinedExamCertificate(ListRow, table=True):
    """考评结合 certificate or score sheet (R7.8)."""

    __tablename__ = "combined_exam_certificate"
    category: str | None = None
    series: str | None = None
    specialty: str | None = None
    title: str | None = None
    approval_no: str | None = None
    management_no: str | None = None
    obtained: str | None = None
    exam_year: str | None = None
    score: str | None = None
    valid_until: str | None = None


class OtherCertificate(ListRow, table=True):
    __tablename__ = "other_certificate"
    kind: str | None = None
    name: str | None = None
    number: str | None = None
    issuer: str | None = None
    obtained: str | None = None


class SocietyPost(ListRow, table=True):
    __tablename__ = "society_post"
    organization: str | None = None
    post: str | None = None
    start: str | None = None
    end: str | None = None


# R8 ---------------------------------------------------------------------------------------
class AnnualAppraisal(ListRow, table=True):
    __tablename__ = "annual_appraisal"
    year: str | None = None
    grade: str | None = None


class WorkExperience(ListRow, table=True):
    __tablename__ = "work_experience"
    start: str | None = None
    end: str | None = None
    content: str | None = None
    remark: str | None = None


class SpecialExperience(ListRow, table=True):
    __tablename__ = "special_experience"
    start: str | None = None
    end: str | None = None
    category: str | None = None


# R9 ---------------------------------------------------------------------------------------
class Recognition(ListRow):
    """What honours and awards share (R9.1, R9.2: "添加获奖，参照荣誉")."""

    name: str | None = None
    level: str | None = None
    issuer: str | None = None
    awarded: str | None = None
    approval_no: str | None = None
    notice_no: str | None = None


class Honour(Recognition, table=True):
    pass


class Award(Recognition, table=True):
    grade: str | None = None


class ExpertTitle(ListRow, table=True):
    __tablename__ = "expert_title"
    name: str | None = None
    issuer: str | None = None
    awarded: str | None = None


class ResearchProject(ListRow, table=True):
    __tablename__ = "research_project"
    name: str | None = None
    source: str | None = None
    rank: str | None = None
    start: str | None = None
    end: str | None = None


class Patent(ListRow, table=True):
    name: str | None = None
    kind: str | None = None
    number: str | None = None
    granted: str | None = None
    transferred: str | None = None


class OtherAchievement(ListRow, table=True):
    __tablename__ = "other_achievement"
    kind: str | None = None
    name: str | None = None
    description: str | None = None


# R10 --------------------------------------------------------------------------------------
class Paper(ListRow, table=True):
    title: str | None = None
    journal: str | None = None
    journal_numbers: str | None = None
    sponsor: str | None = None
    published: str | None = None
    author_rank: str | None = None
    words: str | None = None
    journal_rank: str | None = None
    retrieval_url: str | None = None
    remark: str | None = None
    foreign_language: str | None = None


class Monograph(ListRow, table=True):
    title: str | None = None
    publisher: str | None = None
    isbn: str | None = None
    published: str | None = None
    role: str | None = None
    rank: str | None = None
    words: str | None = None
    remark: str | None = None


# R11 --------------------------------------------------------------------------------------
class OverviewSupplement(SectionRow, table=True):
    __tablename__ = "overview_supplement"
    admin_post: str | None = None
    current_qualification: str | None = None
    applied_qualification: str | None = None
    work_start: str | None = None
    health: str | None = None
    score: str | None = None
    score_rank: str | None = None
    unit_recommended: str | None = None
    years_professional: str | None = None
    years_grassroots: str | None = None
    exceptional_conditions: str | None = None


# Attachments and the outbox ----------------------------------------------------------------
class Attachment(ListRow, table=True):
    """A file in a slot of a record (or of the application, for R3/R5 slots); the bytes are a
    content-addressed blob named by its SHA-256."""

    owner_table: str = Field(index=True)
    owner_id: uuid.UUID = Field(index=True)
    slot: str
    sha256: str = Field(index=True)
    original_name: str
    size: int
    pages: int | None = None
    media_type: str | None = None


class OutboxEntry(SQLModel, table=True):
    """One local mutation waiting to be pushed; `seq` is the client's mutation number."""

    __tablename__ = "outbox"
    seq: int | None = Field(default=None, primary_key=True)
    mutation_id: uuid.UUID = Field(default_factory=uuid.uuid4, unique=True)
    table_name: str
    row_id: uuid.UUID
    application_id: uuid.UUID | None = Field(default=None, index=True)
    op: str  # insert | update | delete
    changes: str  # JSON {field: [old, new]}
    base_rev: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    # The wire number (`domain.sync.Mutation.seq`) of the mutation this entry went into,
    # fixed before the first send so a retry resends the same thing; 0 = folded away
    # (inserted and deleted before any sync), None = not yet prepared.
    push_seq: int | None = Field(default=None, index=True)


class SyncState(SQLModel, table=True):
    """This workspace's place in the sync (one row): who it is to the server, what it has
    pulled, which of its mutations the server has applied."""

    __tablename__ = "sync_state"
    id: int = Field(default=1, primary_key=True)
    client_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    cursor: int = 0  # the last server change number pulled
    next_push: int = 1  # the next mutation number to hand out
    acked: int = 0  # the highest mutation number the server has applied
    catalog_version: int | None = None  # the server's, as last seen
    synced_at: datetime | None = None


class SyncIssue(SQLModel, table=True):
    """An edit the server did not take as it was: a conflict (the same field changed on
    both sides) or a refused one (locked by the unit's review, R12.2, or invalid). Kept,
    with what the user typed, until the user has seen and settled it."""

    __tablename__ = "sync_issue"
    id: int | None = Field(default=None, primary_key=True)
    kind: str  # conflict | locked | refused
    push_seq: int
    table_name: str
    row_id: uuid.UUID
    application_id: uuid.UUID | None = Field(default=None, index=True)
    op: str
    mine: str  # JSON {field: value the user typed}
    theirs: str | None = None  # JSON {field: the server's value}, for a conflict
    message: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    settled_at: datetime | None = None


SINGLE_TABLES: dict[str, type[SectionRow]] = {
    "basic_info": BasicInfo,
    "current_status": CurrentStatus,
    "overview_supplement": OverviewSupplement,
}
LIST_TABLES: dict[str, type[ListRow]] = {
    cls.__tablename__: cls  # type: ignore[misc]
    for cls in (
        SocialSecurityRecord,
        Education,
        WorkHistory,
        TitleCertificate,
        ExamCertificate,
        CombinedExamCertificate,
        OtherCertificate,
        SocietyPost,
        AnnualAppraisal,
        WorkExperience,
        SpecialExperience,
        Honour,
        Award,
        ExpertTitle,
        ResearchProject,
        Patent,
        OtherAchievement,
        Paper,
        Monograph,
    )
}
TABLES: dict[str, type[SQLModel]] = {
    "person": Person,
    "application": Application,
    **SINGLE_TABLES,
    **LIST_TABLES,
    "attachment": Attachment,
}
