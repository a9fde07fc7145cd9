"""The rule language and the form spec in data/: safe, validated at load, in step with the
tables, and carrying the guide's limits."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlmodel import SQLModel

from zctui.data.base import CatalogError
from zctui.data.expr import ExprError, compile_condition
from zctui.data.forms import load_forms
from zctui.domain.models import TABLES

FORMS = load_forms()


@pytest.mark.parametrize(
    ("source", "facts", "expected"),
    [
        ("method == 'green'", {"method": "green"}, True),
        ("method == 'green'", {"method": None}, False),
        ("'health' in series_tags", {"series_tags": frozenset({"health"})}, True),
        ("'health' in series_tags", {"series_tags": None}, False),
        ("level <= 2 and not has_title", {"level": 2, "has_title": False}, True),
        ("level <= 2", {"level": None}, False),  # a missing fact never satisfies an order test
        ("record.x in ['a', 'b']", {"record": {"x": "b"}}, True),
        ("record.x_year >= 2002", {"record": {"x_year": 2001}}, False),
    ],
)
def test_condition_semantics(source: str, facts: dict[str, object], expected: bool) -> None:
    names = {"method", "series_tags", "level", "has_title", "record"}
    assert compile_condition(source, names)(facts) is expected


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os').system('true')",
        "open('/etc/passwd')",
        "method.__class__",  # attribute on a fact other than a record is allowed but yields None
        "lambda: 1",
        "[x for x in series_tags]",
        "unknown_name == 1",
        "method ==",
    ],
)
def test_conditions_cannot_run_code(source: str) -> None:
    names = {"method", "series_tags"}
    if source == "method.__class__":
        assert compile_condition(source, names)({"method": "x"}) is False
        return
    with pytest.raises(ExprError):
        compile_condition(source, names)


def test_every_field_is_a_column_and_every_column_a_field() -> None:
    """The form spec and the tables describe the same sections."""
    system = {"id", "rev", "updated_at", "deleted", "application_id", "position", "person_id"}
    for section in FORMS.sections:
        if section.kind == "slots":
            continue
        model: type[SQLModel] = TABLES[section.table]
        columns = set(model.model_fields) - system
        fields = {f.name for f in section.fields}
        assert fields - set(model.model_fields) == set(), section.code
        if section.table == "application":  # its other columns are the workflow's, not the form's
            columns -= {"year", "state", "catalog_version", "city", "return_items"}
        assert columns == fields, section.code


def test_steps_one_to_twelve() -> None:
    assert [s.number for s in FORMS.steps] == list(range(1, 13))
    assert all(s.guide for s in FORMS.steps)


@pytest.mark.parametrize(
    ("section", "field", "limit"),
    [
        ("paper", "title", 100),
        ("paper", "journal", 100),
        ("paper", "journal_numbers", 36),
        ("paper", "sponsor", 100),
        ("paper", "retrieval_url", 300),
        ("paper", "remark", 500),
        ("monograph", "title", 100),
        ("monograph", "isbn", 36),
        ("title_certificate", "approval_no", 36),
        ("title_certificate", "management_no", 36),
        ("work_experience", "content", 500),
        ("status", "archive_unit", 50),
        ("basic", "work_phone", 12),
    ],
)
def test_guide_limits_r4_r7_r8_r10(section: str, field: str, limit: int) -> None:
    spec = FORMS.section(section).field(field)
    assert spec is not None and spec.max_len == limit


def test_r3_1_summary_at_most_17_lines() -> None:
    spec = FORMS.section("basic").field("summary")
    assert spec is not None and spec.max_lines == 17 and spec.required is True


def test_r5_fifteen_materials_with_conditions() -> None:
    slots = FORMS.section("materials").slots
    assert len(slots) == 15
    required = {s.code: s.required for s in slots}
    assert all(required[c] is True for c in ("m01", "m02", "m03", "m04", "m15"))
    assert required["m06"] == "method == 'green'"
    assert required["m11"] == "method == 'exceptional'"
    assert required["m07"] == "'health' in series_tags"


def test_paper_and_monograph_slots_r10() -> None:
    paper = [s.code for s in FORMS.section("paper").slots]
    assert paper == ["cover", "copyright", "contents", "text", "translation"]
    assert len(FORMS.section("monograph").slots) == 6  # "附件信息共六项，逐个上传，不得缺项"


def test_every_field_has_label_rule_and_help_where_guide_has_one() -> None:
    for section in FORMS.sections:
        for f in section.fields:
            assert f.label and f.rule.startswith("R"), (section.code, f.name)


def _broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    src = Path(__file__).parents[1] / "src" / "zctui" / "data" / "forms.yaml"
    shutil.copy(src, tmp_path / "forms.yaml")
    text = (tmp_path / "forms.yaml").read_text(encoding="utf-8")
    assert old in text
    (tmp_path / "forms.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("required: \"method == 'green'\"", "required: \"methd == 'green'\"", "slots[5].required"),
        ("kind: select, source: categories", "kind: select, source: nowhere", "fields"),
        ("check: isbn", "check: isbm", "fields"),
        ("step: 2\n", "step: 13\n", "sections[0].step"),
        ("record.origin == 'foreign'", "record.orgin == 'foreign'", "slots"),
        ("name: kind_order", "name: no_such_check", "checks[0].name"),
        ("slot: certificate\n", "slot: certificat\n", "asserts[0]"),
    ],
)
def test_bad_forms_file_names_file_and_key(tmp_path: Path, old: str, new: str, where: str) -> None:
    with pytest.raises(CatalogError) as err:
        load_forms(_broken_copy(tmp_path, old, new))
    assert str(err.value).startswith("forms.yaml: ")
    assert where in str(err.value)


def test_packaged_guide_is_the_shared_spec() -> None:
    """The data quotes the guide from `data/guide.txt`; it must be the spec's own file."""
    from conftest import need
    from zctui.data.base import DATA_DIR

    name = Path("shared") / "spec" / "000_90fce8f7b9b91dae.txt"
    here = Path(__file__).resolve()
    found = [p / name for p in here.parents if (p / name).exists()]
    need(bool(found), f"the shared spec is not beside the checkout (looked above {here})")
    shared = found[0]
    assert (DATA_DIR / "guide.txt").read_bytes() == shared.read_bytes()
