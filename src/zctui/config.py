"""Settings from the environment (ZCTUI_*) and the platform's data directory."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZCTUI_", extra="ignore")

    data_dir: Path = platformdirs.user_data_path("zctui", appauthor=False)
    db: Path | None = None  # the local store; default: <data_dir>/workspace.sqlite3
    server_url: str | None = None
    # The Chinese font the PDFs embed (ZCTUI_CJK_FONT); default: found on the system.
    cjk_font: Path | None = None
    cjk_font_index: int | None = None  # the face in a .ttc collection (ZCTUI_CJK_FONT_INDEX)

    @property
    def store_path(self) -> Path:
        return self.db or self.data_dir / "workspace.sqlite3"


def blobs_dir_for(store_path: Path) -> Path:
    """Attachments live beside their workspace file, so a workspace moves as one folder."""
    return store_path.parent / "blobs"
