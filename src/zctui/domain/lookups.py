"""The read-only lookups' shapes on the wire, shared by the server and the TUI: the
helpdesk's (a person found, their application with its checklist and current step) and the
public pages' (通知公告, 政策文件, 证书查询). ID numbers and phones arrive masked."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from zctui.domain.checklist import Checklist


class Wire(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class StepOut(Wire):
    number: int
    title: str
    rule: str


class HelpdeskApplication(Wire):
    """One application in a lookup's results: its state and the step the person is on."""

    id: uuid.UUID
    year: int
    state: str
    unit_name: str | None
    step: StepOut | None  # None: nothing missing
    missing: int


class HelpdeskPerson(Wire):
    account_id: uuid.UUID
    name: str
    id_number: str | None  # masked
    phone: str | None  # masked
    unit_name: str | None
    applications: list[HelpdeskApplication]


class LookupOut(Wire):
    people: list[HelpdeskPerson]
    more: bool  # more people matched than are listed: a longer query narrows it


class AppSummary(Wire):
    id: uuid.UUID
    year: int
    state: str
    name: str | None
    id_number: str | None  # masked
    unit_name: str | None
    category: str | None
    series: str | None
    specialty: str | None
    title: str | None
    method: str | None
    review_mode: str | None
    submitted_at: datetime | None


class HelpdeskView(Wire):
    """An application as the server has it, for the helpdesk: masked, with its checklist."""

    application: AppSummary
    mobile: str | None  # masked
    step: StepOut | None
    checklist: Checklist  # steps, sections, items with rule ids and the guide's words


class Publication(Wire):
    id: uuid.UUID
    kind: Literal["announcement", "policy"]
    title: str
    body: str
    city: str
    published_at: datetime


class CertificateInfo(Wire):
    number: str
    name: str
    series: str | None
    specialty: str | None
    title: str | None
    unit_name: str | None
    issued_at: datetime
