"""Strict record schemas built from data/forms.yaml: the guide's limits and checks, in
Chinese, for imports and the API (R3.1, R7.5, R10.1, R10.2)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from zctui.domain.schemas import record_schema

GOOD_PAPER = {
    "title": "中药外敷治疗糖尿病足溃疡临床观察",
    "journal": "中医杂志",
    "journal_numbers": "ISSN 1001-1668 CN11-2166/R",
    "sponsor": "中华中医药学会",
    "published": "2022-05",
    "author_rank": "first",
    "journal_rank": "pku_core",
}


def test_r10_1_good_paper_passes() -> None:
    paper = record_schema("paper").model_validate({**GOOD_PAPER, "words": "4.5"})
    assert paper.model_dump()["words"] == "4.5"


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("title", "长" * 101, "最多 100 字"),
        ("journal_numbers", "ISSN 1001-1667 CN11-2166/R", "8"),
        ("words", "4.55", "一位小数"),
        ("published", "2022-13", "年月"),
        ("author_rank", "第一", "不是有效的个人排名"),
    ],
)
def test_r10_1_paper_limits_in_chinese(field: str, value: str, says: str) -> None:
    with pytest.raises(ValidationError) as err:
        record_schema("paper").model_validate({**GOOD_PAPER, field: value})
    assert says in str(err.value) or says in str(err.value.errors())


def test_required_fields_reported_together() -> None:
    with pytest.raises(ValidationError) as err:
        record_schema("paper").model_validate({"title": "只有名称"})
    text = str(err.value)
    assert "请填写刊物名称" in text and "请填写主办单位" in text


def test_r7_5_title_must_belong_to_series() -> None:
    schema = record_schema("title_certificate")
    ok = {"role": "current", "category": "ws", "series": "230.zy", "specialty": "02",
          "title": "233", "obtained": "2018-12-20"}  # fmt: skip
    schema.model_validate(ok)
    with pytest.raises(ValidationError, match="不在系列"):
        schema.model_validate({**ok, "title": "083"})


def test_unknown_field_refused() -> None:
    with pytest.raises(ValidationError):
        record_schema("paper").model_validate({**GOOD_PAPER, "colour": "red"})


def test_json_schema_carries_labels_and_limits() -> None:
    props = record_schema("monograph").model_json_schema()["properties"]
    title = props["title"]
    assert title["title"] == "论著名称"
    assert title["maxLength"] == 100
