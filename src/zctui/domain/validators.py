"""Pure validators for the fields of the application (R1.2, R3.1, R7.1, R10.1, R10.2, R12.3).

Every ``check_*`` function returns ``None`` when the value is acceptable, otherwise one
polite Chinese message that says what was found and what is expected. Unless stated
otherwise an empty (or whitespace-only) value is acceptable: whether a field is
required is decided elsewhere. None of these functions raises for any ``str`` input.

Input is normalised before it is judged: NFKC (so full-width digits and letters count
as their ASCII forms) and, for codes and numbers, without spaces.
"""

from __future__ import annotations

import contextlib
import re
import string
import unicodedata
from datetime import date
from typing import NamedTuple
from urllib.parse import urlsplit

from stdnum import isbn as _stdnum_isbn
from stdnum.cn import ric as _stdnum_ric
from stdnum.cn import uscc as _stdnum_uscc

__all__ = [
    "DEFAULT_PASSWORD",
    "PASSWORD_RULE",
    "IdFacts",
    "check_chsi_code",
    "check_cn_number",
    "check_date",
    "check_date_order",
    "check_id_number",
    "check_isbn",
    "check_issn",
    "check_journal_numbers",
    "check_landline",
    "check_length",
    "check_max_lines",
    "check_mobile",
    "check_password",
    "check_phone",
    "check_retrieval_url",
    "check_thousand_words",
    "check_url",
    "check_uscc",
    "check_year",
    "check_year_month",
    "count_lines",
    "id_clean",
    "id_number_facts",
    "parse_date",
    "parse_journal_numbers",
    "parse_year_month",
]


# --------------------------------------------------------------------------- helpers


