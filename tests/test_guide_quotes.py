"""Every `guide` text in forms.yaml is the guide's own words.

Rules R1–R12: the guide's words are quoted, never paraphrased. The application shows each
`guide` (on steps, sections, fields, slots, require entries, asserts and checks) as
"指南：<text>", so each one must be a single contiguous verbatim passage of the operations
guide (操作指南, 沧州市职改办 2023-07; data/guide.txt, a copy of
shared/spec/000_90fce8f7b9b91dae.txt). Our own explanations belong in `help` or `message`.

Both sides are compared after removing the guide's bold markers (`**`) and all whitespace,
nothing else: punctuation must match exactly (the guide mixes half- and full-width commas).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from zctui.data.base import DATA_DIR
from zctui.data.forms import Forms, load_forms
from zctui.data.guide import normalise

GUIDE = DATA_DIR / "guide.txt"


class Quoting(Protocol):
    @property
    def guide(self) -> str: ...


def guide_texts(forms: Forms) -> Iterator[tuple[str, str]]:
    """(location, text) of every non-empty `guide` in the forms."""
    for i, step in enumerate(forms.steps):
        yield f"steps[{i}].guide", step.guide
        yield f"steps[{i}].notes", step.notes
    for i, sec in enumerate(forms.sections):
        at = f"sections[{i}]"
        yield f"{at}.guide", sec.guide
        parts: tuple[tuple[str, Sequence[Quoting]], ...] = (
            ("fields", sec.fields),
            ("slots", sec.slots),
            ("require", sec.require),
            ("asserts", sec.asserts),
            ("checks", sec.checks),
        )
        for kind, items in parts:
            for j, item in enumerate(items):
                yield f"{at}.{kind}[{j}].guide", item.guide


def test_guide_file_is_the_spec_copy() -> None:
    assert "职称申报评审系统 操作指南" in GUIDE.read_text(encoding="utf-8")


def test_every_guide_is_a_verbatim_quote() -> None:
    guide = normalise(GUIDE.read_text(encoding="utf-8"))
    texts = [(where, text) for where, text in guide_texts(load_forms()) if text.strip()]
    assert texts, "no guide texts found"
    bad = [f"{where}: {text}" for where, text in texts if normalise(text) not in guide]
    assert not bad, "not verbatim in the guide (R1–R12):\n" + "\n".join(bad)


def test_normalise_keeps_punctuation() -> None:
    assert normalise("检查个人基本信息是否正确,手动") == "检查个人基本信息是否正确,手动"
    assert normalise("单击 **立即申报** 自动") == "单击立即申报自动"
    assert normalise("检查个人基本信息是否正确，") not in normalise("检查个人基本信息是否正确,")
