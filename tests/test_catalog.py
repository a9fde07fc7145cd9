"""The catalog as a user of the application sees it: the guide's cascade, codes, value lists.

Rule ids (R1.2, R2.2 …) refer to shared/spec/RULES.md; quoted texts come from the guide
(操作指南, 专业技术人员申报操作, 沧州市职改办 2023-07).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from zctui.data import catalog as catalog_module
from zctui.data.base import DATA_DIR, CatalogError
from zctui.data.catalog import (
    Catalog,
    Series,
    common_passwords,
    is_common_password,
    load_catalog,
)

# The operations guide (操作指南) the data quotes; a copy of shared/spec/000_90fce8f7b9b91dae.txt.
GUIDE = DATA_DIR / "guide.txt"

# The guide's paragraph on 申报方式 (第二步 3.), quoted exactly.
GUIDE_METHODS = (
    "机关分流人员是指从机关到企事业单位从事专业技术工作的人员；破格指按照评审条件中破格条件"
    "申报人员（仅限破学历、破资历）；一步到位指非公有制企业专业技术人员；绿色通道指按照符合"
    "沧州市2020年职称工作意见绿色通道评审条件的申报人员（今年填写绿色通道登记表的申报人员）；"
    "高技能人才指按照《关于进一步加强高技能人才与专业技术人才职业发展贯通的实施方案》"
    "冀职改办字（2021）41号相关政策申报评审的人员。"
)
GUIDE_COVID = "提示：新冠疫情一线人员选择正常晋升。"
GUIDE_SELF_REVIEW = (
    "我市申报人员，除沧州市中心医院、沧州市人民医院主系列申报高级和沧州师范学院、"
    "沧州医学高等专科学校、沧州职业技术学院、沧州幼儿师范高等专科学校、河北水利水电学院、"
    "渤海理工职业学院、沧州交通学院的主系列申报高级和中级选“自主评审”外，"
    "其他人必须选择“评审”。如选错，将无法参评。"
)
GUIDE_ENGINEERING = (
    "大数据工程",
    "标准化、计量、质量工程",
    "轻工工程",
    "测绘地理信息工程",
    "地质勘查工程",
    "电力工程",
    "电子工程",
    "纺织工程",
)
COLLEGES = (
    "沧州师范学院",
    "沧州医学高等专科学校",
    "沧州职业技术学院",
    "沧州幼儿师范高等专科学校",
    "河北水利水电学院",
    "渤海理工职业学院",
    "沧州交通学院",
)
DATA_FILES = ("series.yaml", "methods.yaml", "values.yaml")


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return load_catalog()


def series_named(cat: Catalog, label: str) -> Series:
    found = [s for s in cat.series if s.label == label]
    assert len(found) == 1, f"系列 {label} 应恰好有一个，实际 {len(found)}"
    return found[0]


# ------------------------------------------------------------------------- loading


def test_catalog_loads_with_version_and_is_cached(cat: Catalog) -> None:
    assert cat.version >= 1
    assert load_catalog() is load_catalog()  # the packaged catalog is read once


def test_custom_directory_is_not_cached(tmp_path: Path) -> None:
    for name in DATA_FILES:
        shutil.copy(DATA_DIR / name, tmp_path / name)
    first, second = load_catalog(tmp_path), load_catalog(tmp_path)
    assert first is not second
    assert first.series == second.series


# -------------------------------------------------------------------- R2.2 cascade


def test_r2_2_categories_are_the_guides_nine(cat: Catalog) -> None:
    labels = [c.label for c in cat.categories]
    assert labels == [
        "教学类",
        "卫生类",
        "工程类",
        "财经类",
        "科研类",
        "农技类",
        "文化类",
        "艺术类",
        "其他类",
    ]
    for c in cat.categories:
        assert cat.category(c.code) == c
        assert cat.series_in(c.code), f"{c.label} 下没有系列"
    assert cat.category("nope") is None


def test_r2_2_levels_are_1_to_5(cat: Catalog) -> None:
    assert [(lv.code, lv.label) for lv in cat.levels] == [
        ("1", "正高级"),
        ("2", "副高级"),
        ("3", "中级"),
        ("4", "助理级"),
        ("5", "员级"),
    ]


def test_r2_2_guide_example_cascade_health(cat: Catalog) -> None:
    """第六步 example: 卫生类 → 中医系列-中医 → 中医外科 → 副主任医师, 高级(副高)."""
    health = next(c for c in cat.categories if c.label == "卫生类")
    series = next(s for s in cat.series_in(health.code) if s.label == "中医系列-中医")
    assert "health" in series.tags
    assert any(sp.label == "中医外科" for sp in series.specialties)
    title = series.title_at(2)
    assert title is not None
    assert title.label == "副主任医师"
    assert title.level == 2 and title.code.endswith("2")
    assert series.title(title.code) == title
    assert cat.series_by_code(series.code) is series


def test_r2_2_guide_example_k12_specialty(cat: Catalog) -> None:
    """第二步 example: 申报专业 外语（高中） in the 中小学教师 series."""
    k12 = series_named(cat, "中小学教师")
    assert "k12" in k12.tags and "directed" not in k12.tags
    assert any(sp.label == "外语（高中）" for sp in k12.specialties)
    assert cat.category(k12.category).label == "教学类"  # type: ignore[union-attr]


def test_r2_2_every_engineering_series_the_guide_names_is_under_engineering(cat: Catalog) -> None:
    engineering = next(c for c in cat.categories if c.label == "工程类")
    under = {s.label: s for s in cat.series_in(engineering.code)}
    for label in GUIDE_ENGINEERING:
        assert label in under, f"工程类下缺少 {label}"
        assert "engineering" in under[label].tags
        assert under[label].gb == "080"
    power = under["电力工程"]
    assert any(sp.label == "电力工程" for sp in power.specialties)  # 第七步 example


def test_r2_3_k12_directed_series_exists(cat: Catalog) -> None:
    """乡村、特教25年的中小学教师，系列选择中小学（定评定用）."""
    directed = series_named(cat, "中小学（定评定用）")
    assert {"k12", "directed"} <= directed.tags
    assert cat.category(directed.category).label == "教学类"  # type: ignore[union-attr]
    title = directed.title_at(2)
    assert title is not None and title.label == "高级教师（定评定用）"  # 第二步 screenshot


def test_r2_2_national_series_are_all_present(cat: Catalog) -> None:
    labels = {s.label for s in cat.series}
    for wanted in (
        "高等学校教师",
        "中等职业学校教师",
        "技工院校教师",
        "技工院校实习指导教师",
        "实验技术",
        "自然科学研究",
        "社会科学研究",
        "工程技术",
        "医疗系列-临床",
        "药学系列-药学",
        "护理系列-护理",
        "技术系列-技术",
        "农业（农艺）",
        "农业（兽医）",
        "农业（畜牧）",
        "经济",
        "会计",
        "统计",
        "审计",
        "新闻（记者）",
        "新闻（编辑）",
        "出版（编审）",
        "出版（技术编辑）",
        "出版（校对）",
        "翻译",
        "播音主持",
        "图书资料",
        "文物博物",
        "档案",
        "群众文化",
        "艺术系列-演员",
        "艺术系列-舞台技术",
        "工艺美术",
        "体育教练",
        "律师",
        "公证",
        "船舶（驾驶）",
        "民航飞行（驾驶）",
        "思想政治（政工）",
        "计算机技术与软件",
    ):
        assert wanted in labels, f"缺少系列 {wanted}"


def test_r2_2_series_have_specialties_and_unique_codes(cat: Catalog) -> None:
    codes = [s.code for s in cat.series]
    assert len(codes) == len(set(codes))
    for s in cat.series:
        assert s.specialties, s.label
        assert len({sp.code for sp in s.specialties}) == len(s.specialties)
        assert s.specialty(s.specialties[0].code) == s.specialties[0]
        assert s.specialty("zz") is None and s.title("zzz") is None


def test_r2_2_title_codes_end_with_their_level(cat: Catalog) -> None:
    for s in cat.series:
        for t in s.titles:
            assert len(t.code) == 3 and t.code.isdigit(), (s.label, t.label)
            assert t.code[-1] == str(t.level), (s.label, t.label, t.code)
            if s.gb:
                assert t.code[:2] == s.gb[:2], (s.label, t.code)
            assert s.title_at(t.level) == t


def test_r2_2_provincial_series_has_no_gb_code(cat: Catalog) -> None:
    assert series_named(cat, "思想政治（政工）").gb == ""
    assert all(s.gb.endswith("0") for s in cat.series if s.gb)


def test_r2_2_pinyin_filtering(cat: Catalog) -> None:
    zy = series_named(cat, "中医系列-中医")
    assert [sp.label for sp in zy.specialties if sp.matches("zywk")] == ["中医外科"]
    assert [s.label for s in cat.series if s.matches("dzgc")] == ["电子工程"]
    assert series_named(cat, "电力工程").matches("dlgc")
    assert any(s.label == "中小学（定评定用）" for s in cat.series if s.matches("zxx"))


def test_r7_7_r7_8_evaluation_per_title(cat: Catalog) -> None:
    """以考代评 / 考评结合 decide which exam-certificate sections apply."""
    for s in cat.series:
        for t in s.titles:
            if "health" in s.tags:
                want = "exam" if t.level >= 3 else "exam_review"
                assert t.evaluation == want, (s.label, t.label)
    for label in ("经济", "会计", "统计", "审计"):
        s = series_named(cat, label)
        got = {t.level: t.evaluation for t in s.titles}
        assert got == {1: "review", 2: "exam_review", 3: "exam", 4: "exam", 5: "exam"}, label
    translation = {t.level: t.evaluation for t in series_named(cat, "翻译").titles}
    assert translation == {1: "review", 2: "review", 3: "exam", 4: "exam"}
    for label in ("出版（编审）", "出版（技术编辑）", "出版（校对）"):
        for t in series_named(cat, label).titles:
            assert t.evaluation == ("exam" if t.level >= 3 else "review"), t.label
    assert {t.evaluation for t in series_named(cat, "计算机技术与软件").titles} == {"exam"}
    assert {t.evaluation for t in series_named(cat, "电子工程").titles} == {"review"}


# --------------------------------------------------------------------- R2.4 申报方式


def test_r2_4_methods_and_the_guides_definitions(cat: Catalog) -> None:
    assert [m.label for m in cat.methods] == [
        "正常申报",
        "机关分流人员申报",
        "一步到位",
        "绿色通道",
        "破格申报",
        "转评",
        "高技能人才申报",
    ]
    expected_start = {
        "agency": "机关分流人员是指",
        "exceptional": "破格指",
        "one_step": "一步到位指",
        "green": "绿色通道指",
        "high_skill": "高技能人才指",
    }
    for code, start in expected_start.items():
        m = cat.method(code)
        assert m is not None
        assert m.definition.startswith(start)
        assert m.definition in GUIDE_METHODS, f"{m.label} 的说明不是指南原文"
    normal = cat.method("normal")
    assert normal is not None and normal.definition in GUIDE_COVID
    switch = cat.method("switch")
    assert switch is not None and switch.definition == ""  # the guide gives none
    assert cat.method("nope") is None


def test_r2_4_definitions_match_the_guide_file(cat: Catalog) -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    assert GUIDE_METHODS in guide
    for m in cat.methods:
        assert m.definition in guide
    assert cat.self_review_rule in guide.replace("**", "")


def test_r7_6_methods_that_may_skip_the_title_certificate(cat: Catalog) -> None:
    exempt = {m.code for m in cat.methods if m.exempts_title_certificate}
    assert exempt == {"agency", "one_step", "green"}


# --------------------------------------------------------------------- R2.5 评审方式


def test_r2_5_review_modes(cat: Catalog) -> None:
    assert [(m.code, m.label) for m in cat.review_modes] == [
        ("review", "评审"),
        ("self_review", "自主评审"),
    ]
    assert all(m.help for m in cat.review_modes)
    assert cat.review_mode("self_review") is not None
    assert cat.review_mode("x") is None


def test_r2_5_self_review_rule_is_the_guides_sentence(cat: Catalog) -> None:
    assert cat.self_review_rule == GUIDE_SELF_REVIEW
    assert "**" not in cat.self_review_rule


def test_r2_5_hospitals_may_self_review_senior_health_only(cat: Catalog) -> None:
    zy = series_named(cat, "中医系列-中医").code
    for hospital in ("沧州市中心医院", "沧州市人民医院"):
        assert cat.may_self_review("沧州市", hospital, zy, 2)
        assert cat.may_self_review("沧州市", hospital, zy, 1)
        assert not cat.may_self_review("沧州市", hospital, zy, 3)
        assert not cat.may_self_review("沧州市", hospital, "010", 2)  # not its main series
    for s in cat.series:
        if "health" in s.tags:
            assert cat.may_self_review("沧州市", "沧州市中心医院", s.code, 2), s.label


def test_r2_5_colleges_may_self_review_senior_and_intermediate(cat: Catalog) -> None:
    higher_ed = [s for s in cat.series if "higher_ed" in s.tags]
    assert [s.label for s in higher_ed] == ["高等学校教师"]
    code = higher_ed[0].code
    for college in COLLEGES:
        for level in (1, 2, 3):
            assert cat.may_self_review("沧州市", college, code, level), (college, level)
        assert not cat.may_self_review("沧州市", college, code, 4)
    assert not cat.may_self_review("沧州市", "沧州师范学院", "080.dz", 2)


def test_r2_5_everyone_else_must_choose_review(cat: Catalog) -> None:
    assert not cat.may_self_review("沧州市", "沧州市第二医院", "230.zy", 2)
    assert not cat.may_self_review("沧州市", "", "010", 2)
    assert not cat.may_self_review("邢台市", "沧州市中心医院", "230.zy", 2)
    assert cat.may_self_review(" 沧州市 ", " 沧州师范学院 ", "010", 3)  # stray spaces
    units = {u.name for u in cat.self_review["沧州市"]}
    assert units == {"沧州市中心医院", "沧州市人民医院", *COLLEGES}


# --------------------------------------------------------------------- value lists


@pytest.mark.parametrize(
    "code",
    [
        "id_type",
        "ethnicity",
        "politics",
        "health",
        "gender",
        "appraisal_grade",
        "unit_type",
        "special_experience",
        "author_rank",
        "journal_rank",
        "book_role",
        "education_level",
        "degree",
        "education_kind",
        "education_origin",
        "k12_location",
        "certificate_kind",
        "yes_no",
        "honour_level",
    ],
)
def test_value_lists_exist(cat: Catalog, code: str) -> None:
    vl = cat.values(code)
    assert vl.code == code and vl.label and vl.items
    assert len({i.code for i in vl.items}) == len(vl.items)


def test_unknown_value_list_names_the_list(cat: Catalog) -> None:
    with pytest.raises(CatalogError, match="no_such_list"):
        cat.values("no_such_list")


def test_r3_1_ethnicity_gb_3304(cat: Catalog) -> None:
    eth = cat.values("ethnicity")
    assert len(eth.items) >= 56
    assert eth.label_of("01") == "汉族"
    assert eth.label_of("56") == "基诺族"
    assert [i.code for i in eth.items[:56]] == [f"{n:02d}" for n in range(1, 57)]
    assert eth.get("98") is not None
    assert eth.label_of("xx") == "xx"  # unknown code shown as itself
    assert eth.get("xx") is None


def test_r3_1_id_type_politics_gender(cat: Catalog) -> None:
    assert cat.values("id_type").items[0].label == "居民身份证(户口簿)"  # the guide's default
    assert cat.values("id_type").label_of("id_card") == "居民身份证(户口簿)"
    politics = cat.values("politics")
    assert [i.code for i in politics.items] == [f"{n:02d}" for n in range(1, 14)]
    assert politics.label_of("01") == "中共党员" and politics.label_of("13") == "群众"
    assert [(i.code, i.label) for i in cat.values("gender").items] == [("1", "男"), ("2", "女")]
    assert cat.values("politics").items[0].matches("zgdy")


def test_r8_1_appraisal_grades_hold_both_sets(cat: Catalog) -> None:
    labels = {i.label for i in cat.values("appraisal_grade").items}
    assert {
        "优秀",
        "合格",
        "基本合格",
        "不合格",
        "称职",
        "基本称职",
        "不称职",
        "未定等次",
    } == labels


def test_r8_3_special_experience_is_the_guides_six(cat: Catalog) -> None:
    labels = [i.label for i in cat.values("special_experience").items]
    assert labels == ["援藏", "援疆", "援外", "医务人员抗疫一线", "支教一年", "支医"]


def test_r7_2_education_kind_order(cat: Catalog) -> None:
    items = cat.values("education_kind").items
    assert [(i.code, i.label) for i in items] == [
        ("first", "第一学历"),
        ("highest", "最高学历"),
        ("evaluated", "参评学历"),
        ("other", "其他学历"),
    ]


def test_r7_1_education_origin_and_r7_9_certificate_kind(cat: Catalog) -> None:
    origins = {i.code for i in cat.values("education_origin").items}
    assert origins == {"mainland", "foreign", "hmt", "party_school", "secondary", "technical"}
    kinds = {i.code for i in cat.values("certificate_kind").items}
    assert kinds == {"high_skill", "practice", "other"}


def test_r11_1_health_and_r10_ranks(cat: Catalog) -> None:
    health = cat.values("health")
    assert health.label_of("1") == "健康或良好" and health.label_of("7") == "残疾"
    ranks = [i.label for i in cat.values("author_rank").items]
    assert ranks[:3] == ["独著", "第一作者", "通讯作者"]
    assert cat.values("yes_no").label_of("1") == "是"


# ------------------------------------------------------------- R1.2 weak passwords


def test_r1_2_common_passwords() -> None:
    pw = common_passwords()
    assert len(pw) >= 150
    for weak in (
        "88888888",
        "123456",
        "password",
        "qwerty",
        "12345678",
        "11111111",
        "Aa123456!",
        "P@ssw0rd",
    ):
        assert weak in pw
    assert not any(p.startswith("#") for p in pw)
    assert is_common_password("p@SSW0RD") and not is_common_password("Zc#8tq!Lw2")
    assert pw == catalog_module.COMMON_PASSWORDS
    with pytest.raises(AttributeError):
        _ = catalog_module.NO_SUCH_NAME  # type: ignore[attr-defined]


# ---------------------------------------------------------- broken data is refused


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    for name in DATA_FILES:
        shutil.copy(DATA_DIR / name, tmp_path / name)
    return tmp_path


def edit(directory: Path, name: str, old: str, new: str, count: int = 1) -> None:
    path = directory / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def series_index(label: str) -> int:
    return next(i for i, s in enumerate(load_catalog().series) if s.label == label)


def load_error(directory: Path) -> str:
    with pytest.raises(CatalogError) as info:
        load_catalog(directory)
    return str(info.value)


def test_broken_title_code_last_digit(data_copy: Path) -> None:
    edit(data_copy, "series.yaml", '{code: "013", label: 讲师', '{code: "014", label: 讲师')
    i = series_index("高等学校教师")
    msg = load_error(data_copy)
    assert msg.startswith(f"series.yaml: series[{i}].titles[")
    assert "013" not in msg and "014" in msg and "末位必须是等级 3" in msg


def test_broken_title_code_length_and_prefix(data_copy: Path) -> None:
    edit(data_copy, "series.yaml", '{code: "083", label: 工程师', '{code: "0823", label: 工程师')
    i = series_index("工程技术")
    assert load_error(data_copy).startswith(f"series.yaml: series[{i}].titles[2].code: 编码 0823")

    edit(data_copy, "series.yaml", '{code: "0823", label: 工程师', '{code: "093", label: 工程师')
    msg = load_error(data_copy)
    assert msg.startswith(f"series.yaml: series[{i}].titles[2].code:") and "08" in msg


def test_broken_unknown_category(data_copy: Path) -> None:
    edit(data_copy, "series.yaml", "category: ws", "category: wsx")
    i = series_index("医疗系列-临床")
    msg = load_error(data_copy)
    assert msg.startswith(f"series.yaml: series[{i}].category: 未知的类别 'wsx'")


def test_broken_unknown_tag(data_copy: Path) -> None:
    edit(data_copy, "series.yaml", "tags: [higher_ed]", "tags: [higher_ed, university]")
    msg = load_error(data_copy)
    assert msg.startswith("series.yaml: series[0].tags: 未知的标签 university")


def test_broken_yaml_syntax(data_copy: Path) -> None:
    edit(data_copy, "values.yaml", "{code: passport, label: 护照}", "{code: passport, label: 护照")
    msg = load_error(data_copy)
    assert msg.startswith("values.yaml: YAML 格式错误")
    assert "line" in msg


def test_broken_duplicate_series_code(data_copy: Path) -> None:
    edit(data_copy, "series.yaml", 'code: "080.dz"', 'code: "080.dl"')
    i = series_index("电子工程")
    assert load_error(data_copy) == f"series.yaml: series[{i}].code: 重复的编码 080.dl"


def test_broken_duplicate_value_code(data_copy: Path) -> None:
    edit(data_copy, "values.yaml", '{code: "02", label: 蒙古族}', '{code: "01", label: 蒙古族}')
    msg = load_error(data_copy)
    assert msg.startswith("values.yaml: value_lists[") and ".items[1].code: 重复的编码 01" in msg


def test_broken_self_review_unknown_series(data_copy: Path) -> None:
    edit(
        data_copy,
        "methods.yaml",
        '{name: 沧州交通学院, series: ["010"]',
        '{name: 沧州交通学院, series: ["011"]',
    )
    msg = load_error(data_copy)
    assert msg.startswith("methods.yaml: self_review.沧州市[8].series[0]: 未知的系列 '011'")


def test_broken_self_review_level(data_copy: Path) -> None:
    edit(data_copy, "methods.yaml", "levels: [1, 2]", "levels: [1, 6]")
    msg = load_error(data_copy)
    assert msg.startswith("methods.yaml: self_review.沧州市[0].levels[1]: 等级必须是 1–5")


def test_broken_structure_names_the_key(data_copy: Path) -> None:
    """A type error found by the schema itself also names file and key path."""
    edit(
        data_copy,
        "series.yaml",
        '{code: "011", label: 教授, level: 1}',
        '{code: "011", label: 教授, level: one}',
    )
    msg = load_error(data_copy)
    assert msg.startswith("series.yaml: series[0].titles[0].level:")


def test_broken_unquoted_code_is_refused(data_copy: Path) -> None:
    """YAML would read 01 as a number; codes must be quoted strings."""
    edit(data_copy, "series.yaml", '{code: "01", label: 哲学}', "{code: 01, label: 哲学}")
    assert load_error(data_copy).startswith("series.yaml: series[0].specialties[0].code:")


def test_broken_missing_file(data_copy: Path) -> None:
    (data_copy / "methods.yaml").unlink()
    assert load_error(data_copy) == "methods.yaml: 文件不存在"


def test_broken_unknown_key_is_refused(data_copy: Path) -> None:
    edit(data_copy, "methods.yaml", "    exempts_title_certificate: true", "    exempt: true")
    assert load_error(data_copy).startswith("methods.yaml: methods[1].exempt:")