def _nfkc(value: object) -> str:
    """The value as text, NFKC-normalised and stripped; never raises."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    with contextlib.suppress(Exception):  # defensive: odd str subclasses
        text = unicodedata.normalize("NFKC", text)
    return text.strip()


def _compact(value: object) -> str:
    """NFKC-normalised, with every kind of whitespace removed."""
    return re.sub(r"\s+", "", _nfkc(value))


def _shown(text: str, limit: int = 24) -> str:
    """A value as quoted back in a message, clipped to a readable length."""
    text = text.replace("\r", " ").replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _is_blank(value: object) -> bool:
    return not _nfkc(value)


# --------------------------------------------------------------------------- ID number


PROVINCE_CODES: frozenset[str] = frozenset(
    [str(n) for n in range(11, 16)]
    + [str(n) for n in range(21, 24)]
    + [str(n) for n in range(31, 38)]
    + [str(n) for n in range(41, 47)]
    + [str(n) for n in range(50, 55)]
    + [str(n) for n in range(61, 66)]
    + ["71", "81", "82", "83"]
)

_ID_RE = re.compile(r"[0-9]{17}[0-9X]")
_GENDER_NAMES = {"1": "男", "2": "女"}


class IdFacts(NamedTuple):
    """What an 18-digit ID number says about its holder."""

    birth_date: date
    gender: str  # "1" 男 / "2" 女 (GB/T 2261.1)


def _id_check_digit(first17: str) -> str:
    """GB 11643 check digit, from python-stdnum (which wants a placeholder last digit)."""
    try:
        return str(_stdnum_ric.calc_check_digit(first17 + "0"))
    except Exception:  # stdnum raises for odd input; callers pass 17 digits
        return "?"


def id_clean(value: object) -> str:
    """An ID number as stored and compared: NFKC (full-width → ASCII), no spaces, X upper."""
    return _compact(value).upper()


def _id_birth(number: str) -> date | None:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def _gender_code(gender: str | None) -> str | None:
    g = _nfkc(gender)
    if g in ("1", "男"):
        return "1"
    if g in ("2", "女"):
        return "2"
    return None


def id_number_facts(value: str) -> IdFacts | None:
    """Birth date and gender of a valid 18-digit ID number (checksum and date), else None."""
    number = id_clean(value)
    if not _ID_RE.fullmatch(number):
        return None
    if _id_check_digit(number[:17]) != number[17]:
        return None
    birth = _id_birth(number)
    if birth is None or birth.year < 1900 or birth > date.today():
        return None
    return IdFacts(birth, "1" if int(number[16]) % 2 == 1 else "2")


def check_id_number(
    value: str,
    *,
    gender: str | None = None,
    birth_date: date | None = None,
    today: date | None = None,
) -> str | None:
    """R3.1 证件号码 (居民身份证): 18 characters, GB 11643 check digit, real birth date,
    province code; agrees with ``gender`` ("1"/"2", or 男/女) and ``birth_date`` when given."""
    number = id_clean(value)
    if not number:
        return None
    today = today or date.today()
    if re.fullmatch(r"[0-9]{15}", number):
        return (
            "这是 15 位的旧身份证号码，请填写 18 位居民身份证号码"
            "（以身份证原件或户口簿上的号码为准）"
        )
    if len(number) != 18:
        return (
            f"身份证号码应为 18 位（17 位数字加最后一位数字或 X），当前为 {len(number)} 位，请核对"
        )
    if not _ID_RE.fullmatch(number):
        bad = next(
            (c for i, c in enumerate(number) if not (c.isascii() and c.isdigit()) and i < 17),
            number[17],
        )
        return f"身份证号码前 17 位应为数字，最后一位为数字或 X，发现字符「{_shown(bad)}」，请核对"
    if number[:2] not in PROVINCE_CODES:
        return (
            f"身份证号码前两位「{number[:2]}」不是有效的省级行政区划代码（如河北为 13），请核对号码"
        )
    birth = _id_birth(number)
    if birth is None:
        return (
            f"身份证号码第 7–14 位应为出生日期（年月日），"
            f"「{number[6:14]}」不是有效日期，请核对号码"
        )
    if birth.year < 1900:
        return f"身份证号码中的出生日期 {birth.isoformat()} 早于 1900 年，请核对号码"
    if birth > today:
        return f"身份证号码中的出生日期 {birth.isoformat()} 晚于今天，请核对号码"
    expected = _id_check_digit(number[:17])
    if number[17] != expected:
        return (
            f"身份证号校验位错误：按 GB 11643 计算最后一位应为 {expected}，"
            f"当前为 {number[17]}，请核对号码"
        )
    implied_gender = "1" if int(number[16]) % 2 == 1 else "2"
    wanted = _gender_code(gender)
    if wanted is not None and wanted != implied_gender:
        parity = "奇数" if implied_gender == "1" else "偶数"
        return (
            f"身份证号码第 17 位为{parity}，表示性别为{_GENDER_NAMES[implied_gender]}，"
            f"与所填性别「{_GENDER_NAMES[wanted]}」不一致，请核对"
        )
    if birth_date is not None and birth_date != birth:
        return (
            f"身份证号码中的出生日期为 {birth.isoformat()}，"
            f"与所填出生日期 {birth_date.isoformat()} 不一致，请核对"
        )
    return None


# --------------------------------------------------------------------------- phones


_MOBILE_EXAMPLE = "例如 13812345678"


def _mobile_digits(value: str) -> str:
    """The mobile number without spaces, dashes, brackets and +86/0086/86 country code."""
    s = re.sub(r"[\s\-()]", "", _nfkc(value))
    if s.startswith("+86"):
        s = s[3:]
    elif s.startswith("0086"):
        s = s[4:]
    elif s.startswith("86") and len(s) == 13:
        s = s[2:]
    return s


def check_mobile(value: str) -> str | None:
    """R3.1 手机号码: mainland mobile, 11 digits ``1[3-9]…``.

    A +86/0086/86 prefix, spaces, dashes and brackets are tolerated."""
    if _is_blank(value):
        return None
    s = _mobile_digits(value)
    if not re.fullmatch(r"[0-9]+", s):
        bad = next((c for c in s if not ("0" <= c <= "9")), s[:1])
        return (
            f"手机号码只能包含数字，发现「{_shown(bad)}」；"
            f"应为 11 位数字，以 1 开头，{_MOBILE_EXAMPLE}"
        )
    if len(s) != 11:
        return f"手机号码应为 11 位数字，以 1 开头，{_MOBILE_EXAMPLE}（当前为 {len(s)} 位）"
    if s[0] != "1":
        return f"手机号码应以 1 开头，当前以 {s[0]} 开头；应为 11 位数字，{_MOBILE_EXAMPLE}"
    if s[1] not in "3456789":
        return f"手机号码第 2 位应为 3–9，当前为「{s[:2]}」开头，请核对；{_MOBILE_EXAMPLE}"
    return None


_LANDLINE_RE = re.compile(
    r"(?:(?P<area>010|02[0-9]|0[3-9][0-9]{2})-?)?"
    r"(?P<local>[1-9][0-9]{6,7})"
    r"(?:(?:-|转|分机|EXT\.?|X|#)(?P<ext>[0-9]{1,6}))?"
)
_SERVICE_RE = re.compile(r"[48]00-?[0-9]{3}-?[0-9]{4}")
_LANDLINE_HINT = (
    "应为“区号-号码”，如 0317-2123456、03172123456 或 010-12345678，可加分机号如 0317-2123456-801"
)


def _landline_clean(value: str) -> str:
    s = re.sub(r"\s+", "", _nfkc(value)).upper()
    # (0317)2123456 → 0317-2123456
    m = re.fullmatch(r"\((0[0-9]{2,3})\)-?(.*)", s)
    if m:
        s = f"{m.group(1)}-{m.group(2)}"
    return s


def check_landline(value: str) -> str | None:
    """R3.1/R4.1 固定电话: area code + 7–8 digit number, optional extension."""
    if _is_blank(value):
        return None
    s = _landline_clean(value)
    if _SERVICE_RE.fullmatch(s):
        return None
    m = _LANDLINE_RE.fullmatch(s)
    if m and (m.group("area") or m.group("local")[0] != "1"):
        return None
    if check_mobile(value) is None:
        return f"「{_shown(_compact(value))}」是手机号码，此处请填写固定电话；{_LANDLINE_HINT}"
    if m and not m.group("area"):
        return f"固定电话号码不能以 1 开头，当前为「{_shown(s)}」；{_LANDLINE_HINT}"
    if re.fullmatch(r"[0-9]{5,8}", s):
        return f"固定电话号码「{_shown(s)}」位数不对，请加上区号；{_LANDLINE_HINT}"
    return f"固定电话格式不正确，当前为「{_shown(_compact(value))}」；{_LANDLINE_HINT}"


def check_phone(value: str) -> str | None:
    """A mobile number or a landline number."""
    if _is_blank(value):
        return None
    if check_mobile(value) is None or check_landline(value) is None:
        return None
    s = _landline_clean(value)
    if s.startswith(("+", "1")):
        msg = check_mobile(value)
    elif s.startswith(("0", "(")):
        msg = check_landline(value)
    else:
        msg = None
    if msg:
        return msg
    return (
        f"电话号码格式不正确，当前为「{_shown(s)}」；请填写手机号码（11 位，{_MOBILE_EXAMPLE}）"
        "或固定电话（如 0317-2123456）"
    )


# --------------------------------------------------------------------------- ISSN / CN


def _issn_check_digit(first7: str) -> str:
    total = sum(int(c) * w for c, w in zip(first7, range(8, 1, -1), strict=True))
    r = (11 - total % 11) % 11
    return "X" if r == 10 else str(r)


_DASH = r" ?- ?"
_ISSN_IN_TEXT = re.compile(r"(?<![0-9])([0-9]{4})" + _DASH + r"([0-9]{3}[0-9X])(?![0-9])")
_ISSN_LABELLED = re.compile(r"ISSN[ :：-]*([0-9]{4})(?: ?- ?| )?([0-9]{3}[0-9X])(?![0-9])")
_CN_IN_TEXT = re.compile(
    r"CN[ :：-]*([0-9]{2})" + _DASH + r"([0-9]{4}) ?/ ?([A-Z][A-Z0-9]*?)(?=ISSN|[^A-Z0-9]|$)"
)


def _journal_text(value: str) -> str:
    """Upper-case NFKC text, runs of whitespace as one space, dash look-alikes as '-'."""
    s = re.sub(r"\s+", " ", _nfkc(value)).upper()
    return re.sub(r"[‐‑‒–—―−﹣]", "-", s)


def parse_journal_numbers(value: str) -> tuple[str | None, str | None]:
    """(ISSN as "1234-567X", CN as "CN11-2000/R") found in a 刊号 text; None for each not found.

    The ISSN is taken after an "ISSN" label (hyphen optional), else the first
    ``NNNN-NNNC``; the CN number must follow "CN". Check digits are not verified here.
    """
    s = _journal_text(value)
    issn: str | None = None
    m = _ISSN_LABELLED.search(s) or _ISSN_IN_TEXT.search(s)
    if m:
        issn = f"{m.group(1)}-{m.group(2)}"
    cn: str | None = None
    c = _CN_IN_TEXT.search(s)
    if c:
        cn = f"CN{c.group(1)}-{c.group(2)}/{c.group(3)}"
    return issn, cn


def check_issn(value: str) -> str | None:
    """ISSN ``NNNN-NNNC``: mod-11 check digit with weights 8..2, 10 written X."""
    s = _journal_text(value).replace(" ", "")
    if not s:
        return None
    s = re.sub(r"^ISSN[:：]?", "", s)
    m = re.fullmatch(r"([0-9]{4})-?([0-9]{3}[0-9X])", s)
    if not m:
        return (
            f"ISSN 应为 8 位，格式 NNNN-NNNC（最后一位可为 X），例如 0317-8471；"
            f"当前为「{_shown(s)}」"
        )
    digits = m.group(1) + m.group(2)
    expected = _issn_check_digit(digits[:7])
    if digits[7] != expected:
        return (
            f"ISSN 校验位错误：按前 7 位计算最后一位应为 {expected}"
            f"（即 {digits[:4]}-{digits[4:7]}{expected}），当前为 {digits[7]}，请核对刊号"
        )
    return None


def check_cn_number(value: str) -> str | None:
    """国内统一刊号 ``CN11-2000/R``: CN + 2-digit region + 4 digits + / + classification."""
    s = _journal_text(value).replace(" ", "")
    if not s:
        return None
    if re.fullmatch(r"CN[:：]?[0-9]{2}-[0-9]{4}/[A-Z][A-Z0-9]*", s):
        return None
    if not s.startswith("CN"):
        return f"国内统一刊号应以 CN 开头，例如 CN11-2000/R；当前为「{_shown(s)}」"
    return (
        f"国内统一刊号格式应为 CN + 2 位地区号 - 4 位序号 / 分类号，例如 CN11-2000/R；"
        f"当前为「{_shown(s)}」"
    )


_JOURNAL_EXAMPLE = "例如 ISSN 1002-0098 CN11-2000/R"


def check_journal_numbers(value: str) -> str | None:
    """R10.1 刊号: both a valid ISSN and a CN number, in any order and with any separators."""
    if _is_blank(value):
        return None
    issn, cn = parse_journal_numbers(value)
    if issn is None and cn is None:
        return f"刊号应同时写明 ISSN 号和 CN 号，{_JOURNAL_EXAMPLE}；未能识别出其中任何一个"
    if issn is None:
        return (
            f"刊号中未找到 ISSN 号（格式 NNNN-NNNC）：应同时写明 ISSN 和 CN 号，{_JOURNAL_EXAMPLE}"
        )
    if cn is None:
        return (
            "刊号中未找到 CN 号（国内统一刊号，格式 CN11-2000/R）：应同时写明 ISSN 和 CN 号，"
            f"{_JOURNAL_EXAMPLE}"
        )
    return check_issn(issn)


# --------------------------------------------------------------------------- ISBN


def _isbn10_check_digit(first9: str) -> str:
    total = sum(int(c) * w for c, w in zip(first9, range(10, 1, -1), strict=True))
    r = (11 - total % 11) % 11
    return "X" if r == 10 else str(r)


def _isbn13_check_digit(first12: str) -> str:
    total = sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(first12))
    return str((10 - total % 10) % 10)


_ISBN_HINT = "书号应为 13 位 ISBN（以 978 或 979 开头）或 10 位旧版 ISBN，例如 978-7-111-54742-6"


def check_isbn(value: str) -> str | None:
    """R10.2 书号: ISBN-10 or ISBN-13 (978/979); hyphens, spaces and an "ISBN" prefix allowed."""
    s = _journal_text(value).replace(" ", "")
    if not s:
        return None
    s = re.sub(r"^ISBN(?:-?1[03])?[:：]?", "", s)
    digits = s.replace("-", "")
    if not re.fullmatch(r"[0-9]{9}[0-9X]|[0-9]{13}", digits):
        if re.fullmatch(r"[0-9X]+", digits):
            return f"{_ISBN_HINT}；当前为 {len(digits)} 位"
        return f"{_ISBN_HINT}；当前为「{_shown(s)}」"
    if len(digits) == 13:
        if digits[:3] not in ("978", "979"):
            return f"13 位 ISBN 应以 978 或 979 开头，当前为 {digits[:3]}；{_ISBN_HINT}"
        expected = _isbn13_check_digit(digits[:12])
        basis = "前 12 位"
    else:
        expected = _isbn10_check_digit(digits[:9])
        basis = "前 9 位"
    if digits[-1] != expected:
        return (
            f"ISBN 校验位错误：按{basis}计算最后一位应为 {expected}，"
            f"当前为 {digits[-1]}，请核对书号"
        )
    try:
        _stdnum_isbn.validate(digits)
    except Exception:
        return f"书号「{_shown(s)}」不是有效的 ISBN；{_ISBN_HINT}"
    return None


# --------------------------------------------------------------------------- 学信网, USCC


def check_chsi_code(value: str) -> str | None:
    """R7.1 学信网在线验证码: 12 characters, digits and letters (lower case accepted)."""
    s = re.sub(r"[\s\-]", "", _nfkc(value)).upper()
    if not s:
        return None
    bad = [c for c in s if not (c.isascii() and c.isalnum())]
    if bad:
        return (
            f"学信网在线验证码只能包含数字和英文字母，发现「{_shown(bad[0])}」；"
            "应为 12 位，可在《教育部学历证书电子注册备案表》右下角找到"
        )
    if len(s) != 12:
        return (
            f"学信网在线验证码应为 12 位数字或字母，当前为 {len(s)} 位；"
            "可在《教育部学历证书电子注册备案表》右下角找到"
        )
    return None


def check_uscc(value: str) -> str | None:
    """统一社会信用代码: 18 characters with a GB 32100 check character."""
    s = re.sub(r"[\s\-]", "", _nfkc(value)).upper()
    if not s:
        return None
    if len(s) != 18:
        return f"统一社会信用代码应为 18 位，当前为 {len(s)} 位，请核对营业执照或登记证书"
    try:
        _stdnum_uscc.validate(s)
    except _stdnum_uscc.InvalidChecksum:
        try:
            expected = str(_stdnum_uscc.calc_check_digit(s[:17]))
        except Exception:
            expected = ""
        if expected:
            return (
                f"统一社会信用代码校验位错误：按前 17 位计算最后一位应为 {expected}，"
                f"当前为 {s[17]}，请核对"
            )
        return "统一社会信用代码校验位错误，请核对营业执照或登记证书"
    except Exception:
        return (
            "统一社会信用代码格式不正确：前 8 位应为数字，其余为数字或大写字母"
            f"（不含 I、O、S、V、Z），当前为「{_shown(s)}」"
        )
    return None


# --------------------------------------------------------------------------- password


_PW_ALLOWED = frozenset(string.ascii_letters + string.digits + string.punctuation)
PASSWORD_RULE = "8–20 位，须同时包含英文字母、数字和特殊符号（如 # @ ! % 等）"
DEFAULT_PASSWORD = "88888888"


def check_password(
    value: str,
    *,
    id_number: str | None = None,
    birth_date: date | None = None,
    common: frozenset[str] = frozenset(),
) -> str | None:
    """R1.2 new password. Unlike the other checks, an empty value is refused.

    Refused: the default 88888888; anything but printable ASCII without spaces; fewer
    than 8 or more than 20 characters; the ID number (ignoring case) or containing it;
    the birth date as YYYYMMDD anywhere, or digits that are just YYMMDD / MMDD; a
    password in ``common`` (ignoring case); one lacking a letter, a digit or a symbol.
    The birth date is taken from ``id_number`` when ``birth_date`` is not given.
    """
    pw = value if isinstance(value, str) else ("" if value is None else str(value))
    if not pw or not pw.strip():
        return f"请输入新密码：{PASSWORD_RULE}"
    if pw == DEFAULT_PASSWORD:
        return f"不能继续使用初始密码 88888888，请设置新密码：{PASSWORD_RULE}"
    bad = [c for c in pw if c not in _PW_ALLOWED]
    if bad:
        what = "空格" if bad[0].isspace() else f"「{_shown(bad[0])}」"
        return f"密码只能使用英文字母、数字和英文特殊符号，不能包含空格、汉字或全角字符，发现{what}"
    if not 8 <= len(pw) <= 20:
        return f"密码长度应为 8–20 位，当前为 {len(pw)} 位"
    ident = id_clean(id_number) if id_number else ""
    if ident and len(ident) >= 6 and ident.lower() in pw.lower():
        return "密码不能与身份证号相同或包含身份证号，请换一个不易被猜到的密码"
    if birth_date is None and ident:
        facts = id_number_facts(ident)
        birth_date = facts.birth_date if facts else None
    if birth_date is not None:
        ymd = birth_date.strftime("%Y%m%d") if birth_date.year >= 1000 else ""
        digits = "".join(c for c in pw if c.isdigit())
        variants = {ymd, ymd[2:], ymd[4:]} - {""}
        if (ymd and ymd in digits) or digits in variants:
            return f"密码不能包含出生日期（{birth_date.isoformat()}），请换一个不易被猜到的密码"
    if common and pw.lower() in {c.lower() for c in common if isinstance(c, str)}:
        return "该密码过于常见，容易被猜到，请换一个"
    missing = []
    if not any(c in string.ascii_letters for c in pw):
        missing.append("英文字母")
    if not any(c in string.digits for c in pw):
        missing.append("数字")
    if not any(c in string.punctuation for c in pw):
        missing.append("特殊符号（如 # @ ! % 等）")
    if missing:
        return f"密码须同时包含英文字母、数字和特殊符号，当前缺少：{'、'.join(missing)}"
    return None


# --------------------------------------------------------------------------- numbers, text


_MAX_THOUSAND_WORDS = 10000


def check_thousand_words(value: str) -> str | None:
    """R10.1/R10.2 字数（千字）: a positive number, at most one decimal, at most 10000."""
    s = _compact(value)
    if not s:
        return None
    s = re.sub(r"(千字|千)$", "", s)
    hint = "字数以千字为单位，应为正数，最多一位小数，例如 3 或 12.5"
    m = re.fullmatch(r"([+-]?)([0-9]*)(?:\.([0-9]*))?", s)
    if not m or not (m.group(2) or m.group(3)):
        return f"{hint}；当前为「{_shown(s)}」"
    if m.group(1) == "-":
        return f"字数应大于 0（以千字为单位，例如 3 或 12.5），当前为「{_shown(s)}」"
    if not m.group(2) or (m.group(3) is not None and m.group(3) == ""):
        return f"{hint}；当前为「{_shown(s)}」"
    if m.group(3) is not None and len(m.group(3)) > 1:
        return f"字数最多保留一位小数（以千字为单位），例如 12.5；当前为「{_shown(s)}」"
    number = float(f"{m.group(2)}.{m.group(3) or '0'}")
    if number <= 0:
        return f"字数应大于 0（以千字为单位，例如 3 或 12.5），当前为「{_shown(s)}」"
    if number > _MAX_THOUSAND_WORDS:
        return (
            f"字数以千字为单位，不应超过 {_MAX_THOUSAND_WORDS}（即 1000 万字）；"
            f"当前为「{_shown(s)}」，是否误填了实际字数？例如 12500 字应填 12.5"
        )
    return None


def count_lines(text: str) -> int:
    """Lines as the applicant sees them: \\r\\n, \\n and \\r end a line; a trailing
    newline does not start a new line; "" has 0 lines."""
    if not isinstance(text, str) or not text:
        return 0
    s = text.replace("\r\n", "\n").replace("\r", "\n")
    n = s.count("\n") + 1
    if s.endswith("\n"):
        n -= 1
    return n


def check_max_lines(text: str, max_lines: int) -> str | None:
    """R3.1/R12.3 e.g. 工作总结摘要不超过 17 行."""
    n = count_lines(text)
    if n > max_lines:
        return f"已写 {n} 行，最多 {max_lines} 行，请删减 {n - max_lines} 行"
    return None


def check_length(text: str, max_len: int) -> str | None:
    """Length as the guide's counters count it (characters of the str)."""
    n = len(text) if isinstance(text, str) else 0
    if n > max_len:
        return f"已输入 {n} 字，最多 {max_len} 字，请删减 {n - max_len} 字"
    return None


