"""The catalog: categories, series, specialties, titles, 申报方式, 评审方式, value lists.

Loaded from `series.yaml`, `methods.yaml` and `values.yaml` beside this module, validated
on load (structure by pydantic, then cross-checks here); any error is a `CatalogError`
naming the file and the key, e.g.
`series.yaml: series[12].titles[2].code: 编码 0823 的末位必须是等级 3`.

Codes follow GB/T 8561: a series code ends in 0, a title code ends in its level
(1 正高, 2 副高, 3 中级, 4 助理级, 5 员级). See the YAML files' headers for the codes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import PrivateAttr

from zctui.data.base import DATA_DIR, CatalogError, Frozen, Labelled, validate_file

__all__ = [
    "LEVELS",
    "SERIES_TAGS",
    "Catalog",
    "Category",
    "Evaluation",
    "Method",
    "ReviewMode",
    "SelfReviewUnit",
    "Series",
    "Specialty",
    "Title",
    "ValueList",
    "common_passwords",
    "downloaded_catalog_dir",
    "is_common_password",
    "load_catalog",
    "pin_catalog",
    "reload_catalog",
]

Evaluation = Literal["review", "exam", "exam_review"]  # 评审 / 以考代评 / 考评结合

SERIES_FILE = "series.yaml"
METHODS_FILE = "methods.yaml"
VALUES_FILE = "values.yaml"
PASSWORDS_FILE = "common_passwords.txt"

#: The tags a series may carry; anything else is refused on load.
SERIES_TAGS = frozenset({"k12", "health", "directed", "higher_ed", "engineering"})
#: Title levels: 1 正高, 2 副高, 3 中级, 4 助理级, 5 员级.
LEVELS = (1, 2, 3, 4, 5)
#: 评审方式 codes the application logic relies on (R2.5).
REVIEW_MODE_CODES = frozenset({"review", "self_review"})


class Category(Labelled):
    """申报类别 (R2.2): 教学类, 卫生类 …"""


class Specialty(Labelled):
    """申报专业 inside a series; code unique within the series."""


class Title(Labelled):
    """申报职称: code is the GB/T 8561 code, 3 characters, last digit == level."""

    level: int
    evaluation: Evaluation = "review"


class Series(Labelled):
    """申报系列; code unique in the catalog ("230", or "080.dz" for a sub-series)."""

    gb: str  # GB/T 8561 series code ending in 0; "" for a provincial series
    category: str
    tags: frozenset[str] = frozenset()
    specialties: tuple[Specialty, ...]
    titles: tuple[Title, ...]

    def title(self, code: str) -> Title | None:
        return next((t for t in self.titles if t.code == code), None)

    def title_at(self, level: int) -> Title | None:
        return next((t for t in self.titles if t.level == level), None)

    def specialty(self, code: str) -> Specialty | None:
        return next((s for s in self.specialties if s.code == code), None)


class Method(Labelled):
    """申报方式 (R2.4)."""

    definition: str = ""  # the guide's own words, or "" where the guide gives none
    exempts_title_certificate: bool = False  # R7.6


class ReviewMode(Labelled):
    """评审方式 (R2.5): "review" 评审 or "self_review" 自主评审."""

    help: str


class SelfReviewUnit(Frozen):
    """A unit allowed to choose 自主评审 for its main series at the given levels (R2.5)."""

    name: str
    series: tuple[str, ...]
    levels: tuple[int, ...]


class ValueList(Frozen):
    """A fixed list of options (民族, 政治面貌 …); codes are stored, labels shown."""

    code: str
    label: str
    items: tuple[Labelled, ...]

    def get(self, code: str) -> Labelled | None:
        return next((i for i in self.items if i.code == code), None)

    def label_of(self, code: str) -> str:
        item = self.get(code)
        return item.label if item is not None else code


class Catalog(Frozen):
    version: int
    categories: tuple[Category, ...]
    levels: tuple[Labelled, ...]
    series: tuple[Series, ...]
    methods: tuple[Method, ...]
    review_modes: tuple[ReviewMode, ...]
    self_review: dict[str, tuple[SelfReviewUnit, ...]]
    self_review_rule: str
    value_lists: dict[str, ValueList]

    _series_index: dict[str, Series] = PrivateAttr(default_factory=dict)

    def model_post_init(self, _context: object) -> None:
        self._series_index = {s.code: s for s in self.series}

    def category(self, code: str) -> Category | None:
        return next((c for c in self.categories if c.code == code), None)

    def series_by_code(self, code: str) -> Series | None:
        return self._series_index.get(code)

    def series_in(self, category_code: str) -> tuple[Series, ...]:
        return tuple(s for s in self.series if s.category == category_code)

    def method(self, code: str) -> Method | None:
        return next((m for m in self.methods if m.code == code), None)

    def review_mode(self, code: str) -> ReviewMode | None:
        return next((m for m in self.review_modes if m.code == code), None)

    def values(self, list_code: str) -> ValueList:
        try:
            return self.value_lists[list_code]
        except KeyError:
            known = "、".join(self.value_lists)
            raise CatalogError(f"未知的取值列表 {list_code!r}；已有：{known}") from None

    def may_self_review(self, city: str, unit: str, series_code: str, level: int) -> bool:
        """R2.5: only the listed units, for their main series and levels, may pick 自主评审."""
        name = unit.strip()
        for u in self.self_review.get(city.strip(), ()):
            if u.name == name:
                return series_code in u.series and level in u.levels
        return False


# ---------------------------------------------------------------------------- loading


class _SeriesFile(Frozen):
    version: int
    categories: tuple[Category, ...]
    levels: tuple[Labelled, ...]
    series: tuple[Series, ...]


class _MethodsFile(Frozen):
    methods: tuple[Method, ...]
    review_modes: tuple[ReviewMode, ...]
    self_review: dict[str, tuple[SelfReviewUnit, ...]]
    self_review_rule: str


class _ValuesFile(Frozen):
    value_lists: tuple[ValueList, ...]


def _fail(file: str, key: str, message: str) -> CatalogError:
    return CatalogError(f"{file}: {key}: {message}")


def _unique(file: str, key: str, codes: Iterable[str], what: str = "编码") -> None:
    seen: set[str] = set()
    for i, code in enumerate(codes):
        if code in seen:
            raise _fail(file, f"{key}[{i}].code", f"重复的{what} {code}")
        seen.add(code)


def _not_blank(file: str, key: str, value: str) -> None:
    if not value.strip():
        raise _fail(file, key, "不能为空")


def _check_series_file(data: _SeriesFile) -> None:
    f = SERIES_FILE
    if data.version < 1:
        raise _fail(f, "version", f"版本号必须是正整数，而不是 {data.version}")
    _unique(f, "categories", (c.code for c in data.categories))
    for i, c in enumerate(data.categories):
        _not_blank(f, f"categories[{i}].code", c.code)
        _not_blank(f, f"categories[{i}].label", c.label)
    expected = [str(n) for n in LEVELS]
    if [lv.code for lv in data.levels] != expected:
        raise _fail(f, "levels", f"等级编码必须依次为 {'、'.join(expected)}")
    categories = {c.code for c in data.categories}
    _unique(f, "series", (s.code for s in data.series))
    for i, s in enumerate(data.series):
        key = f"series[{i}]"
        where = f"（系列 {s.code} {s.label}）"
        _not_blank(f, f"{key}.code", s.code)
        _not_blank(f, f"{key}.label", s.label)
        if s.category not in categories:
            raise _fail(f, f"{key}.category", f"未知的类别 {s.category!r}{where}")
        if s.gb and not (len(s.gb) == 3 and s.gb.isdigit() and s.gb.endswith("0")):
            raise _fail(f, f"{key}.gb", f"国标系列码 {s.gb} 必须是以 0 结尾的三位数字{where}")
        unknown = sorted(s.tags - SERIES_TAGS)
        if unknown:
            known = "、".join(sorted(SERIES_TAGS))
            raise _fail(f, f"{key}.tags", f"未知的标签 {'、'.join(unknown)}，可用：{known}{where}")
        if not s.titles:
            raise _fail(f, f"{key}.titles", f"至少要有一个职称{where}")
        if not s.specialties:
            raise _fail(f, f"{key}.specialties", f"至少要有一个专业{where}")
        _unique(f, f"{key}.specialties", (sp.code for sp in s.specialties))
        for j, sp in enumerate(s.specialties):
            _not_blank(f, f"{key}.specialties[{j}].code", sp.code)
            _not_blank(f, f"{key}.specialties[{j}].label", sp.label)
        codes_seen: set[str] = set()
        levels_seen: set[int] = set()
        for j, t in enumerate(s.titles):
            tkey = f"{key}.titles[{j}]"
            _check_title(t, tkey, s.gb, where)
            if t.code in codes_seen:
                raise _fail(f, f"{tkey}.code", f"重复的编码 {t.code}{where}")
            if t.level in levels_seen:
                raise _fail(f, f"{tkey}.level", f"同一系列中等级 {t.level} 重复{where}")
            codes_seen.add(t.code)
            levels_seen.add(t.level)


def _check_title(t: Title, key: str, gb: str, where: str) -> None:
    f = SERIES_FILE
    _not_blank(f, f"{key}.label", t.label)
    if t.level not in LEVELS:
        raise _fail(f, f"{key}.level", f"等级必须是 1–5，而不是 {t.level}{where}")
    if len(t.code) != 3 or not t.code.isdigit():
        raise _fail(f, f"{key}.code", f"编码 {t.code} 必须是三位数字{where}")
    if t.code[-1] != str(t.level):
        raise _fail(f, f"{key}.code", f"编码 {t.code} 的末位必须是等级 {t.level}{where}")
    if gb and t.code[:2] != gb[:2]:
        raise _fail(
            f, f"{key}.code", f"编码 {t.code} 必须以国标系列码的前两位 {gb[:2]} 开头{where}"
        )


def _check_methods_file(data: _MethodsFile, series_codes: set[str]) -> None:
    f = METHODS_FILE
    _unique(f, "methods", (m.code for m in data.methods))
    for i, m in enumerate(data.methods):
        _not_blank(f, f"methods[{i}].code", m.code)
        _not_blank(f, f"methods[{i}].label", m.label)
    _unique(f, "review_modes", (m.code for m in data.review_modes))
    missing = sorted(REVIEW_MODE_CODES - {m.code for m in data.review_modes})
    if missing:
        raise _fail(f, "review_modes", f"缺少评审方式 {'、'.join(missing)}")
    for city, units in data.self_review.items():
        _unique(f, f"self_review.{city}", (u.name for u in units), what="单位名称")
        for i, u in enumerate(units):
            key = f"self_review.{city}[{i}]"
            _not_blank(f, f"{key}.name", u.name)
            if not u.series:
                raise _fail(f, f"{key}.series", f"至少要有一个系列（{u.name}）")
            for j, code in enumerate(u.series):
                if code not in series_codes:
                    raise _fail(f, f"{key}.series[{j}]", f"未知的系列 {code!r}（{u.name}）")
            if not u.levels:
                raise _fail(f, f"{key}.levels", f"至少要有一个等级（{u.name}）")
            for j, level in enumerate(u.levels):
                if level not in LEVELS:
                    raise _fail(
                        f, f"{key}.levels[{j}]", f"等级必须是 1–5，而不是 {level}（{u.name}）"
                    )
    _not_blank(f, "self_review_rule", data.self_review_rule)


def _check_values_file(data: _ValuesFile) -> None:
    f = VALUES_FILE
    _unique(f, "value_lists", (v.code for v in data.value_lists))
    for i, vl in enumerate(data.value_lists):
        key = f"value_lists[{i}]"
        _not_blank(f, f"{key}.code", vl.code)
        if not vl.items:
            raise _fail(f, f"{key}.items", f"取值列表 {vl.code} 不能为空")
        _unique(f, f"{key}.items", (it.code for it in vl.items))
        for j, it in enumerate(vl.items):
            _not_blank(f, f"{key}.items[{j}].code", it.code)
            _not_blank(f, f"{key}.items[{j}].label", it.label)


def _load(directory: Path) -> Catalog:
    series_file = validate_file(_SeriesFile, SERIES_FILE, directory)
    _check_series_file(series_file)
    methods_file = validate_file(_MethodsFile, METHODS_FILE, directory)
    _check_methods_file(methods_file, {s.code for s in series_file.series})
    values_file = validate_file(_ValuesFile, VALUES_FILE, directory)
    _check_values_file(values_file)
    return Catalog(
        version=series_file.version,
        categories=series_file.categories,
        levels=series_file.levels,
        series=series_file.series,
        methods=methods_file.methods,
        review_modes=methods_file.review_modes,
        self_review=dict(methods_file.self_review),
        self_review_rule=methods_file.self_review_rule,
        value_lists={v.code: v for v in values_file.value_lists},
    )


# ------------------------------------------------------------- which catalog (issue 6)
#: The files a catalog is made of: what the server serves and a client installs.
CATALOG_FILES = (SERIES_FILE, METHODS_FILE, VALUES_FILE)
DOWNLOADED_DIR = "catalog"  # under the user data dir (zctui.config.Settings.data_dir)

log = logging.getLogger("zctui.catalog")
_pinned: Path | None = None


def downloaded_catalog_dir() -> Path:
    """Where a catalog pulled from the server is installed: `<data dir>/catalog`."""
    from zctui.config import Settings  # ZCTUI_DATA_DIR; read when asked, not at import

    return Settings().data_dir / DOWNLOADED_DIR


def pin_catalog(directory: Path | None) -> Catalog | None:
    """Make `load_catalog()` read only `directory` in this process (the server: the catalog
    it serves is the one it judges by), or undo that with None. A broken catalog raises
    CatalogError and changes nothing."""
    global _pinned
    catalog = _load(Path(directory)) if directory is not None else None
    _pinned = Path(directory) if directory is not None else None
    reload_catalog()
    return catalog


def reload_catalog() -> None:
    """Forget the cached catalog: the next `load_catalog()` looks again (after a pull).
    What was built from the old one (an open form, a session) keeps the old one."""
    _default_catalog.cache_clear()


@cache
def _default_catalog() -> Catalog:
    if _pinned is not None:
        return _load(_pinned)
    bundled = _load(DATA_DIR)
    return _newer_download(bundled) or bundled


def _newer_download(bundled: Catalog) -> Catalog | None:
    where = downloaded_catalog_dir()
    if not where.is_dir():
        return None
    try:
        downloaded = _load(where)
    except CatalogError as exc:
        log.warning(
            "下载的职称目录（%s）有错误，改用程序自带的目录（版本 %d）：%s",
            where, bundled.version, exc,
        )  # fmt: skip
        return None
    if downloaded.version <= bundled.version:
        log.info(
            "下载的职称目录版本 %d 不比程序自带的版本 %d 新，使用程序自带的目录",
            downloaded.version, bundled.version,
        )  # fmt: skip
        return None
    log.info(
        "使用从服务器下载的职称目录：版本 %d（程序自带 %d）", downloaded.version, bundled.version
    )
    return downloaded


def load_catalog(directory: Path | None = None) -> Catalog:
    """The catalog. Without `directory`: a catalog downloaded from the server when it is
    newer than the packaged one and valid, else the packaged one (a log line says why);
    loaded once and cached until `reload_catalog()`."""
    if directory is None:
        return _default_catalog()
    return _load(Path(directory))


# ------------------------------------------------------------------ weak passwords (R1.2)


@cache
def common_passwords() -> frozenset[str]:
    """Common weak passwords from `common_passwords.txt` (one a line; `#` starts a comment)."""
    path = DATA_DIR / PASSWORDS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CatalogError(f"{PASSWORDS_FILE}: 文件不存在") from exc
    lines = (line.strip() for line in text.splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


@cache
def _common_folded() -> frozenset[str]:
    return frozenset(p.casefold() for p in common_passwords())


def is_common_password(password: str) -> bool:
    """R1.2: True when the password is on the weak list (compared case-insensitively)."""
    return password.casefold() in _common_folded()


if TYPE_CHECKING:
    COMMON_PASSWORDS: frozenset[str]
else:

    def __getattr__(name: str) -> frozenset[str]:
        # `COMMON_PASSWORDS` is read lazily, on first use.
        if name == "COMMON_PASSWORDS":
            return common_passwords()
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
