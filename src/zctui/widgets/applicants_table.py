"""The unit's applicants, one line each, drawn line by line (Textual's Line API).

Textual's DataTable measures every cell of every row it is given: 10,000 rows froze the UI
for ~1.3 s. Here only the lines on screen are drawn, each when it is shown; the rows are
plain records (labels and pinyin initials computed once, off the UI thread, by
`build_lines`), and filtering or sorting only reorders a list of keys."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from zctui.data.base import pinyin_initials
from zctui.data.catalog import Catalog
from zctui.domain.masking import mask_id
from zctui.store.applicants import ApplicantRow

UNKNOWN = "…"  # completion not computed yet


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int  # terminal cells


COLUMNS = (
    Column("name", "姓名", 10),
    Column("id_number", "身份证号", 18),
    Column("series", "系列", 20),
    Column("title", "职称", 16),
    Column("level", "级别", 8),
    Column("state", "状态", 18),
    Column("completion", "完成情况", 10),
    Column("last_change", "最后修改", 16),
)
COMPLETION = next(i for i, c in enumerate(COLUMNS) if c.key == "completion")
GAP = 1
TOTAL_WIDTH = sum(c.width for c in COLUMNS) + GAP * (len(COLUMNS) - 1)


@dataclass(frozen=True, eq=False)  # identity: the view finds a line with list.index, in C
class ApplicantLine:
    """One application as the table shows it: Chinese labels, never codes."""

    key: uuid.UUID
    row: ApplicantRow
    cells: tuple[str, ...]  # one per column; the completion cell is kept apart
    initials: str  # of the name: "zs" for 张三
    haystack: str  # what typed characters are looked for in (lower case)


def _level_label(catalog: Catalog, level: int | None) -> str:
    if level is None:
        return ""
    found = next((lv for lv in catalog.levels if lv.code == str(level)), None)
    return found.label if found else str(level)


def name_initials(name: str) -> str:
    """Pinyin initials of a name, a character at a time: pypinyin costs ~100 µs a call, and a
    unit's names share their few thousand characters (each looked up once, lru_cache)."""
    return "".join(pinyin_initials(ch) for ch in name)


def build_lines(rows: Iterable[ApplicantRow], catalog: Catalog) -> list[ApplicantLine]:
    """Labels, masked ID numbers and pinyin initials, computed once per row (call it on a
    worker thread: ~0.3 s for 20,000 rows)."""
    states = catalog.values("workflow_state")
    labels: dict[tuple[str | None, str | None], tuple[str, str, str]] = {}  # few distinct
    out: list[ApplicantLine] = []
    for r in rows:
        known = labels.get((r.series, r.title))
        if known is None:
            series = catalog.series_by_code(r.series) if r.series else None
            title = series.title(r.title) if series is not None and r.title else None
            known = labels[(r.series, r.title)] = (
                series.label if series else "",
                title.label if title else "",
                _level_label(catalog, title.level if title else None),
            )
        cells = (
            r.name or "（未填姓名）",
            mask_id(r.id_number) or "",
            *known,
            states.label_of(r.state),
            "",
            r.last_change.astimezone().strftime("%Y-%m-%d %H:%M"),
        )
        hay = " ".join((r.name, cells[2], cells[3], cells[5])).lower()
        out.append(ApplicantLine(r.application_id, r, cells, name_initials(r.name), hay))
    return out


def matches(line: ApplicantLine, query: str) -> bool:
    """Typed characters in the name or a label, or the start of the name's pinyin initials."""
    return not query or line.initials.startswith(query) or query in line.haystack


