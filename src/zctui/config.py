"""Settings: the command line, then the environment (ZCTUI_*), then config files — the one
ZCTUI_CONFIG names, the user's (`~/.config/zctui/config.toml` on Linux), the host's
(`/etc/zctui/config.toml`, a unit's SSH host sets its server there) — then the defaults
(the workspace in the user's data directory)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import platformdirs
from pydantic import field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

SYSTEM_CONFIG = Path("/etc/zctui/config.toml")
BAD_FILE = (
    "配置文件 {path} 无法读取（{error}）：请按 TOML 格式改正，"
    '例如一行 server_url = "https://zc.example.cn"'
)


class ConfigError(ValueError):
    """A config file zctui cannot read; the message names it, in Chinese."""


class _ConfigFile(TomlConfigSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        try:
            super().__init__(settings_cls, toml_file=path)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(BAD_FILE.format(path=path, error=exc)) from None


def config_files() -> list[Path]:
    """Highest priority first; read when settings are made, so a test or a wrapper script
    may point ZCTUI_CONFIG or XDG_CONFIG_HOME elsewhere."""
    files = [platformdirs.user_config_path("zctui", appauthor=False) / "config.toml"]
    if named := os.environ.get("ZCTUI_CONFIG"):
        files.insert(0, Path(named).expanduser())
    if os.environ.get("ZCTUI_SYSTEM_CONFIG", "1") != "0":  # tests turn the host's file off
        files.append(SYSTEM_CONFIG)
    return files


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZCTUI_", extra="ignore")

    data_dir: Path = platformdirs.user_data_path("zctui", appauthor=False)
    db: Path | None = None  # the local store; default: <data_dir>/workspace.sqlite3
    server_url: str | None = None
    # The Chinese font the PDFs embed (ZCTUI_CJK_FONT); default: found on the system.
    cjk_font: Path | None = None
    cjk_font_index: int | None = None  # the face in a .ttc collection (ZCTUI_CJK_FONT_INDEX)

    @field_validator("data_dir", "db", mode="after")
    @classmethod
    def _home(cls, value: Path | None) -> Path | None:
        # `data_dir = "~/zctui"` in the host's file means each user's own home.
        return value.expanduser() if value is not None else None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        files = [_ConfigFile(settings_cls, f) for f in config_files()]
        return (init_settings, env_settings, *files)

    @property
    def store_path(self) -> Path:
        return self.db or self.data_dir / "workspace.sqlite3"


def blobs_dir_for(store_path: Path) -> Path:
    """Attachments live beside their workspace file, so a workspace moves as one folder."""
    return store_path.parent / "blobs"
