"""The attachment folder convention of a batch import (data/import_sheets.yaml): a folder per
ID number, files named by slot — `申报人照片.jpg` for the person's own slots, `论文1-封面.pdf`
for a slot of the person's first row on the 论文 sheet, `-2`, `-3` … for more files in a slot."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from zctui.data.forms import SectionSpec, SlotSpec, load_forms
from zctui.data.import_sheets import load_import_sheets
from zctui.exchange.layout import Layout, layouts


@dataclass(frozen=True)
class NamedFile:
    path: Path
    section: SectionSpec
    slot: SlotSpec
    layout: Layout | None = None  # a list sheet: the file belongs to its row number `index`
    index: int = 0


@cache
def _own_slots() -> dict[str, tuple[SectionSpec, SlotSpec]]:
    """The person's own slots (基本信息, 申报基础材料) by label and by code."""
    out: dict[str, tuple[SectionSpec, SlotSpec]] = {}
    for section in load_forms().sections:
        if section.kind == "list":
            continue
        for slot in section.slots:
            out[slot.label] = out[slot.code] = (section, slot)
    return out


@cache
def _prefixes() -> dict[str, Layout]:
    return {lay.sheet.file_prefix: lay for lay in layouts() if lay.is_list and lay.section.slots}


def _slot_of(section: SectionSpec, name: str) -> SlotSpec | None:
    return next((s for s in section.slots if name in (s.label, s.code)), None)


def parse_name(path: Path) -> NamedFile | str:
    """What a file in a person's folder is, or a Chinese message saying why it is not known."""
    naming = load_import_sheets().attachments
    stem = path.stem.strip()
    candidates = [stem]
    copy = re.fullmatch(rf"(.+){re.escape(naming.copy_separator)}(\d+)", stem)
    if copy:
        candidates.append(copy.group(1))
    problem: str | None = None
    for name in candidates:
        own = _own_slots().get(name)
        if own is not None:
            return NamedFile(path, own[0], own[1])
        sep = re.escape(naming.record_separator)
        m = re.fullmatch(rf"(\D+?)(\d+){sep}(.+)", name)
        if m and (lay := _prefixes().get(m.group(1))) is not None:
            slot = _slot_of(lay.section, m.group(3))
            if slot is not None:
                return NamedFile(path, lay.section, slot, lay, int(m.group(2)))
            known = "、".join(s.label for s in lay.section.slots)
            problem = problem or f"“{lay.name}”的记录没有附件项“{m.group(3)}”：可用 {known}"
    if problem is not None:
        return problem
    example = " 或 ".join(naming.examples[:2]) if naming.examples else ""
    return (
        f"无法识别的文件名“{path.name}”：应为附件项名称（如 申报人照片.jpg）或 "
        f"表名+序号-附件项名称（如 论文1-封面.pdf）{('；例：' + example) if example else ''}"
    )


def person_folders(root: Path) -> dict[str, Path]:
    """The folders under `root` by the ID number they are named with (`ID` or `ID_姓名`)."""
    out: dict[str, Path] = {}
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return out
    for e in entries:
        if not e.is_dir() or e.name.startswith("."):
            continue
        m = re.match(r"([0-9]{17}[0-9Xx]|[A-Za-z0-9]+)(?:[_\-\s].*)?$", e.name)
        if m:
            out.setdefault(m.group(1).upper(), Path(e.path))
    return out


def _copy_order(path: Path) -> tuple[str, int, str]:
    """`正文.pdf` before `正文-2.pdf` before `正文-10.pdf`: the order the slot keeps."""
    sep = re.escape(load_import_sheets().attachments.copy_separator)
    m = re.fullmatch(rf"(.+){sep}(\d+)", path.stem)
    return (m.group(1), int(m.group(2)), path.name) if m else (path.stem, 1, path.name)


def files_in(folder: Path) -> list[Path]:
    """The files of one person's folder (hidden files skipped), copies in their order."""
    try:
        found = [
            Path(e.path) for e in os.scandir(folder) if e.is_file() and not e.name.startswith(".")
        ]
    except OSError:
        return []
    return sorted(found, key=_copy_order)
