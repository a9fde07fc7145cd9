"""A workspace connected to a server: the transport, the file uploader and the engine,
made once the session token is known (after the login)."""

from __future__ import annotations

import logging
from pathlib import Path

from zctui.config import blobs_dir_for
from zctui.store.blobs import BlobStore
from zctui.store.repository import Store
from zctui.sync.engine import SyncEngine, SyncReport
from zctui.sync.session import Connect

log = logging.getLogger(__name__)


class ServerSync:
    """`Syncs` for one workspace file and one login."""

    def __init__(self, server_url: str, token: str, store_path: Path) -> None:
        from zctui.sync.blobs import BlobUploader
        from zctui.sync.transport import Transport

        self.store = Store(store_path)
        self.transport = Transport(server_url, token=token)
        uploader = BlobUploader(self.transport.http, BlobStore(blobs_dir_for(store_path)))
        self.engine = SyncEngine(self.store, self.transport, blobs=uploader)

    def sync(self) -> SyncReport:
        report = self.engine.sync()
        self._catalog(report.catalog)
        return report

    def _catalog(self, server_version: int | None) -> None:
        """The server owns the catalog: when its version differs, pull it (a failed pull
        keeps the catalog in use and is tried again at the next sync)."""
        from zctui.data.catalog import downloaded_catalog_dir, load_catalog
        from zctui.sync.catalog import CatalogPullError, pull_catalog

        have = load_catalog().version
        if server_version is None or server_version == have:
            return
        try:
            pull_catalog(self.transport.http, downloaded_catalog_dir(), have)
        except CatalogPullError as exc:
            log.warning("%s", exc)

    def close(self) -> None:
        self.transport.close()
        self.store.close()


def connector(server_url: str, store_path: Path) -> Connect:
    return lambda token: ServerSync(server_url, token, store_path)
