"""Certificate numbers (证书编号): generated from a configurable format with a sequence per
year, or given by the office; unique either way.

The sequence lives in its own row per year (`certificate_sequence`), incremented by an
upsert inside the issuing transaction: on PostgreSQL a second issuer waits on that row until
the first commits and then reads the new value, so two issues at once get different numbers
(SQLite has one writer at a time). The unique constraint on `certificate.number` is the
backstop; a number the office typed by hand that the format would also produce is skipped.
"""

from __future__ import annotations

import string

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlmodel import col

from zctui.server.models import Certificate, CertificateSequence

DEFAULT_FORMAT = "冀职{year}{seq:06d}"
FIELDS = frozenset({"year", "seq"})
MAX_LENGTH = 40  # what the lookup accepts (CertificateQuery.number)
# The key of the one sequence for a format without {year}: numbers never restart then.
NO_YEAR = 0


class FormatError(ValueError):
    pass


def check_format(fmt: str) -> str:
    """`fmt` if it makes good numbers; FormatError saying what is wrong and what is expected."""
    expected = f"应含 {{seq}}（序号），可含 {{year}}（年度），例如 {DEFAULT_FORMAT}"
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(fmt) if name is not None}
    except ValueError as exc:
        raise FormatError(f"证书编号格式「{fmt}」写法有误（{exc}）：{expected}") from None
    unknown = sorted(names - FIELDS)
    if unknown:
        shown = "、".join(f"{{{n}}}" for n in unknown)
        raise FormatError(f"证书编号格式「{fmt}」中有不认识的项 {shown}：{expected}")
    if "seq" not in names:
        raise FormatError(f"证书编号格式「{fmt}」没有序号 {{seq}}，编号会重复：{expected}")
    try:
        sample = fmt.format(year=2026, seq=999999)
    except (ValueError, TypeError, IndexError, KeyError, AttributeError) as exc:
        raise FormatError(f"证书编号格式「{fmt}」无法生成编号（{exc}）：{expected}") from None
    if not sample.strip() or len(sample) > MAX_LENGTH:
        raise FormatError(
            f"证书编号格式「{fmt}」生成的编号（如 {sample}）"
            f"应为 1 到 {MAX_LENGTH} 个字符：{expected}"
        )
    return fmt


def _next_seq(db: Session, key: int) -> int:
    dialect = db.get_bind().dialect.name
    ins = (postgresql if dialect == "postgresql" else sqlite).insert(CertificateSequence)
    stmt = ins.values(year=key, n=1).on_conflict_do_update(
        index_elements=["year"], set_={"n": col(CertificateSequence.n) + 1}
    )
    return int(db.execute(stmt.returning(col(CertificateSequence.n))).scalar_one())


def next_number(db: Session, fmt: str, year: int) -> str:
    """The next free number of `year` in `fmt`, taken in the caller's transaction."""
    key = year if "year" in fmt else NO_YEAR
    while True:
        number = fmt.format(year=year, seq=_next_seq(db, key))
        taken = db.scalars(select(col(Certificate.id)).where(col(Certificate.number) == number))
        if taken.first() is None:
            return number