# --------------------------------------------------------------------------- dates


def check_date_order(start: date | None, end: date | None) -> str | None:
    """Start not after end; None when either is missing."""
    if start is None or end is None:
        return None
    if start > end:
        return (
            f"开始时间 {start.isoformat()} 晚于截止时间 {end.isoformat()}，"
            "开始时间应早于或等于截止时间，请核对"
        )
    return None


def check_year(value: int | str, *, today: date | None = None, earliest: int = 1950) -> str | None:
    """A plausible year: an integer in [earliest, today.year]; e.g. R8.1 考核年度."""
    latest = (today or date.today()).year
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int):
        year = value
        shown = str(value) if abs(value) < 10**12 else "一个过大的数"
    else:
        s = _compact(value)
        if not s:
            return None
        s = re.sub(r"年(度)?$", "", s)
        if not re.fullmatch(r"[0-9]{1,6}", s):
            return f"年份应为 4 位数字，例如 {latest}；当前为「{_shown(s)}」"
        year = int(s)
        shown = s
    if year < earliest or year > latest:
        return f"年份应在 {earliest}–{latest} 之间，当前为 {shown}，请核对"
    return None


_YM_FORMS = "2021-05、202105、2021.5、2021/5 或 2021年5月"
_YM_PATTERNS = (
    re.compile(r"([0-9]{4})[-./]([0-9]{1,2})"),
    re.compile(r"([0-9]{4})([0-9]{2})"),
    re.compile(r"([0-9]{4})年([0-9]{1,2})月?"),
)


