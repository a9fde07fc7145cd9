"""The CJK font the PDFs embed: configured, else found on the system, else the bare CID font.

A PDF that only names a CID font (STSong-Light) shows empty boxes wherever the reader has no
Chinese font (poppler without fonts-noto-cjk, for one), so a real font file is embedded (as a
subset) whenever one can be found. Only when none can, the CID font is used, and the caller
gets a warning to show.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

#: The font reportlab and every PDF reader know by name (Adobe-GB1); nothing is embedded.
CID_FALLBACK = "STSong-Light"
#: A character every usable font must have: a font without it is not a Chinese font.
PROBE = ord("中")

# Where the usual Chinese fonts live; the first that exists and holds 中 wins.
KNOWN_PATHS: tuple[str, ...] = (
    # Debian/Ubuntu: fonts-noto-cjk, fonts-wqy-microhei, fonts-wqy-zenhei, fonts-arphic-uming
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    # Fedora, Arch
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    # macOS
    "/System/Library/Fonts/STHeiti Light.ttc",
    "/System/Library/Fonts/Hiragino Sans GB.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
    # Windows
    r"C:\Windows\Fonts\simsun.ttc",
    r"C:\Windows\Fonts\msyh.ttc",
    r"C:\Windows\Fonts\simhei.ttf",
)
# In a collection, prefer the simplified-Chinese face (Noto's order is JP, KR, SC, TC, HK).
_PREFERRED_FACE = (" SC", "GB", "SimSun", "Microsoft YaHei", "WenQuanYi", "Heiti SC")


@dataclass(frozen=True)
class FontChoice:
    """The font to draw with: a file (and its face in a collection), or the CID fallback."""

    path: Path | None
    index: int = 0
    name: str = CID_FALLBACK
    warning: str | None = None

    @property
    def embedded(self) -> bool:
        return self.path is not None


def _faces(path: Path, only: int | None = None) -> list[tuple[int, str]]:
    """The faces of a font file that hold Chinese characters: (index, family name).
    Read directly (a binary search of the cmap, microseconds a face); a file that reading
    does not understand is given to fontTools."""
    from zctui.pdf.cidfont import Sfnt, Unsupported, face_count

    try:
        out: list[tuple[int, str]] = []
        for i in range(face_count(path)) if only is None else [only]:
            face = Sfnt(path, i)
            try:
                if face.gid(PROBE):
                    out.append((i, face.family_name() or path.stem))
            finally:
                face.close()
        return out
    except (OSError, Unsupported):
        return _faces_fonttools(path, only)


def _faces_fonttools(path: Path, only: int | None = None) -> list[tuple[int, str]]:
    """As `_faces`, by fontTools (a CJK cmap takes ~0.1 s to parse)."""
    from fontTools.ttLib import TTCollection, TTFont, TTLibError  # type: ignore[import-untyped]

    try:
        if path.suffix.lower() in (".ttc", ".otc"):
            fonts = list(TTCollection(str(path), lazy=True).fonts)
        else:
            fonts = [TTFont(str(path), lazy=True)]
    except (OSError, TTLibError, AssertionError, ValueError):
        return []
    out: list[tuple[int, str]] = []
    for i, font in enumerate(fonts):
        if only is not None and i != only:
            continue
        try:
            cmap = font.getBestCmap() or {}
            name = font["name"].getBestFamilyName() or path.stem
        except Exception:  # a damaged face: skip it, keep looking at the others
            continue
        if PROBE in cmap:
            out.append((i, str(name)))
    return out


def _choose(path: Path, index: int | None) -> FontChoice | None:
    faces = _faces(path, index)
    if not faces:
        return None
    if index is not None:
        found = next(((i, n) for i, n in faces if i == index), None)
        if found is None:
            return None
        return FontChoice(path, found[0], found[1])
    for pref in _PREFERRED_FACE:
        for i, name in faces:
            if pref in name:
                return FontChoice(path, i, name)
    i, name = faces[0]
    return FontChoice(path, i, name)


def _fc_match() -> tuple[Path, int] | None:
    """fontconfig's own answer for simplified Chinese (Linux, BSD)."""
    exe = shutil.which("fc-match")
    if exe is None:
        return None
    try:
        out = subprocess.run(
            [exe, "-f", "%{file}\n%{index}", ":lang=zh-cn"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.split("\n")
    except (OSError, subprocess.SubprocessError):
        return None
    if not out or not out[0]:
        return None
    index = int(out[1]) if len(out) > 1 and out[1].strip().isdigit() else 0
    return Path(out[0]), index


def _windows_fonts() -> list[str]:
    root = os.environ.get("WINDIR")
    if sys.platform != "win32" or not root:
        return []
    return [str(Path(root) / "Fonts" / n) for n in ("simsun.ttc", "msyh.ttc", "simhei.ttf")]


def find_cjk_font(configured: Path | str | None = None, index: int | None = None) -> FontChoice:
    """The font to embed. Order: `configured` (Settings.cjk_font, from ZCTUI_CJK_FONT, with
    its face index), fontconfig's match for zh-cn, the known paths; else the CID font, with
    a warning in Chinese for the caller to show."""
    notes: list[str] = []
    if configured:
        path = Path(configured).expanduser()
        choice = _choose(path, index) if path.is_file() else None
        if choice is not None:
            return choice
        notes.append(f"指定的中文字体 {path} 无法使用（文件不存在、格式不支持或不含中文字形）")
    matched = _fc_match()
    if matched is not None:
        choice = _choose(*matched)
        if choice is not None:
            return _with_notes(choice, notes)
    for candidate in (*KNOWN_PATHS, *_windows_fonts()):
        path = Path(candidate)
        if path.is_file() and (choice := _choose(path, None)) is not None:
            return _with_notes(choice, notes)
    notes.append(
        "没有找到可以嵌入的中文字体，已改用阅读器内置字体 STSong-Light（未嵌入）："
        "在没有安装中文字体的电脑上，中文会显示为空白方框。"
        "请安装中文字体（如 Debian/Ubuntu：apt-get install fonts-noto-cjk），"
        "或用环境变量 ZCTUI_CJK_FONT 指定字体文件后重新导出。"
    )
    return FontChoice(None, warning="；".join(notes))


def _with_notes(choice: FontChoice, notes: list[str]) -> FontChoice:
    if not notes:
        return choice
    used = f"，已改用 {choice.name}（{choice.path}）"
    return FontChoice(choice.path, choice.index, choice.name, warning=notes[0] + used)
