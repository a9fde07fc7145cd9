"""The server's REST calls the TUI makes online (review, the office, helpdesk lookups,
public reads): one httpx client per login, Chinese refusals passed on as they are.

Sync (`transport.py`) carries the application's content; this carries the actions that
only make sense with the server present (a unit opening an application, the office
issuing a certificate). Kept free of Textual."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict

from zctui.domain.lookups import CertificateInfo, HelpdeskView, LookupOut, Publication

UNREACHABLE = "连接不上服务器（{url}），请检查网络后重试"
PAGE = 500  # the most rows the server sends in one answer
UNEXPECTED = "服务器返回了无法识别的结果（HTTP {status}），请稍后重试"


class ApiError(Exception):
    """A refusal or a failure, with a message for the person; `missing` lists what the
    server's checklist found incomplete, when it says so."""

    def __init__(self, message: str, status: int = 0, missing: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.status = status
        self.missing = missing or []


class ServerApi:
    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 20.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = client or httpx.Client(base_url=self.base_url, timeout=timeout)
        self._headers = headers

    def close(self) -> None:
        self._http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON answer (None for 204); ApiError with the server's own words else."""
        headers = {**self._headers, **kwargs.pop("headers", {})}
        try:
            r = self._http.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError:
            raise ApiError(UNREACHABLE.format(url=self.base_url)) from None
        if r.is_success:
            return None if r.status_code == 204 or not r.content else r.json()
        try:
            body = r.json()
        except ValueError:
            body = {}
        detail = body.get("detail") if isinstance(body, dict) else None
        message = detail if isinstance(detail, str) else UNEXPECTED.format(status=r.status_code)
        missing = body.get("missing") if isinstance(body, dict) else None
        raise ApiError(message, r.status_code, missing if isinstance(missing, list) else None)

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, json=body)

    # ------------------------------------------------------------------ typed calls
    def applications(self, state: str | None = None) -> list[ServerApplication]:
        """The applications the caller may see (a unit admin: the unit's), by state."""
        where = {"state": state} if state else {}
        return [ServerApplication.model_validate(a) for a in self._pages("/applications", where)]

    def application(self, app_id: uuid.UUID) -> ServerApplication:
        return ServerApplication.model_validate(self.get(f"/applications/{app_id}"))

    def act(
        self,
        app_id: uuid.UUID,
        action: str,
        *,
        reason: str | None = None,
        items: list[ReturnItem] | None = None,
    ) -> ServerApplication:
        """A workflow action (open, return, approve …, server/workflow.py) on one application."""
        body: dict[str, Any] = {}
        if reason:
            body["reason"] = reason
        if items:
            body["items"] = [i.model_dump() for i in items]
        return ServerApplication.model_validate(self.post(f"/applications/{app_id}/{action}", body))

    def audit(self, app_id: uuid.UUID) -> list[AuditEntry]:
        return [AuditEntry.model_validate(a) for a in self.get(f"/applications/{app_id}/audit")]

    def users(self) -> list[UserAccount]:
        """The accounts the caller manages (a unit admin: the unit's people), by name."""
        return [UserAccount.model_validate(u) for u in self._pages("/users", {})]

    def _pages(self, path: str, params: dict[str, Any]) -> list[Any]:
        """Every row of a listing: the server answers at most 500 at a time."""
        out: list[Any] = []
        while True:
            page = self.get(path, **params, offset=len(out), limit=PAGE)
            out += page
            if len(page) < PAGE:
                return out

    def create_user(self, id_number: str, name: str, phone: str | None = None) -> UserAccount:
        """An applicant account in the caller's unit, on the default password (R1.3)."""
        body = {"id_number": id_number, "name": name, "phone": phone or None}
        return UserAccount.model_validate(self.post("/users", body))

    def reset_password(self, user_id: uuid.UUID) -> None:
        """R1.3: back to the default password, to be changed at the next login."""
        self.post(f"/users/{user_id}/reset-password")

    # -- the title office (issue 7): its queue, results, certificates, publications ------
    def office_queue(self, state: str | None = None) -> list[dict[str, Any]]:
        """Applications the city's units forwarded (all forwarded states when None): every
        page, since a city's queue may pass the server's 500 rows a page."""
        return list(self._pages("/applications", {"state": state} if state else {}))

    def office_action(
        self,
        app_id: str,
        action: str,
        *,
        reason: str | None = None,
        certificate_number: str | None = None,
    ) -> dict[str, Any]:
        """accept, pass, reject (with `reason`), issue (the server makes the number when
        `certificate_number` is None): the application as it now is."""
        body = {
            k: v
            for k, v in (("reason", reason), ("certificate_number", certificate_number))
            if v is not None
        }
        return dict(self.post(f"/applications/{app_id}/{action}", body))

    def office_audit(self, app_id: str) -> list[dict[str, Any]]:
        return list(self.get(f"/applications/{app_id}/audit"))

    def publish(self, kind: str, title: str, body: str) -> dict[str, Any]:
        """通知公告 (kind "announcement") or 政策文件 ("policy"); body in Markdown."""
        return dict(self.post("/publications", {"kind": kind, "title": title, "body": body}))

    def publications(self, kind: str) -> list[dict[str, Any]]:
        path = "/public/announcements" if kind == "announcement" else "/public/policies"
        return list(self.get(path, limit=200))

    # -- helpdesk and public reads (issue 8) ------------------------------------------
    def helpdesk_lookup(self, query: str) -> LookupOut:
        """People by full ID number, name or pinyin initials (helpdesk only; audited)."""
        return LookupOut.model_validate(self.get("/helpdesk/people", q=query))

    def helpdesk_application(self, app_id: uuid.UUID) -> HelpdeskView:
        return HelpdeskView.model_validate(self.get(f"/helpdesk/applications/{app_id}"))

    def announcements(self, offset: int = 0, limit: int = 50) -> list[Publication]:
        rows = self.get("/public/announcements", offset=offset, limit=limit)
        return [Publication.model_validate(r) for r in rows]

    def policies(self, offset: int = 0, limit: int = 50) -> list[Publication]:
        rows = self.get("/public/policies", offset=offset, limit=limit)
        return [Publication.model_validate(r) for r in rows]

    def certificate(self, number: str, name: str) -> CertificateInfo:
        """证书查询 by number and name together; ApiError (404, in Chinese) when not found."""
        body = self.post("/public/certificates/lookup", {"number": number, "name": name})
        return CertificateInfo.model_validate(body)


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")  # a newer server may say more


class ReturnItem(_Answer):
    """One item the unit sends back: which section (and field), and why."""

    section: str
    field: str | None = None
    reason: str


class ServerApplication(_Answer):
    """One application as the review queue lists it."""

    id: uuid.UUID
    year: int
    state: str
    name: str | None = None
    id_number: str | None = None
    series: str | None = None
    title: str | None = None
    submitted_at: datetime | None = None
    return_items: list[ReturnItem] = []


class AuditEntry(_Answer):
    at: datetime
    event: str
    actor_role: str | None = None
    from_state: str | None = None
    to_state: str | None = None
    reason: str | None = None


class UserAccount(_Answer):
    id: uuid.UUID
    id_number: str | None = None
    name: str
    phone: str | None = None
    role: str
    must_change_password: bool = False
