"""Choosing files with the keyboard: a path typed with Tab completion (`~` works, folders end
in /), and the folder's entries listed below it, where Space marks files and Enter opens a
folder or takes the marked files. The list shows only the files a slot takes (PDFs, or images
for the R3.1 photo); a full path typed by hand is taken whatever it is, and checked."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

PDF_SUFFIXES = frozenset({".pdf"})
IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".heic", ".heif"}
)
MAX_ENTRIES = 500  # a huge folder: the first ones, and a line saying to type more


def suffix_filter(suffixes: Iterable[str]) -> Callable[[str], bool]:
    wanted = frozenset(s.lower() for s in suffixes)
    return lambda name: Path(name).suffix.lower() in wanted


@dataclass(frozen=True)
class Entry:
    path: Path
    is_dir: bool

    @property
    def name(self) -> str:
        return self.path.name


def split_typed(value: str) -> tuple[str, str]:
    """What was typed, as (folder part, name begun): '~/扫描/封' → ('~/扫描/', '封')."""
    if value == "~":
        return "~/", ""
    head, sep, tail = value.rpartition("/")
    return head + sep, tail


def folder_of(head: str) -> Path:
    return Path(os.path.expanduser(head)) if head else Path.cwd()


def shown(path: Path) -> str:
    """A folder as a person types it: under the home folder with ~, always ending in /."""
    home = Path.home()
    text = str(path)
    if path == home:
        return "~/"
    if path.is_relative_to(home):
        text = "~/" + str(path.relative_to(home))
    return text.rstrip("/") + "/"


def list_folder(folder: Path, *, hidden: bool = False) -> list[Entry]:
    """Folders first, then files, each by name; unreadable folders give nothing."""
    try:
        with os.scandir(folder) as it:
            found = [
                Entry(Path(e.path), e.is_dir()) for e in it if hidden or not e.name.startswith(".")
            ]
    except OSError:
        return []
    return sorted(found, key=lambda e: (not e.is_dir, e.name))


def candidates(value: str, accept: Callable[[str], bool]) -> list[Entry]:
    """The folders and accepted files that what was typed could become."""
    head, tail = split_typed(value)
    entries = list_folder(folder_of(head), hidden=tail.startswith("."))
    wanted = [e for e in entries if e.is_dir or accept(e.name)]
    for pool in (wanted, entries):  # a file of another type, when only it fits
        hits = [e for e in pool if e.name.startswith(tail)]
        if hits:
            return hits
    low = tail.lower()
    return [e for e in wanted if e.name.lower().startswith(low)]


def complete(value: str, accept: Callable[[str], bool]) -> tuple[str, list[Entry]]:
    """Tab: the longest completion of what was typed, and the candidates it chose among."""
    head, tail = split_typed(value)
    hits = candidates(value, accept)
    if len(hits) == 1:
        only = hits[0]
        return head + only.name + ("/" if only.is_dir else ""), hits
    # names, not paths: the longest start they share, character by character
    common = os.path.commonprefix([e.name for e in hits]) if hits else ""  # noqa: RUF071
    return (head + common if len(common) > len(tail) else value), hits


class PathInput(Input):
    """An Input for a path where Tab completes instead of moving on (Shift+Tab still leaves).
    Tab that cannot complete any further posts `Stuck`, so the screen can offer the list."""

    BINDINGS = [Binding("tab", "complete", "补全路径", id="path-complete", show=False)]

    class Stuck(Message):
        def __init__(self, path_input: PathInput, hits: list[Entry]) -> None:
            super().__init__()
            self.path_input = path_input
            self.hits = hits

    def __init__(self, accept: Callable[[str], bool], **kw: Any) -> None:
        super().__init__(**kw)
        self.accept = accept
        self._suggested = False  # the value is a folder we offered, not what the user typed

    def suggest_folder(self, value: str) -> None:
        """Offer a folder to start from: typing a name goes on from it, typing or pasting a
        whole path (`/…`, `~…`) replaces it instead of being appended to it."""
        self.value = value
        self.cursor_position = len(value)
        self._suggested = True

    def insert_text_at_cursor(self, text: str) -> None:
        if self._suggested and text.startswith(("/", "~")):
            self.value = ""
        self._suggested = False
        super().insert_text_at_cursor(text)

    def check_consume_key(self, key: str, character: str | None) -> bool:
        # Take Tab before the app's priority Tab (focus_next) sees it.
        return key == "tab" or super().check_consume_key(key, character)

    def action_complete(self) -> None:
        if not self.value:
            self.value = "~/"
            self.cursor_position = len(self.value)
            return
        new, hits = complete(self.value, self.accept)
        if new != self.value:
            self.value = new
            self.cursor_position = len(new)
        else:
            self.post_message(self.Stuck(self, hits))


class FileList(OptionList):
    """A folder's entries: ../ and folders first, then the files a slot takes. Space marks a
    file (marks are kept when the folder changes), Backspace goes up."""

    BINDINGS = [
        Binding("space", "mark", "选择/取消", id="files-mark"),
        Binding("backspace", "up", "上一级文件夹", id="files-up"),
    ]

    class Up(Message):
        """Backspace: show the folder above."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.marked: dict[Path, None] = {}  # in the order marked: attached in that order
        self.entries: dict[str, Entry] = {}

    def show(self, folder: Path, entries: list[Entry]) -> None:
        self.clear_options()
        self.entries = {}
        options: list[Option] = []
        if folder.parent != folder:
            up = Entry(folder.parent, True)
            self.entries["up"] = up
            options.append(Option(Text("  ../（上一级）"), id="up"))
        for i, e in enumerate(entries[:MAX_ENTRIES]):
            key = f"e{i}"
            self.entries[key] = e
            options.append(Option(self._prompt(e), id=key))
        if len(entries) > MAX_ENTRIES:
            options.append(
                Option(
                    f"……还有 {len(entries) - MAX_ENTRIES} 项，请输入文件名开头缩小范围",
                    disabled=True,
                )
            )
        if not entries:
            options.append(Option("（这里没有可选的文件）", disabled=True))
        self.add_options(options)
        # the first entry, not ../ (Backspace goes up)
        self.highlighted = (1 if entries and "up" in self.entries else 0) if options else None

    def _prompt(self, e: Entry) -> Text:
        # Text, not markup: "[x]" and names with brackets must show as they are
        if e.is_dir:
            return Text(f"  {e.name}/")
        mark = "[x]" if e.path in self.marked else "[ ]"
        return Text(f"{mark} {e.name}")

    def current(self) -> Entry | None:
        if self.highlighted is None:
            return None
        option = self.get_option_at_index(self.highlighted)
        return self.entries.get(option.id or "")

    def action_mark(self) -> None:
        e = self.current()
        if e is None or e.is_dir:
            return
        if e.path in self.marked:
            del self.marked[e.path]
        else:
            self.marked[e.path] = None
        key = next(k for k, v in self.entries.items() if v == e)
        self.replace_option_prompt(key, self._prompt(e))
        if self.highlighted is not None and self.highlighted < self.option_count - 1:
            self.highlighted += 1  # as in a file manager: mark, and on to the next

    def unmark(self, paths: Iterable[Path]) -> None:
        for p in paths:
            self.marked.pop(p, None)
        for key, e in self.entries.items():
            if not e.is_dir:
                self.replace_option_prompt(key, self._prompt(e))

    def action_up(self) -> None:
        self.post_message(self.Up())
