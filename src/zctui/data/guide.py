"""The operations guide's twelve steps (guide_steps.yaml) for `zctui guide` and the guide
screen: the guide's own words, as Markdown.

Loading checks that every text is verbatim in guide.txt, under its own step's heading and
in the guide's order (compared without whitespace and the guide's `**` bold markers, as
tests/test_guide_quotes.py compares forms.yaml's quotes)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from pydantic import Field

from zctui.data.base import DATA_DIR, CatalogError, Frozen, validate_file

GUIDE_FILE = "guide.txt"
# R2.7: the province's 填报说明 is a download of the original system that we do not hold;
# what we hold and show is the city office's guide, which walks through the same form.
INSTRUCTIONS_NOTE = (
    "《河北省职称申报评审系统填报说明》原文未收录在本程序中；"
    "以下是沧州市职改办《职称申报评审系统 操作指南》（2023年7月）的全文要点，"
    "逐字引用，按十二步排列。"
)


def normalise(text: str) -> str:
    return re.sub(r"\s+", "", text.replace("**", ""))


class Heading(Frozen):
    h: str = Field(min_length=1)


class GuideStep(Frozen):
    number: int = Field(ge=1, le=12)
    heading: str = Field(min_length=1)  # the guide's own: 第一步：登录
    text: tuple[str | Heading, ...] = Field(min_length=1)

    def markdown(self, level: int = 2) -> str:
        out = [f"{'#' * level} {self.heading}"]
        for part in self.text:
            out.append(f"{'#' * (level + 1)} {part.h}" if isinstance(part, Heading) else part)
        return "\n\n".join(out) + "\n"

    def plain(self) -> list[str]:
        """The step as lines of text (the CLI): headings stand on their own lines."""
        return [p.h if isinstance(p, Heading) else p for p in self.text]


class Guide(Frozen):
    cover: tuple[str, ...]
    steps: tuple[GuideStep, ...]

    def step(self, number: int) -> GuideStep:
        for s in self.steps:
            if s.number == number:
                return s
        raise KeyError(number)

    def instructions_markdown(self) -> str:
        """R2.7: the whole guide, step after step, under its cover."""
        head = "# " + " ".join(self.cover)
        body = "\n".join(s.markdown() for s in self.steps)
        return f"{head}\n\n> {INSTRUCTIONS_NOTE}\n\n{body}"


def load_guide(directory: Path | None = None) -> Guide:
    if directory is None:
        return _default_guide()
    return _load(directory)


@cache
def _default_guide() -> Guide:
    return _load(DATA_DIR)


def _load(directory: Path) -> Guide:
    name = "guide_steps.yaml"
    guide = validate_file(Guide, name, directory)
    numbers = [s.number for s in guide.steps]
    if numbers != list(range(1, 13)):
        raise CatalogError(f"{name}: steps: 须依次为第1到第12步，现为 {numbers}")
    source = (directory / GUIDE_FILE).read_text(encoding="utf-8")
    whole = normalise(source)
    for i, line in enumerate(guide.cover):
        if normalise(line) not in whole:
            raise CatalogError(f"{name}: cover[{i}]: 不是指南原文：{line}")
    lines = source.splitlines()
    starts: list[int] = []
    for i, step in enumerate(guide.steps):
        at = next((k for k, ln in enumerate(lines) if ln.strip() == step.heading), None)
        if at is None or (starts and at <= starts[-1]):
            raise CatalogError(f"{name}: steps[{i}].heading: 指南中没有这一标题：{step.heading}")
        starts.append(at)
    for i, step in enumerate(guide.steps):
        end = starts[i + 1] if i + 1 < len(starts) else len(lines)
        span = normalise("\n".join(lines[starts[i] + 1 : end]))
        pos = 0
        for j, part in enumerate(step.text):
            text = normalise(part.h if isinstance(part, Heading) else part)
            found = span.find(text, pos)
            if not text or found < 0:
                raise CatalogError(
                    f"{name}: steps[{i}].text[{j}]: 不是指南{step.heading}下的原文，"
                    "或与指南的先后顺序不同"
                )
            pos = found + len(text)
    return guide
