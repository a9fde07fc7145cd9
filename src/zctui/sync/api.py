"""The server's REST calls the TUI makes online (review, the office, helpdesk lookups,
public reads): one httpx client per login, Chinese refusals passed on as they are.

Sync (`transport.py`) carries the application's content; this carries the actions that
only make sense with the server present (a unit opening an application, the office
issuing a certificate). Kept free of Textual."""

from __future__ import annotations

from typing import Any

import httpx

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

    # -- the title office (issue 7): its queue, results, certificates, publications ------
    def office_queue(self, state: str | None = None) -> list[dict[str, Any]]:
        """Applications the city's units forwarded (all forwarded states when None)."""
        params = {"state": state} if state else {}
        return list(self.get("/applications", limit=500, **params))

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
