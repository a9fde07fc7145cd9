"""Sync test helpers: workspaces (local stores) that sync with the in-process server of
`server_world`, each as its own client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from pydantic import BaseModel

from zctui.store.repository import Store
from zctui.sync.engine import SyncEngine, SyncReport


class TestClientWire:
    """`post_json` over Starlette's TestClient: the protocol without the network (the
    flaky-link tests use the real transport through a proxy)."""

    def __init__(self, client: TestClient, headers: dict[str, str]) -> None:
        self.client, self.headers = client, headers
        self.sent = 0

    def post_json(self, path: str, body: BaseModel) -> httpx.Response:
        data = body.model_dump_json().encode()
        self.sent += len(data)
        headers = {**self.headers, "content-type": "application/json"}
        return self.client.post(path, content=data, headers=headers)


class Workspace:
    """One person's local store and its sync engine."""

    def __init__(self, path: Path, client: TestClient, headers: dict[str, str]) -> None:
        self.store = Store(path)
        self.wire = TestClientWire(client, headers)
        self.engine = SyncEngine(self.store, self.wire)

    def sync(self) -> SyncReport:
        return self.engine.sync()

    def close(self) -> None:
        self.store.close()

    def snapshot(self) -> dict[str, Any]:
        """Every live row of every application, as comparable values (no local-only state)."""
        out: dict[str, Any] = {}
        for app in self.store.applications():
            data = self.store.load(app.id)
            rows = [data.application, *data.singles.values(), *data.attachments]
            rows += [r for items in data.lists.values() for r in items]
            for row in rows:
                values = row.model_dump(mode="json", exclude={"updated_at"})
                out[f"{row.__tablename__}:{row.id}"] = values
        return out
