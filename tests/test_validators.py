"""Validators (R1.2, R3.1, R7.1, R10.1, R10.2, R12.3): computed examples and fuzzing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zctui.domain import validators as v

TODAY = date(2025, 11, 26)

# --------------------------------------------------------------------------- helpers
# Independent implementations of the check digits, so the tests do not trust the module.

_GB11643_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def gb11643(first17: str) -> str:
    total = 0
    for digit, weight in zip(first17, _GB11643_WEIGHTS, strict=True):
        total += int(digit) * weight
    return "10X98765432"[total % 11]


def make_id(area: str = "130902", birth: str = "19891010", seq: str = "123") -> str:
    body = area + birth + seq
    assert len(body) == 17
    return body + gb11643(body)


def wrong_last(number: str) -> str:
    last = "0" if number[-1] != "0" else "1"
    return number[:-1] + last


def issn_digit(first7: str) -> str:
    total = sum(int(c) * (8 - i) for i, c in enumerate(first7))
    r = (11 - total % 11) % 11
    return "X" if r == 10 else str(r)


def isbn13_digit(first12: str) -> str:
    total = 0
    for i, c in enumerate(first12):
        total += int(c) * (3 if i % 2 else 1)
    return str((10 - total % 10) % 10)


# --------------------------------------------------------------------------- R3.1 ID number


def test_r3_1_id_valid_computed() -> None:
    number = make_id()
    assert number == "130902198910101239"
    assert v.check_id_number(number, today=TODAY) is None


def test_r3_1_id_checksum_names_expected_digit() -> None:
    number = make_id()
    msg = v.check_id_number(wrong_last(number), today=TODAY)
    assert msg is not None
    assert "校验位" in msg
    assert f"应为 {number[-1]}" in msg


def test_r3_1_id_checksum_x() -> None:
    # find a sequence whose check digit is X, and check lower-case x is accepted
    number = next(n for n in (make_id(seq=f"{i:03d}") for i in range(1000)) if n.endswith("X"))
    assert v.check_id_number(number, today=TODAY) is None
    assert v.check_id_number(number.lower(), today=TODAY) is None
    assert v.id_number_facts(number.lower()) is not None
    msg = v.check_id_number(number[:-1] + "0", today=TODAY)
    assert msg is not None and "应为 X" in msg


def test_r3_1_id_full_width_and_spaces_accepted() -> None:
    number = make_id()
    full = "".join(chr(ord(c) + 0xFEE0) for c in number)
    assert v.check_id_number(full, today=TODAY) is None
    assert v.check_id_number(f" {number[:6]} {number[6:14]} {number[14:]} ", today=TODAY) is None


def test_r3_1_id_future_birth_refused() -> None:
    number = make_id(birth="20300101")
    msg = v.check_id_number(number, today=TODAY)
    assert msg is not None and "2030-01-01" in msg and "晚于今天" in msg


def test_r3_1_id_before_1900_and_impossible_date_refused() -> None:
    msg = v.check_id_number(make_id(birth="18991231"), today=TODAY)
    assert msg is not None and "1900" in msg
    msg = v.check_id_number(make_id(birth="19890230"), today=TODAY)
    assert msg is not None and "19890230" in msg and "不是有效日期" in msg


def test_r3_1_id_gender_mismatch_says_what_number_implies() -> None:
    male = make_id(seq="123")  # 17th digit 3: odd = 男
    assert v.check_id_number(male, gender="1", today=TODAY) is None
    msg = v.check_id_number(male, gender="2", today=TODAY)
    assert msg is not None and "男" in msg and "不一致" in msg
    female = make_id(seq="124")
    msg = v.check_id_number(female, gender="1", today=TODAY)
    assert msg is not None and "女" in msg
    # the Chinese words are accepted as well
    assert v.check_id_number(female, gender="女", today=TODAY) is None


def test_r3_1_id_birth_date_mismatch() -> None:
    number = make_id()
    assert v.check_id_number(number, birth_date=date(1989, 10, 10), today=TODAY) is None
    msg = v.check_id_number(number, birth_date=date(1990, 1, 1), today=TODAY)
    assert msg is not None and "1989-10-10" in msg and "1990-01-01" in msg


def test_r3_1_id_unknown_province_refused() -> None:
    msg = v.check_id_number(make_id(area="990902"), today=TODAY)
    assert msg is not None and "99" in msg and "省级" in msg
    msg = v.check_id_number(make_id(area="200101"), today=TODAY)
    assert msg is not None and "20" in msg


def test_r3_1_id_unknown_area_in_known_province_accepted() -> None:
    # 139999 is not a real county, but 13 (河北) is a province: only the province is judged
    assert v.check_id_number(make_id(area="139999"), today=TODAY) is None
    for province in ("11", "50", "65", "71", "81", "82", "83"):
        assert v.check_id_number(make_id(area=province + "0101"), today=TODAY) is None


def test_r3_1_id_15_digit_refused() -> None:
    msg = v.check_id_number("130902891010123", today=TODAY)
    assert msg is not None and "15 位" in msg and "18 位" in msg


def test_r3_1_id_length_and_characters() -> None:
    msg = v.check_id_number("1309021989", today=TODAY)
    assert msg is not None and "18 位" in msg and "10 位" in msg
    msg = v.check_id_number("13090219891010A239", today=TODAY)
    assert msg is not None and "A" in msg


def test_r3_1_id_empty_is_not_judged() -> None:
    assert v.check_id_number("") is None
    assert v.check_id_number("   ") is None


def test_r3_1_id_number_facts() -> None:
    facts = v.id_number_facts(make_id(birth="19891010", seq="123"))
    assert facts == v.IdFacts(date(1989, 10, 10), "1")
    facts = v.id_number_facts(make_id(birth="20000229", seq="002"))
    assert facts is not None
    assert facts.birth_date == date(2000, 2, 29)
    assert facts.gender == "2"
    assert v.id_number_facts(wrong_last(make_id())) is None
    assert v.id_number_facts(make_id(birth="19890230")) is None
    assert v.id_number_facts("130902891010123") is None
    assert v.id_number_facts("") is None


# --------------------------------------------------------------------------- R3.1 phones


@pytest.mark.parametrize(
    "value",
    ["13812345678", "+86 138 1234 5678", "86-138-1234-5678", "138-1234-5678", "19912345678"],
)
def test_r3_1_mobile_ok(value: str) -> None:
    assert v.check_mobile(value) is None
    assert v.check_phone(value) is None


def test_r3_1_mobile_refused() -> None:
    msg = v.check_mobile("1381234567")
    assert msg is not None and "11 位" in msg and "10 位" in msg
    msg = v.check_mobile("12812345678")
    assert msg is not None and "3–9" in msg
    msg = v.check_mobile("23812345678")
    assert msg is not None and "以 1 开头" in msg
    msg = v.check_mobile("138abc45678")
    assert msg is not None and "a" in msg
    assert v.check_mobile("") is None


@pytest.mark.parametrize(
    "value",
    ["0317-2123456", "03172123456", "010-12345678", "0317-2123456-801", "(0317)2123456"],
)
def test_r3_1_landline_ok(value: str) -> None:
    assert v.check_landline(value) is None
    assert v.check_phone(value) is None


def test_r3_1_landline_refused() -> None:
    msg = v.check_landline("0317-21")
    assert msg is not None and "0317-2123456" in msg
    msg = v.check_landline("13812345678")
    assert msg is not None and "手机号码" in msg
    msg = v.check_phone("abc")
    assert msg is not None and "手机号码" in msg and "固定电话" in msg


def test_r3_1_unit_phone_length_via_check_length() -> None:
    assert v.check_length("0317-2123456", 12) is None
    assert v.check_length("0317-2123456-801", 12) is not None


# --------------------------------------------------------------------------- R10.1 刊号


def test_r10_1_issn_check_digit() -> None:
    assert issn_digit("0317847") == "1"
    assert v.check_issn("0317-8471") is None
    assert v.check_issn("ISSN 0317-8471") is None
    msg = v.check_issn("0317-8472")
    assert msg is not None and "应为 1" in msg and "0317-8471" in msg


def test_r10_1_issn_x_and_format() -> None:
    first7 = next(f"{i:07d}" for i in range(1000, 100000) if issn_digit(f"{i:07d}") == "X")
    good = f"{first7[:4]}-{first7[4:]}X"
    assert v.check_issn(good) is None
    assert v.check_issn(good.lower()) is None
    msg = v.check_issn("1234")
    assert msg is not None and "NNNN-NNNC" in msg


def test_r10_1_cn_number() -> None:
    assert v.check_cn_number("CN11-2000/R") is None
    assert v.check_cn_number("cn 11-2000/r") is None
    assert v.check_cn_number("CN36-1339/G4") is None
    msg = v.check_cn_number("11-2000/R")
    assert msg is not None and "CN" in msg
    msg = v.check_cn_number("CN1-2000/R")
    assert msg is not None and "CN11-2000/R" in msg


@pytest.mark.parametrize(
    "value",
    [
        "ISSN 1002-0098 CN11-2000/R",
        "ISSN:1002-0098；CN:11-2000/R",
        "1002-0098/CN11-2000/R",
        "CN11-2000/R ISSN 1002-0098",
        "CN 11-2000/R，ISSN 1002-0098",
        "国内统一刊号：CN11-2000/R 国际标准刊号：ISSN 1002-0098",
    ],
)
def test_r10_1_journal_numbers_ok(value: str) -> None:
    assert issn_digit("1002009") == "8"
    assert v.parse_journal_numbers(value) == ("1002-0098", "CN11-2000/R")
    assert v.check_journal_numbers(value) is None


def test_r10_1_journal_numbers_refused() -> None:
    msg = v.check_journal_numbers("ISSN 1002-0098")
    assert msg is not None and "CN" in msg
    msg = v.check_journal_numbers("CN11-2000/R")
    assert msg is not None and "ISSN" in msg
    msg = v.check_journal_numbers("中华医学杂志")
    assert msg is not None and "ISSN" in msg and "CN" in msg
    msg = v.check_journal_numbers("ISSN 1002-0099 CN11-2000/R")
    assert msg is not None and "应为 8" in msg
    assert v.parse_journal_numbers("") == (None, None)


# --------------------------------------------------------------------------- R10.2 ISBN


def test_r10_2_isbn_13_computed() -> None:
    first12 = "978711154742"
    good = first12 + isbn13_digit(first12)
    assert good == "9787111547426"
    hyphenated = f"{good[:3]}-{good[3]}-{good[4:7]}-{good[7:12]}-{good[12]}"
    for value in (good, hyphenated, f"ISBN {hyphenated}", f"ISBN:{good}"):
        assert v.check_isbn(value) is None, value
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    msg = v.check_isbn(bad)
    assert msg is not None and f"应为 {good[-1]}" in msg


def test_r10_2_isbn_10_and_prefix() -> None:
    assert v.check_isbn("0-306-40615-2") is None
    msg = v.check_isbn("0-306-40615-3")
    assert msg is not None and "应为 2" in msg
    msg = v.check_isbn("1234567890128")
    assert msg is not None and "978" in msg
    msg = v.check_isbn("12345")
    assert msg is not None and "13 位" in msg


# --------------------------------------------------------------------------- R7.1 学信网


def test_r7_1_chsi_code() -> None:
    assert v.check_chsi_code("A1B2C3D4E5F6") is None
    assert v.check_chsi_code("a1b2c3d4e5f6") is None
    assert v.check_chsi_code("123456789012") is None
    msg = v.check_chsi_code("A1B2C3D4E5")
    assert msg is not None and "12 位" in msg and "10 位" in msg
    msg = v.check_chsi_code("A1B2C3D4E5F#")
    assert msg is not None and "#" in msg
    assert v.check_chsi_code("") is None


# --------------------------------------------------------------------------- R1.2 password


ID = make_id()


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("", "请输入新密码"),
        ("88888888", "88888888"),
        ("Zc#20", "当前为 5 位"),
        ("Zc#2024abc" + "x" * 11, "当前为 21 位"),
        ("Zc2024abcd", "特殊符号"),
        ("Zc#abcdefg", "数字"),
        ("12#4567890", "英文字母"),
        ("Zc# 2024abc", "空格"),
        ("Zc#2024密码x", "密"),
        ("Zc#２０２４abc", "２"),
        (ID, "身份证号"),
        (ID.lower() + "#a", "身份证号"),
        ("Ab#19891010", "出生日期"),
        ("ab#891010", "出生日期"),
        ("P@ssw0rd", "常见"),
    ],
)
def test_r1_2_password_refused(password: str, fragment: str) -> None:
    msg = v.check_password(password, id_number=ID, common=frozenset({"p@SSW0RD"}))
    assert msg is not None
    assert fragment in msg


def test_r1_2_password_good() -> None:
    assert v.check_password("Zc#2024abc") is None
    assert v.check_password("Zc#2024abc", id_number=ID, common=frozenset({"p@ssw0rd"})) is None
    assert v.check_password("Zc#2024abc", birth_date=date(1989, 10, 10)) is None
    assert v.check_password("a1!" + "b" * 17) is None  # exactly 20


def test_r1_2_password_birth_date_given_directly() -> None:
    msg = v.check_password("Xy!19750301", birth_date=date(1975, 3, 1))
    assert msg is not None and "1975-03-01" in msg


# --------------------------------------------------------------------------- R10 字数


@pytest.mark.parametrize("value", ["3", "12.5", "0.5", "10000", "12.5千字", ""])
def test_r10_1_thousand_words_ok(value: str) -> None:
    assert v.check_thousand_words(value) is None


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("12.55", "一位小数"),
        ("-1", "大于 0"),
        ("0", "大于 0"),
        ("abc", "例如 3 或 12.5"),
        ("10000.1", "10000"),
        ("12.", "12."),
    ],
)
def test_r10_2_thousand_words_refused(value: str, fragment: str) -> None:
    msg = v.check_thousand_words(value)
    assert msg is not None and fragment in msg


# --------------------------------------------------------------------------- R3.1/R12.3 lines


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("", 0),
        ("a", 1),
        ("a\n", 1),
        ("a\nb", 2),
        ("a\r\nb\r\n", 2),
        ("a\rb\rc", 3),
        ("\n", 1),
        ("\n\n", 2),
        ("a\n\nb", 3),
        ("a\r\n\r\nb", 3),
        ("a\u2028b", 1),  # only \r\n, \n and \r count
    ],
)
def test_r12_3_count_lines(text: str, lines: int) -> None:
    assert v.count_lines(text) == lines


def test_r12_3_max_lines_message() -> None:
    text = "\n".join(f"第 {i} 行" for i in range(19))
    assert v.check_max_lines(text, 17) == "已写 19 行，最多 17 行，请删减 2 行"
    assert v.check_max_lines("\n".join("x" * 17) + "\n", 17) is None


def test_r10_1_length_message() -> None:
    msg = v.check_length("字" * 120, 100)
    assert msg is not None and "已输入 120 字，最多 100 字" in msg
    assert v.check_length("字" * 100, 100) is None


# --------------------------------------------------------------------------- dates and years


@pytest.mark.parametrize(
    "text", ["2021-05", "202105", "2021.5", "2021/5", "2021年5月", "2021-5", " 2021 - 05 "]
)
def test_r10_1_year_month_forms(text: str) -> None:
    assert v.parse_year_month(text) == (2021, 5)
    assert v.check_year_month(text, today=TODAY) is None


@pytest.mark.parametrize("text", ["2021-13", "2021-0", "1899-12", "2101-01", "abc", "2021-05-03"])
def test_r10_1_year_month_unreadable(text: str) -> None:
    assert v.parse_year_month(text) is None
    msg = v.check_year_month(text, today=TODAY)
    assert msg is not None


def test_r10_1_year_month_messages() -> None:
    msg = v.check_year_month("abc", today=TODAY)
    assert msg is not None and "2021-05" in msg and "2021年5月" in msg
    msg = v.check_year_month("2026-01", today=TODAY)
    assert msg is not None and "2026-01" in msg and "2025-11" in msg
    assert v.check_year_month("2025-11", today=TODAY) is None
    assert v.check_year_month("") is None


@pytest.mark.parametrize("text", ["2021-05-03", "20210503", "2021.5.3", "2021/5/3", "2021年5月3日"])
def test_r8_2_date_forms(text: str) -> None:
    assert v.parse_date(text) == date(2021, 5, 3)
    assert v.check_date(text, today=TODAY) is None


def test_r8_2_date_refused() -> None:
    assert v.parse_date("2021-02-30") is None
    msg = v.check_date("2021-02-30", today=TODAY)
    assert msg is not None and "不是有效日期" in msg
    msg = v.check_date("2026-01-01", today=TODAY)
    assert msg is not None and "2026-01-01" in msg
    assert v.check_date("2026-01-01", today=TODAY, allow_future=True) is None
    msg = v.check_date("昨天", today=TODAY)
    assert msg is not None and "2021-05-03" in msg
    assert v.check_date("") is None


def test_r8_2_date_order() -> None:
    assert v.check_date_order(date(2020, 1, 1), date(2021, 1, 1)) is None
    assert v.check_date_order(date(2020, 1, 1), date(2020, 1, 1)) is None
    assert v.check_date_order(None, date(2020, 1, 1)) is None
    msg = v.check_date_order(date(2021, 1, 1), date(2020, 1, 1))
    assert msg is not None and "2021-01-01" in msg and "2020-01-01" in msg


def test_r8_1_year() -> None:
    assert v.check_year(2021, today=TODAY) is None
    assert v.check_year("2021", today=TODAY) is None
    assert v.check_year("２０２１", today=TODAY) is None
    assert v.check_year("", today=TODAY) is None
    msg = v.check_year(2026, today=TODAY)
    assert msg is not None and "1950–2025" in msg
    msg = v.check_year("1949", today=TODAY)
    assert msg is not None and "1949" in msg
    assert v.check_year(1940, today=TODAY, earliest=1900) is None
    msg = v.check_year("abc", today=TODAY)
    assert msg is not None and "4 位数字" in msg


# --------------------------------------------------------------------------- USCC, URLs


def test_uscc() -> None:
    assert v.check_uscc("91110000600037341L") is None
    assert v.check_uscc("91110000600037341l") is None
    msg = v.check_uscc("91110000600037341M")
    assert msg is not None and "应为 L" in msg
    msg = v.check_uscc("9111000060003734")
    assert msg is not None and "18 位" in msg
    assert v.check_uscc("A1110000600037341L") is not None


@pytest.mark.parametrize(
    "url",
    [
        "https://kns.cnki.net/kcms2/article/abstract?v=abc",
        "http://www.cnki.net/",
        "https://d.wanfangdata.com.cn/periodical/zhyx202101001",
        "http://qikan.cqvip.com/Qikan/Article/Detail?id=7104",
        "ｈｔｔｐｓ：／／kns.cnki.net/abc",
    ],
)
def test_r10_1_retrieval_url_ok(url: str) -> None:
    assert v.check_url(url) is None
    assert v.check_retrieval_url(url) is None


def test_r10_1_retrieval_url_refused() -> None:
    msg = v.check_retrieval_url("https://www.baidu.com/s?wd=x")
    assert msg is not None
    assert "cnki.net" in msg and "wanfangdata.com.cn" in msg and "cqvip.com" in msg
    assert "www.baidu.com" in msg
    assert v.check_url("https://www.baidu.com/s?wd=x") is None
    assert v.check_retrieval_url("https://notcnki.net/x") is not None
    msg = v.check_retrieval_url("kns.cnki.net/abc")
    assert msg is not None and "https://" in msg
    for bad in (
        "ftp://cnki.net/",
        "https://",
        "http://[::1",
        "https://cnki.net:99999/",
        "http://a b",
    ):
        assert v.check_url(bad) is not None, bad
    assert v.check_url("") is None


# --------------------------------------------------------------------------- fuzzing


OPTIONAL_STR: list[Callable[[str], Any]] = [
    v.check_id_number,
    lambda s: v.check_id_number(s, gender="1", birth_date=date(1989, 10, 10), today=TODAY),
    lambda s: v.check_id_number(s, gender=s, today=TODAY),
    v.check_mobile,
    v.check_landline,
    v.check_phone,
    v.check_issn,
    v.check_cn_number,
    v.check_journal_numbers,
    v.check_isbn,
    v.check_chsi_code,
    v.check_thousand_words,
    lambda s: v.check_max_lines(s, 17),
    lambda s: v.check_length(s, 100),
    v.check_year,
    v.check_year_month,
    v.check_date,
    lambda s: v.check_date(s, allow_future=True),
    v.check_uscc,
    v.check_url,
    v.check_retrieval_url,
]


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_fuzz_checks_never_raise(text: str) -> None:
    for check in OPTIONAL_STR:
        result = check(text)
        assert result is None or (isinstance(result, str) and result)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_r1_2_fuzz_password_never_raises(text: str) -> None:
    results = [
        v.check_password(text),
        v.check_password(text, id_number=text),
        v.check_password(text, id_number=ID, common=frozenset({text, "abc"})),
        v.check_password(text, birth_date=date(1989, 10, 10)),
    ]
    for result in results:
        assert result is None or (isinstance(result, str) and result)
    if not text:
        assert results[0] is not None


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_fuzz_parsers_return_declared_types(text: str) -> None:
    facts = v.id_number_facts(text)
    assert facts is None or (isinstance(facts, v.IdFacts) and facts.gender in ("1", "2"))
    issn, cn = v.parse_journal_numbers(text)
    assert issn is None or isinstance(issn, str)
    assert cn is None or (isinstance(cn, str) and cn.startswith("CN"))
    ym = v.parse_year_month(text)
    assert ym is None or (1900 <= ym[0] <= 2100 and 1 <= ym[1] <= 12)
    d = v.parse_date(text)
    assert d is None or isinstance(d, date)
    n = v.count_lines(text)
    assert isinstance(n, int) and n >= 0
    assert (n == 0) == (text == "")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789Xx-/.年月日 CNISB:：；，\r\n", max_size=30))
def test_fuzz_near_miss_inputs(text: str) -> None:
    """Inputs made of the characters the formats use, to reach the deeper branches."""
    for check in OPTIONAL_STR:
        result = check(text)
        assert result is None or (isinstance(result, str) and result)
    if text.strip() and v.check_id_number(text) is None:
        assert v.id_number_facts(text) is not None


@settings(max_examples=300, deadline=None)
@given(st.integers())
def test_r8_1_fuzz_year_integers(year: int) -> None:
    result = v.check_year(year, today=TODAY)
    assert (result is None) == (1950 <= year <= 2025)


@settings(max_examples=300, deadline=None)
@given(
    st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    st.integers(min_value=0, max_value=999),
    st.sampled_from(sorted(v.PROVINCE_CODES)),
)
def test_r3_1_fuzz_generated_ids_round_trip(birth: date, seq: int, province: str) -> None:
    number = make_id(area=province + "0101", birth=birth.strftime("%Y%m%d"), seq=f"{seq:03d}")
    assert v.check_id_number(number, today=TODAY) is None
    facts = v.id_number_facts(number)
    assert facts is not None
    assert facts.birth_date == birth
    assert facts.gender == ("1" if seq % 2 else "2")
    msg = v.check_id_number(wrong_last(number), today=TODAY)
    assert msg is not None and f"应为 {number[-1]}" in msg


@settings(max_examples=200, deadline=None)
@given(st.dates(), st.dates())
def test_fuzz_date_order(a: date, b: date) -> None:
    assert (v.check_date_order(a, b) is None) == (a <= b)
