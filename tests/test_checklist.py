"""The checklist engine on the demo applications and on targeted changes to them.

Each test changes what an applicant would change and checks what the sidebar would say:
the section's status, the rule id, and that the guide's words come with the item."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from zctui.data.catalog import load_catalog
from zctui.demo import build_demo
from zctui.domain.checklist import Checklist, run_checklist
from zctui.domain.models import Application
from zctui.store.repository import Store

YEAR = 2026
Demo = tuple[Store, Application, Application]


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[Store, Application, Application]]:
    path = tmp_path / "demo.sqlite3"
    done, half = build_demo(path, year=YEAR)
    with Store(path) as store:
        yield store, done, half


def check(store: Store, app: Application) -> Checklist:
    return run_checklist(store.load(app.id))


def messages(result: Checklist, rule: str | None = None) -> list[str]:
    return [i.message for i in result.errors if rule is None or i.rule == rule]


def row_id(store: Store, app: Application, table: str, n: int = 0) -> uuid.UUID:
    return store.load(app.id).rows(table)[n].id


def test_complete_demo_is_complete(demo: Demo) -> None:
    store, done, _ = demo
    result = check(store, done)
    assert result.complete, messages(result)
    assert result.warnings == []
    statuses = {s.number: s.status for s in result.steps}
    assert all(statuses[n] == "complete" for n in range(2, 12)), statuses


def test_half_done_lists_missing_items_with_rule_and_guide(
    demo: Demo,
) -> None:
    store, _, half = demo
    result = check(store, half)
    assert not result.complete
    assert all(i.rule.startswith("R") and i.guide for i in result.errors)
    assert "请选择民族" in messages(result, "R3.1")
    assert any("自主评审" in m for m in messages(result, "R2.5"))
    assert result.section("status").status == "incomplete"
    assert result.section("honour").status == "not_applicable"  # R9: enter only what applies


def test_r2_5_self_review_only_for_listed_units(demo: Demo) -> None:
    store, done, _ = demo
    store.set_field("application", done.id, "review_mode", "self_review")
    [msg] = messages(check(store, done), "R2.5")
    assert "必须选择“评审”" in msg
    item = check(store, done).errors[0]
    assert "如选错，将无法参评" in item.guide
    # 沧州市中心医院, main (health) series, 副高: must choose 自主评审 — and may.
    store.set_field("application", done.id, "unit_name", "沧州市中心医院")
    assert messages(check(store, done), "R2.5") == []
    store.set_field("application", done.id, "review_mode", "review")
    assert any("应选择“自主评审”" in m for m in messages(check(store, done), "R2.5"))


def test_r5_materials_follow_method_and_series(demo: Demo) -> None:
    store, done, _ = demo
    store.set_field("application", done.id, "method", "green")
    assert "请上传绿色通道备案表" in messages(check(store, done), "R5")
    store.set_field("application", done.id, "method", "exceptional")
    result = check(store, done)
    assert "请上传专业技术人员拟破格申报晋升高级专业技术职务任职资格登记表" in messages(
        result, "R5"
    )
    assert "请填写破格条件" in messages(result, "R11.1")
    # 医德医风考核表 (7) is required for the health series only.
    store.set_field("application", done.id, "method", "normal")
    m07 = next(a for a in store.load(done.id).attachments if a.slot == "m07")
    store.delete("attachment", m07.id)
    assert "请上传医德医风考核表" in messages(check(store, done), "R5")


def test_r5_items_1_to_4_and_15_always_required(demo: Demo) -> None:
    store, done, _ = demo
    for a in store.load(done.id).attachments:
        if a.owner_table == "application":
            store.delete("attachment", a.id)
    missing = messages(check(store, done), "R5") + messages(check(store, done), "R5.2")
    assert len(missing) == 6  # 1–4, 7 (health) and 15
    assert "请上传其他申报材料" in missing


def test_r7_1_education_proof_by_year_and_origin(demo: Demo) -> None:
    store, done, _ = demo
    edu = row_id(store, done, "education")
    store.set_field("education", edu, "graduated", "2001-07")
    result = check(store, done)
    assert messages(result, "R7.1") == ["第1条学习经历：请上传中国高等教育学历认证报告"]
    store.set_field("education", edu, "origin", "foreign")
    assert messages(check(store, done), "R7.1") == ["第1条学习经历：请上传国外学历学位认证书"]
    store.set_field("education", edu, "origin", "technical")
    store.set_field("education", edu, "graduated", "2009-07")
    assert messages(check(store, done), "R7.1") == ["第1条学习经历：请上传网上毕业证书查询结果"]


def test_r7_1_evaluated_education_required(demo: Demo) -> None:
    store, done, _ = demo
    store.set_field("education", row_id(store, done, "education"), "kind", "first")
    assert "缺少参评学历" in messages(check(store, done), "R7.1")


def test_r7_2_education_order_is_a_warning(demo: Demo) -> None:
    store, done, _ = demo
    store.add_record("education", done.id, kind="first", school="某卫校", major="中医",
                     level="40", origin="secondary", graduated="1999-07")  # fmt: skip
    result = check(store, done)
    assert [w.rule for w in result.warnings] == ["R7.2"]
    second = row_id(store, done, "education", 1)
    store.move("education", second, -1)
    assert check(store, done).warnings == []


def test_r7_6_certificate_exemption_and_switch(demo: Demo) -> None:
    store, done, _ = demo
    cert = row_id(store, done, "title_certificate")
    store.delete("title_certificate", cert)
    assert "缺少现专业技术职务任职资格证书" in messages(check(store, done), "R7.6")
    # 一步到位 without a title may skip the certificate: the section does not apply.
    status = store.single("current_status", done.id).id
    store.set_field("current_status", status, "has_title", "0")
    store.set_field("application", done.id, "method", "one_step")
    assert check(store, done).section("title_certificate").status == "not_applicable"
    # 转评 needs the earlier certificate as well.
    store.set_field("current_status", status, "has_title", "1")
    store.set_field("application", done.id, "method", "switch")
    msgs = messages(check(store, done), "R7.6")
    assert "转评申报还需录入转评前的专业技术资格证书" in msgs


def test_r7_8_combined_exam_only_where_it_applies(demo: Demo) -> None:
    store, done, _ = demo
    assert check(store, done).section("combined_exam_certificate").status == "complete"
    store.delete("combined_exam_certificate", row_id(store, done, "combined_exam_certificate"))
    assert messages(check(store, done), "R7.8")
    # 主治医师 (中级) is 以考代评: no 考评结合 certificate is asked for.
    store.set_field("application", done.id, "title", "233")
    assert check(store, done).section("combined_exam_certificate").status == "not_applicable"


def test_r8_1_appraisals_for_each_year_since_title(demo: Demo) -> None:
    store, done, _ = demo
    rows = store.load(done.id).rows("annual_appraisal")
    y2023 = next(r for r in rows if r.year == "2023")  # type: ignore[attr-defined]
    store.delete("annual_appraisal", y2023.id)
    assert messages(check(store, done), "R8.1") == ["缺少 2023 年度考核"]
    # Title obtained in 2024: only 2025 counts, the rest is not required.
    status = store.single("current_status", done.id).id
    store.set_field("current_status", status, "cur_title_date", "2024-06-30")
    assert messages(check(store, done), "R8.1") == []
    # Enterprise staff use social-security records instead (R8.1).
    store.set_field("current_status", status, "cur_title_date", "2018-12-20")
    store.set_field("current_status", status, "unit_type", "private_enterprise")
    assert messages(check(store, done), "R8.1") == []


def test_r4_1_k12_location_only_for_teachers(demo: Demo) -> None:
    store, done, _ = demo
    catalog = load_catalog()
    k12 = next(s for s in catalog.series if "k12" in s.tags)
    store.set_field("application", done.id, "category", k12.category)
    store.set_field("application", done.id, "series", k12.code)
    msgs = messages(check(store, done), "R4.1")
    assert "请选择中小学教师系列工作单位所在地类别" in msgs


def test_r11_2_rank_not_above_recommended(demo: Demo) -> None:
    store, done, _ = demo
    ov = store.single("overview_supplement", done.id).id
    store.set_field("overview_supplement", ov, "score_rank", "6")
    [msg] = messages(check(store, done), "R11.2")
    assert "得分排序大于单位共推荐人数" in msg
    store.set_field("overview_supplement", ov, "score_rank", "5")
    assert messages(check(store, done), "R11.2") == []


def test_r3_1_gender_and_birth_date_agree_with_id(demo: Demo) -> None:
    store, done, _ = demo
    basic = store.single("basic_info", done.id).id
    store.set_field("basic_info", basic, "gender", "2")
    store.set_field("basic_info", basic, "birth_date", "1980年10月11日")
    msgs = messages(check(store, done), "R3.1")
    assert any("性别与身份证号不一致" in m for m in msgs)
    assert any("出生日期与身份证号" in m for m in msgs)
    store.set_field("basic_info", basic, "birth_date", "1980.10.10")  # another way of writing it
    assert not any("出生日期" in m for m in messages(check(store, done), "R3.1"))


def test_r3_1_summary_limit_and_r10_1_field_limits(demo: Demo) -> None:
    store, done, _ = demo
    basic = store.single("basic_info", done.id).id
    store.set_field("basic_info", basic, "summary", "\n".join(["一行"] * 18))
    assert any("18" in m and "17" in m for m in messages(check(store, done), "R3.1"))
    paper = row_id(store, done, "paper")
    store.set_field("paper", paper, "title", "长" * 101)
    store.set_field("paper", paper, "journal_numbers", "ISSN 1001-1667 CN11-2166/R")
    msgs = messages(check(store, done), "R10.1")
    assert any("论文名称" in m and "101" in m and "100" in m for m in msgs)
    assert any("刊号" in m and "8" in m for m in msgs)  # the check digit it should have been


def test_r10_1_foreign_paper_needs_translation(demo: Demo) -> None:
    store, done, _ = demo
    store.set_field("paper", row_id(store, done, "paper"), "foreign_language", "1")
    assert messages(check(store, done), "R10.1") == ["第1条论文：请上传中文译文"]


def test_select_codes_checked_against_catalog(demo: Demo) -> None:
    store, done, _ = demo
    store.set_field("application", done.id, "specialty", "99")
    assert any("申报专业" in m for m in messages(check(store, done), "R2.2"))


def test_untouched_application_lists_every_required_field() -> None:
    from zctui.domain.aggregate import ApplicationData

    person_id = uuid.uuid4()
    result = run_checklist(ApplicationData(application=Application(person_id=person_id, year=YEAR)))
    assert "请选择申报类别" in messages(result, "R2.2")
    assert "请填写姓名" in messages(result, "R3.1")
    assert "请上传申报人照片" in messages(result, "R3.1")
    assert result.section("work_history").status == "incomplete"
