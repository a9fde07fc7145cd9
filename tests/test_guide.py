"""The guide (issue 8): the operations guide's twelve steps as data, every text the guide's
own words under its own step (checked when loaded), and `zctui guide` printing them."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from test_cli import zctui
from zctui.data.base import DATA_DIR, CatalogError
from zctui.data.forms import load_forms
from zctui.data.guide import Heading, load_guide, normalise

HEADINGS = ["第一步：登录", "第二步，个人申报设置", "第三步：录入基础信息", "第四步：申报人现状",
            "第五步：申报基础材料", "第六步：申报信息", "第七步：学习资历",
            "第八步:专业技术工作经历", "第九步：业绩成果", "第十步：论文论著",
            "第十一步：一览表补充信息", "第十二步：提交审核"]  # fmt: skip


def test_twelve_steps_in_the_guide_s_words() -> None:
    guide = load_guide()
    assert [s.heading for s in guide.steps] == HEADINGS
    whole = normalise((DATA_DIR / "guide.txt").read_text(encoding="utf-8"))
    for step in guide.steps:
        assert step.text, step.heading
        for part in step.text:
            assert normalise(part.h if isinstance(part, Heading) else part) in whole
    # The step the guide's 1—4 rule belongs to, as Markdown with its own heading.
    md = guide.step(5).markdown()
    assert md.startswith("## 第五步：申报基础材料") and "1—4为必填项" in md
    # Each step but the login and the generated 申报信息 leads to a part of the form.
    forms = load_forms()
    assert [s.number for s in guide.steps if not forms.sections_of(s.number)] == [1, 6, 12]


def test_r2_7_instructions_hold_every_step_and_say_what_they_are() -> None:
    md = load_guide().instructions_markdown()
    assert md.startswith("# 职称申报评审系统 操作指南")
    assert "填报说明" in md and all(h in md for h in HEADINGS)


def _copy_with(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    shutil.copy(DATA_DIR / "guide.txt", tmp_path / "guide.txt")
    raw = yaml.safe_load((DATA_DIR / "guide_steps.yaml").read_text(encoding="utf-8"))
    edit(raw)
    (tmp_path / "guide_steps.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    return tmp_path


def test_a_paraphrase_is_refused_naming_the_place(tmp_path: Path) -> None:
    def paraphrase(raw: dict[str, Any]) -> None:
        raw["steps"][4]["text"][0] = "1. 申报人员依次上传PDF材料，前4项必填。"

    with pytest.raises(CatalogError, match=r"steps\[4\]\.text\[0\].*原文"):
        load_guide(_copy_with(tmp_path, paraphrase))


def test_a_quote_under_the_wrong_step_is_refused(tmp_path: Path) -> None:
    def misplace(raw: dict[str, Any]) -> None:
        raw["steps"][3]["text"].append(raw["steps"][2]["text"][0])

    with pytest.raises(CatalogError, match=r"steps\[3\]\.text\[\d+\].*第四步"):
        load_guide(_copy_with(tmp_path, misplace))


def test_a_missing_step_is_refused(tmp_path: Path) -> None:
    def drop(raw: dict[str, Any]) -> None:
        del raw["steps"][6]

    with pytest.raises(CatalogError, match="第1到第12步"):
        load_guide(_copy_with(tmp_path, drop))


def test_cli_guide_prints_the_twelve_steps_or_one() -> None:
    every = zctui("guide")
    assert every.returncode == 0, every.stderr
    lines = every.stdout.splitlines()
    assert [ln for ln in lines if ln in HEADINGS] == HEADINGS
    assert "→ 在 zctui 中：个人基本信息、社保缴费信息" in every.stdout
    five = zctui("guide", "5")
    assert five.returncode == 0
    assert five.stdout.strip().startswith("第五步：申报基础材料")
    assert "1. 申报人员按申报专业依次上传PDF材料，1—4为必填项。" in five.stdout
    assert "第四步" not in five.stdout and "第六步" not in five.stdout
    md = zctui("guide", "5", "--markdown")
    assert md.stdout.startswith("## 第五步：申报基础材料")
    bad = zctui("guide", "13")
    assert bad.returncode == 2 and "没有第13步" in bad.stderr