def _year_month_parts(text: str) -> tuple[int, int] | None:
    s = _compact(text)
    for pattern in _YM_PATTERNS:
        m = pattern.fullmatch(s)
        if m:
            return int(m.group(1)), int(m.group(2))
    return None


def parse_year_month(text: str) -> tuple[int, int] | None:
    """(year, month) from "2021-05", "202105", "2021.5", "2021/5", "2021年5月", "2021-5";
    month 1–12, year 1900–2100; else None."""
    parts = _year_month_parts(text)
    if parts is None:
        return None
    year, month = parts
    if 1900 <= year <= 2100 and 1 <= month <= 12:
        return year, month
    return None


def check_year_month(text: str, *, today: date | None = None) -> str | None:
    """A year and month (e.g. R10.1 发表年月) that can be read and is not in the future."""
    if _is_blank(text):
        return None
    today = today or date.today()
    parts = _year_month_parts(text)
    if parts is None:
        return f"无法识别年月「{_shown(_compact(text))}」，可填写 {_YM_FORMS}"
    year, month = parts
    if not 1 <= month <= 12:
        return f"月份应为 1–12，当前为 {month}；可填写 {_YM_FORMS}"
    if not 1900 <= year <= 2100:
        return f"年份应在 1900–{today.year} 之间，当前为 {year}，请核对"
    if (year, month) > (today.year, today.month):
        return (
            f"年月 {year}-{month:02d} 晚于当前（{today.year}-{today.month:02d}），"
            "不能填写将来的年月，请核对"
        )
    return None


