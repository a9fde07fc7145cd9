"""The login screen's `AuthClient` over HTTP, against `zctui serve` (R1)."""

from __future__ import annotations

import httpx

from zctui.sync.api import ServerApi
from zctui.sync.auth import AuthError, LoginResult

UNREACHABLE = "连接不上服务器（{url}），请检查网络或服务器地址后重试"
UNEXPECTED = "服务器返回了无法识别的结果（{status}），请稍后重试"


class HttpAuthClient:
    def __init__(self, base_url: str, *, timeout: float = 15.0, client: httpx.Client | None = None):
        self.base_url = base_url.rstrip("/")
        self._http = client or httpx.Client(base_url=self.base_url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def public_api(self) -> ServerApi:
        """The public pages (通知公告, 政策文件, 证书查询) need no login: the same connection,
        no token. Owned by this client: whoever uses it does not close it."""
        return ServerApi(self.base_url, client=self._http)

    def login(self, id_number: str, password: str) -> LoginResult:
        r = self._post("/auth/login", {"id_number": id_number, "password": password})
        body = r.json()
        return LoginResult(
            token=body["token"],
            must_change_password=bool(body["must_change_password"]),
            name=body.get("name", ""),
            role=body.get("role", "applicant"),
        )

    def change_password(self, token: str, old: str, new: str) -> None:
        self._post(
            "/auth/password",
            {"old_password": old, "new_password": new},
            headers={"Authorization": f"Bearer {token}"},
        )

    def _post(
        self, path: str, body: dict[str, str], headers: dict[str, str] | None = None
    ) -> httpx.Response:
        try:
            r = self._http.post(path, json=body, headers=headers)
        except httpx.HTTPError:
            raise AuthError(UNREACHABLE.format(url=self.base_url)) from None
        if r.is_success:
            return r
        # The server's refusals are Chinese sentences meant for the person: pass them on.
        try:
            detail = r.json().get("detail")
        except ValueError:
            detail = None
        raise AuthError(
            detail if isinstance(detail, str) else UNEXPECTED.format(status=r.status_code)
        )
