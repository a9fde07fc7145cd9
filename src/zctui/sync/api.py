"""The server's REST calls the TUI makes online (review, the office, helpdesk lookups,
public reads): one httpx client per login, Chinese refusals passed on as they are.

Sync (`transport.py`) carries the application's content; this carries the actions that
only make sense with the server present (a unit opening an application, the office
issuing a certificate). Kept free of Textual."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from zctui.domain.lookups import CertificateInfo, HelpdeskView, LookupOut, Publication

UNREACHABLE = "连接不上服务器（{url}），请检查网络后重试"
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