_DATE_FORMS = "2021-05-03、20210503、2021.5.3、2021/5/3 或 2021年5月3日"
_DATE_PATTERNS = (
    re.compile(r"([0-9]{4})[-./]([0-9]{1,2})[-./]([0-9]{1,2})"),
    re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})"),
    re.compile(r"([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})日?"),
)


def _date_parts(text: str) -> tuple[int, int, int] | None:
    s = _compact(text)
    for pattern in _DATE_PATTERNS:
        m = pattern.fullmatch(s)
        if m:
            return int(m.group(1)), int(m.group(2)), int(m.group(3))
    return None


def parse_date(text: str) -> date | None:
    """A date from "2021-05-03", "20210503", "2021.5.3", "2021/5/3", "2021年5月3日";
    year 1900–2100; else None."""
    parts = _date_parts(text)
    if parts is None or not 1900 <= parts[0] <= 2100:
        return None
    try:
        return date(*parts)
    except ValueError:
        return None


def check_date(text: str, *, today: date | None = None, allow_future: bool = False) -> str | None:
    """A readable, real date; not after today unless ``allow_future``."""
    if _is_blank(text):
        return None
    today = today or date.today()
    parts = _date_parts(text)
    if parts is None:
        return f"无法识别日期「{_shown(_compact(text))}」，可填写 {_DATE_FORMS}"
    year, month, day = parts
    if not 1900 <= year <= 2100:
        return f"日期的年份应在 1900–2100 之间，当前为 {year}，请核对"
    d = parse_date(text)
    if d is None:
        return f"{year}年{month}月{day}日 不是有效日期（请检查月份 1–12 和当月天数），请核对"
    if not allow_future and d > today:
        return f"日期 {d.isoformat()} 晚于今天（{today.isoformat()}），请核对"
    return None


