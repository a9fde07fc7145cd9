"""Shared pieces of the catalog schema: labelled codes with pinyin initials, load errors."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, computed_field

DATA_DIR = Path(__file__).parent
# libyaml's safe loader when PyYAML was built with it: several times faster at start-up.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
T = TypeVar("T", bound=BaseModel)


class CatalogError(ValueError):
    """A data file is wrong; the message names the file and the key."""


@lru_cache(maxsize=4096)
def pinyin_initials(text: str) -> str:
    """`中医外科` → `zywk`; ASCII letters and digits are kept, lower-cased; the rest dropped."""
    # Imported here: pypinyin's dictionaries take ~160 ms and ~190k objects to load, and
    # most runs (the CLI, the server, start-up) never filter by pinyin.
    from pypinyin import Style, lazy_pinyin

    out: list[str] = []
    for part in lazy_pinyin(text, style=Style.FIRST_LETTER, errors="default"):
        out.extend(ch.lower() for ch in part if ch.isascii() and ch.isalnum())
    return "".join(out)


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Searchable(Frozen):
    """Anything with a Chinese label that a person finds by typing (pinyin initials too)."""

    label: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def initials(self) -> str:
        return pinyin_initials(self.label)


class Labelled(Searchable):
    """A stored code and the Chinese label shown for it."""

    code: str

    def matches(self, query: str) -> bool:
        """Type-to-filter: by characters of the label or by pinyin initials."""
        q = query.strip().lower()
        return not q or q in self.label.lower() or self.initials.startswith(q) or q in self.code


def read_yaml(name: str, directory: Path = DATA_DIR) -> Any:
    path = directory / name
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_LOADER)
    except FileNotFoundError as exc:
        raise CatalogError(f"{path.name}: 文件不存在") from exc
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path.name}: YAML 格式错误：{exc}") from exc


def validate_file(model: type[T], name: str, directory: Path = DATA_DIR) -> T:
    """Validate one data file; a failure names the file and the key path."""
    raw = read_yaml(name, directory)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
        key = key.lstrip(".") or "(root)"
        raise CatalogError(f"{name}: {key}: {first['msg']}") from exc