def _fit(text: str, width: int) -> str:
    """Cut or pad to `width` cells (Chinese characters are two cells wide)."""
    if cell_len(text) <= width:
        return text + " " * (width - cell_len(text))
    out, used = [], 0
    for ch in text:
        w = cell_len(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…" + " " * (width - used - 1)


class ApplicantsTable(ScrollView, can_focus=True):
    """Header line, then one line per application in the current filter and sort order."""

    DEFAULT_CSS = """
    ApplicantsTable { height: 1fr; }
    ApplicantsTable > .applicants-table--header { text-style: bold; background: $panel; }
    ApplicantsTable > .applicants-table--cursor { background: $accent 40%; }
    ApplicantsTable:focus > .applicants-table--cursor { background: $accent; }
    ApplicantsTable > .applicants-table--sorted { text-style: bold underline; }
    """
    COMPONENT_CLASSES = {
        "applicants-table--header",
        "applicants-table--cursor",
        "applicants-table--sorted",
    }
    BINDINGS = [
        Binding("up", "cursor(-1)", "上移", show=False, id="applicants-up"),
        Binding("down", "cursor(1)", "下移", show=False, id="applicants-down"),
        Binding("pageup", "page(-1)", "上页", show=False, id="applicants-pageup"),
        Binding("pagedown", "page(1)", "下页", show=False, id="applicants-pagedown"),
        Binding("home", "edge(-1)", "首行", show=False, id="applicants-home"),
        Binding("end", "edge(1)", "末行", show=False, id="applicants-end"),
        Binding("enter", "open", "打开", id="applicants-open"),
    ]

    class Open(Message):
        """Enter on a line: open that application."""

        def __init__(self, application_id: uuid.UUID) -> None:
            super().__init__()
            self.application_id = application_id

    class ViewChanged(Message):
        """The filter or the rows changed: `shown` of `total` lines match."""

        def __init__(self, shown: int, total: int) -> None:
            super().__init__()
            self.shown, self.total = shown, total

    class Typed(Message):
        """A printable key no binding wants, pressed on the table: it belongs to the filter."""

        def __init__(self, character: str) -> None:
            super().__init__()
            self.character = character

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._lines: dict[uuid.UUID, ApplicantLine] = {}
        # Lines, not keys: filtering 20,000 then needs no dict look-up (UUID hashing is slow).
        self._view: list[ApplicantLine] = []  # in the filter, in sort order
        self._sorted: list[ApplicantLine] | None = None  # all, in sort order; None: re-sort
        self._completion: dict[uuid.UUID, str] = {}
        self._filter = ""
        self.sort_column = 0
        self.sort_reverse = False
        self.cursor = 0
        self.lines_rendered = 0  # render_line calls: tests check that only the screen is drawn

    # ------------------------------------------------------------------ data
    @property
    def total(self) -> int:
        return len(self._lines)

    @property
    def shown(self) -> int:
        return len(self._view)

    @property
    def keys(self) -> list[uuid.UUID]:
        """The keys in view order (the filter applied)."""
        return [line.key for line in self._view]

    def line(self, key: uuid.UUID) -> ApplicantLine | None:
        return self._lines.get(key)

    def cell_text(self, key: uuid.UUID, column: str) -> str:
        """What the table shows in `column` for this application."""
        index = next(i for i, c in enumerate(COLUMNS) if c.key == column)
        if index == COMPLETION:
            return self._completion.get(key, UNKNOWN)
        return self._lines[key].cells[index]

    @property
    def cursor_key(self) -> uuid.UUID | None:
        return self._view[self.cursor].key if self._view else None

    def set_lines(self, lines: Iterable[ApplicantLine]) -> None:
        """Replace every line (the first load)."""
        self._lines = {line.key: line for line in lines}
        self._sorted = None
        self._refilter(keep=self.cursor_key)

    def update_lines(self, lines: Iterable[ApplicantLine], gone: Iterable[uuid.UUID] = ()) -> None:
        """Put changed lines in place by key, add new ones, drop `gone`: the rest are kept as
        they are, and the cursor stays on the application it was on."""
        keep = self.cursor_key
        for key in gone:
            self._lines.pop(key, None)
        for line in lines:
            old = self._lines.get(line.key)
            if old is not None and old.row.last_change != line.row.last_change:
                self._completion.pop(line.key, None)  # stale until recomputed
            self._lines[line.key] = line
        self._sorted = None
        self._refilter(keep=keep)

    def set_completion(self, known: dict[uuid.UUID, str]) -> None:
        """Completion texts from the worker; repaints only if one of them is on screen."""
        self._completion.update(known)
        if any(k in known for k in self.visible_keys()):
            self.refresh()

    def completion_known(self, key: uuid.UUID) -> bool:
        return key in self._completion

    def visible_keys(self) -> list[uuid.UUID]:
        """The keys on screen now (the completion worker does these first). Safe to call from
        a worker thread: it only reads."""
        view = self._view
        top = int(self.scroll_offset.y)
        return [line.key for line in view[top : top + max(self.size.height - 1, 1)]]

    # ------------------------------------------------------------------ filter and sort
    @property
    def filter_text(self) -> str:
        return self._filter

    def set_filter(self, text: str) -> None:
        query = text.strip().lower()
        if query != self._filter:
            # A longer query only narrows (both tests are monotone): filter what is shown.
            narrower = bool(self._filter) and query.startswith(self._filter)
            self._filter = query
            self._refilter(keep=self.cursor_key, within=self._view if narrower else None)

    def sort_by(self, column: int, reverse: bool | None = None) -> None:
        """Sort on a column (the same column again turns the order round)."""
        if reverse is None:
            reverse = not self.sort_reverse if column == self.sort_column else False
        self.sort_column, self.sort_reverse = column % len(COLUMNS), reverse
        self._sorted = None
        self._refilter(keep=self.cursor_key)

    def _sort_key(self, line: ApplicantLine) -> tuple[object, ...]:
        key = line.key
        if self.sort_column == COMPLETION:
            text = self._completion.get(key)
            # complete first, then by how much is missing, unknown last
            value: object = (
                (2, 0) if text is None else (0, 0) if text == "完整" else (1, _missing(text))
            )
        elif COLUMNS[self.sort_column].key == "last_change":
            value = line.row.last_change
        elif COLUMNS[self.sort_column].key == "name":
            value = (line.initials, line.cells[0])  # 拼音 order, as people look names up
        else:
            value = line.cells[self.sort_column]
        return (value, line.initials)  # ties: the load order (the sort is stable)

    def _refilter(self, keep: uuid.UUID | None, within: list[ApplicantLine] | None = None) -> None:
        """The view: sorted once per change of rows or order (completion arriving does not
        reorder what the user looks at), then filtered, in the order kept."""
        if self._sorted is None:
            self._sorted = sorted(
                self._lines.values(), key=self._sort_key, reverse=self.sort_reverse
            )
            within = None
        q, lines = self._filter, self._lines
        source = self._sorted if within is None else within
        # matches(), inlined: a call per line is a third of the time at 20,000
        view = (
            source
            if not q
            else [ln for ln in source if ln.initials.startswith(q) or q in ln.haystack]
        )
        self._view = view
        self.virtual_size = Size(TOTAL_WIDTH, len(view) + 1)
        try:
            index = view.index(lines[keep]) if keep is not None and keep in lines else 0
        except ValueError:  # filtered out: the first line
            index = 0
        self.move_cursor(index)
        self.refresh()
        self.post_message(self.ViewChanged(len(view), len(self._lines)))

    # ------------------------------------------------------------------ cursor
    @property
    def _page(self) -> int:
        return max(self.size.height - 2, 1)

    def move_cursor(self, index: int) -> None:
        old = self.cursor
        self.cursor = max(0, min(index, len(self._view) - 1)) if self._view else 0
        rows = max(self.size.height - 1, 1)
        top = int(self.scroll_offset.y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + rows:
            self.scroll_to(y=self.cursor - rows + 1, animate=False, immediate=True)
        if old != self.cursor:
            self.refresh()

    def action_cursor(self, offset: int) -> None:
        self.move_cursor(self.cursor + offset)

    def action_page(self, direction: int) -> None:
        self.move_cursor(self.cursor + direction * self._page)

    def action_edge(self, direction: int) -> None:
        self.move_cursor(0 if direction < 0 else len(self._view) - 1)

    def action_open(self) -> None:
        key = self.cursor_key
        if key is not None:
            self.post_message(self.Open(key))

    def on_key(self, event: events.Key) -> None:
        if event.is_printable and event.character and event.key not in self.screen.active_bindings:
            event.stop()
            self.post_message(self.Typed(event.character))

    def on_click(self, event: events.Click) -> None:
        """A click on the header sorts by that column; on a line, moves the cursor there."""
        if event.y == 0:
            x = event.x + int(self.scroll_offset.x)
            for i, c in enumerate(COLUMNS):
                if x < c.width + GAP:
                    self.sort_by(i)
                    return
                x -= c.width + GAP
            return
        self.move_cursor(int(self.scroll_offset.y) + event.y - 1)
        if event.chain == 2:
            self.action_open()

    def help_topic(self) -> tuple[str, str, str, str]:
        """F1 (screens.help.HasHelp)."""
        return (
            "本单位申报人员",
            "",
            "直接输入姓名、拼音首字母（如 zs 找张三）、系列、职称或状态筛选；↑↓ PgUp PgDn "
            "Home End 移动；回车打开申报，在申报中按 F9 回到名单；F3 换排序列，F4 倒序；"
            "n 为本单位人员新建申报。完成情况显示“缺n”（同左侧清单），计算中显示“…”。",
            "",
        )

    # ------------------------------------------------------------------ drawing
    def render_line(self, y: int) -> Strip:
        self.lines_rendered += 1
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self.rich_style
        if y == 0:
            strip = self._header(base)
        else:
            index = int(scroll_y) + y - 1
            if index >= len(self._view):
                return Strip.blank(width, base)
            key = self._view[index].key
            style = base
            if index == self.cursor:
                style = base + self.get_component_rich_style("applicants-table--cursor")
            strip = self._row(key, style)
        return strip.crop_extend(int(scroll_x), int(scroll_x) + width, base)

    def _header(self, base: Style) -> Strip:
        style = base + self.get_component_rich_style("applicants-table--header")
        sorted_style = style + self.get_component_rich_style("applicants-table--sorted")
        segments = []
        for i, c in enumerate(COLUMNS):
            label = c.label + ("↓" if self.sort_reverse else "↑") * (i == self.sort_column)
            segments.append(
                Segment(_fit(label, c.width), sorted_style if i == self.sort_column else style)
            )
            segments.append(Segment(" " * GAP, style))
        return Strip(segments[:-1], TOTAL_WIDTH)

    def _row(self, key: uuid.UUID, style: Style) -> Strip:
        line = self._lines[key]
        texts = list(line.cells)
        texts[COMPLETION] = self._completion.get(key, UNKNOWN)
        text = (" " * GAP).join(_fit(t, c.width) for t, c in zip(texts, COLUMNS, strict=True))
        return Strip([Segment(text, style)], TOTAL_WIDTH)


def _missing(text: str) -> int:
    digits = "".join(ch for ch in text if ch.isdigit())
    return int(digits) if digits else 0


def completion_text(missing: int) -> str:
    """What the completion column says: 完整, or 缺n as the checklist sidebar counts."""
    return "完整" if missing == 0 else f"缺{missing}"