# --------------------------------------------------------------------------- URLs


_HOST_RE = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]"
    r"|(?:[0-9]{1,3}\.){3}[0-9]{1,3}"
)
RETRIEVAL_DOMAINS: tuple[tuple[str, str], ...] = (
    ("cnki.net", "中国知网"),
    ("cnki.com.cn", "中国知网"),
    ("wanfangdata.com.cn", "万方数据"),
    ("cqvip.com", "维普"),
)


def _url_host(value: str) -> tuple[str | None, str | None]:
    """(host, None) for an acceptable http(s) URL, else (None, message)."""
    s = _nfkc(value)
    example = "例如 https://kns.cnki.net/…"
    if re.search(r"\s", s):
        return None, f"网址中不能有空格或换行，请完整复制浏览器地址栏中的网址，{example}"
    scheme_m = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://", s)
    if not scheme_m:
        return None, (
            f"网址应以 http:// 或 https:// 开头，当前为「{_shown(s)}」；"
            f"请完整复制浏览器地址栏中的网址，{example}"
        )
    if scheme_m.group(1).lower() not in ("http", "https"):
        return None, f"网址应以 http:// 或 https:// 开头，当前为 {scheme_m.group(1)}://，{example}"
    try:
        parts = urlsplit(s)
        host = (parts.hostname or "").rstrip(".")
        _ = parts.port  # raises ValueError for a malformed port
    except Exception:
        return None, f"网址格式不正确，当前为「{_shown(s)}」，{example}"
    if not host:
        return None, f"网址中缺少域名，当前为「{_shown(s)}」，{example}"
    if not _HOST_RE.fullmatch(host):
        return None, f"网址中的域名「{_shown(host)}」不正确，{example}"
    return host, None


def check_url(value: str) -> str | None:
    """An http(s) URL with a proper host name."""
    if _is_blank(value):
        return None
    _, msg = _url_host(value)
    return msg


def check_retrieval_url(value: str) -> str | None:
    """R10.1 检索验证地址: an http(s) URL at CNKI (cnki.net, cnki.com.cn), Wanfang
    (wanfangdata.com.cn) or CQVIP (cqvip.com), subdomains included."""
    if _is_blank(value):
        return None
    host, msg = _url_host(value)
    if msg is not None or host is None:
        return msg
    if any(host == d or host.endswith("." + d) for d, _ in RETRIEVAL_DOMAINS):
        return None
    return (
        "检索验证地址应为中国知网（cnki.net）、万方数据（wanfangdata.com.cn）"
        f"或维普（cqvip.com）上该论文的网址；当前网址的域名是 {host}"
    )
