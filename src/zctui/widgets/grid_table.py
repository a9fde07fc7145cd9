"""The unit's grid: a row per person, a column per year (or field), edited cell by cell.

Drawn line by line on demand (Textual's Line API): only the rows on screen are rendered, so
a few hundred people open at once and a cursor move repaints two lines, not a widget per
cell. Typing replaces the cell; Enter, Tab or an arrow confirms it and moves on; Esc
cancels the edit; Delete clears the cell; Space opens the code table of a coded cell.
"""

from __future__ import annotations

from functools import lru_cache

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from zctui.store.grid import SectionGrid

NAME_W, ID_W = 10, 20  # the person: name, masked ID number (18 characters)


@lru_cache(maxsize=8192)  # names, labels and widths repeat on every line
def _fit(text: str, width: int) -> str:
    """Pad or cut to `width` terminal cells (a Chinese character takes two)."""
    return set_cell_size(text, width) if cell_len(text) != width else text


class GridTable(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {
        "grid-table--header",
        "grid-table--cursor",
        "grid-table--editing",
        "grid-table--locked",
        "grid-table--draft",
        "grid-table--missing",
    }
    DEFAULT_CSS = """
    GridTable { height: 1fr; }
    GridTable > .grid-table--header { text-style: bold; background: $panel; }
    GridTable > .grid-table--cursor { background: $accent; color: $text; }
    GridTable > .grid-table--editing { background: $boost; text-style: underline; }
    GridTable > .grid-table--locked { color: $text-disabled; }
    GridTable > .grid-table--draft { color: $error; text-style: bold; }
    GridTable > .grid-table--missing { color: $text-muted; }
    """
    BINDINGS = [
        Binding("up", "move(-1, 0)", "上", show=False, id="grid-up"),
        Binding("down", "move(1, 0)", "下", show=False, id="grid-down"),
        Binding("left", "move(0, -1)", "左", show=False, id="grid-left"),
        Binding("right", "move(0, 1)", "右", show=False, id="grid-right"),
        Binding("enter", "next_cell", "确认并到下一格", id="grid-enter"),
        Binding("pageup", "page(-1)", "上一页", show=False, id="grid-page-up"),
        Binding("pagedown", "page(1)", "下一页", show=False, id="grid-page-down"),
        Binding("escape", "cancel", "取消本格修改", id="grid-cancel"),
        Binding("delete", "clear", "清空本格", id="grid-clear"),
        Binding("space", "pick", "从列表选择", id="grid-pick"),
    ]

    class Status(Message):
        """What the status line says now: a cell's message, a refusal, or its help."""

        def __init__(self, text: str, error: bool) -> None:
            super().__init__()
            self.text, self.error = text, error

    class Edited(Message):
        """A cell was saved or cleared: the save state has something on its way."""

    class PickRequested(Message):
        """Space on a coded cell: the screen shows the code table."""

        def __init__(self, row: int, column: int) -> None:
            super().__init__()
            self.row, self.column = row, column

    def __init__(self, grid: SectionGrid, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.grid = grid
        self.row = 0
        self.column = 0
        self.editing: str | None = None  # the text being typed into the cursor's cell
        self._styles: dict[str, Style] = {}
        self.widths = [self._width(c) for c in range(len(grid.columns))]
        self.virtual_size = Size(NAME_W + ID_W + sum(self.widths), len(grid.rows) + 1)

    def _width(self, c: int) -> int:
        col = self.grid.columns[c]
        texts = [col.label, *(o.label for o in self.grid.options(0, c))] if self.grid.rows else []
        return min(max((cell_len(t) for t in texts), default=6) + 2, 24)

    # ------------------------------------------------------------------ drawing
    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:  # looked up once, not per cell per line
            if name == "base":
                style = self.rich_style
            else:
                style = self.get_component_rich_style(f"grid-table--{name}")
            self._styles[name] = style
        return style

    def notify_style_update(self) -> None:
        self._styles.clear()  # a theme change
        super().notify_style_update()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            return self._line(self._header(), width, self._style("header"))
        r = self.scroll_offset.y + y - 1
        if r >= len(self.grid.rows):
            return Strip.blank(width, self._style("base"))
        return self._line(self._cells(r), width, self._style("base"))

    def _header(self) -> list[Segment]:
        out = [Segment(_fit("姓名", NAME_W)), Segment(_fit("证件号码", ID_W))]
        columns = zip(self.grid.columns, self.widths, strict=True)
        out += [Segment(_fit(col.label, w)) for col, w in columns]
        return out

    def _cells(self, r: int) -> list[Segment]:
        g = self.grid
        row = g.rows[r]
        base = self._style("locked") if row.locked else Style()
        out = [Segment(_fit(row.name, NAME_W), base), Segment(_fit(row.masked_id, ID_W), base)]
        for c, w in enumerate(self.widths):
            here = r == self.row and c == self.column
            if here and self.editing is not None:
                text, style = self.editing + "▏", self._style("editing")
            else:
                text, style = g.shown(r, c), base
                if row.drafts.get(g.columns[c].key) is not None:
                    style = base + self._style("draft")  # typed, not valid: kept, not saved
                elif not text and g.missing(r, c):
                    text, style = "未填", base + self._style("missing")
            if here and self.has_focus:
                style = style + self._style("cursor")
            out.append(Segment(_fit(" " + text, w), style))
        return out

    def _line(self, segments: list[Segment], width: int, style: Style) -> Strip:
        """The person's columns stay put; the value columns scroll sideways."""
        frozen = Strip(segments[:2]).crop(0, NAME_W + ID_W)
        rest = Strip(segments[2:])
        x = self.scroll_offset.x
        rest = rest.crop(x, x + max(width - NAME_W - ID_W, 0))
        return Strip.join([frozen, rest]).extend_cell_length(width, style).crop(0, width)

    def _refresh_row(self, r: int) -> None:
        y = r - self.scroll_offset.y + 1
        if 1 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def on_focus(self) -> None:
        self._refresh_row(self.row)
        self._announce()

    def on_blur(self) -> None:
        self._refresh_row(self.row)

    # ------------------------------------------------------------------ moving
    def move_to(self, r: int, c: int) -> None:
        rows, cols = len(self.grid.rows), len(self.grid.columns)
        if not rows or not cols:
            return
        r, c = max(0, min(rows - 1, r)), max(0, min(cols - 1, c))
        old = self.row
        self.row, self.column = r, c
        self._refresh_row(old)
        self._scroll_into_view()
        self._refresh_row(r)
        self._announce()

    def _scroll_into_view(self) -> None:
        visible = max(self.size.height - 1, 1)
        top = self.scroll_offset.y
        if self.row < top:
            self.scroll_to(y=self.row, animate=False, immediate=True)
        elif self.row >= top + visible:
            self.scroll_to(y=self.row - visible + 1, animate=False, immediate=True)
        left = NAME_W + ID_W
        x0 = sum(self.widths[: self.column])
        x1 = x0 + self.widths[self.column]
        span = max(self.size.width - left, 1)
        if x0 < self.scroll_offset.x:
            self.scroll_to(x=x0, animate=False, immediate=True)
        elif x1 > self.scroll_offset.x + span:
            self.scroll_to(x=x1 - span, animate=False, immediate=True)

    def _announce(self) -> None:
        """The status line for the cell under the cursor: its problem, else its help."""
        g = self.grid
        if not g.rows or not g.columns:
            return
        row, col = g.rows[self.row], g.columns[self.column]
        if row.locked:
            self.post_message(self.Status(row.locked, True))
        elif msg := g.draft_error(self.row, self.column):
            self.post_message(self.Status(msg, True))
        else:
            hint = f"{row.name} · {col.label} · {col.spec.label}：{col.spec.help}"
            self.post_message(self.Status(hint, False))

    def _confirm(self) -> bool:
        """Save what is being typed; False (cursor stays, message shown) when it is wrong."""
        if self.editing is None:
            return True
        text, self.editing = self.editing, None
        error = self.grid.commit(self.row, self.column, text)
        self._refresh_row(self.row)
        if error:
            self.post_message(self.Status(error, True))
            return False
        self.post_message(self.Edited())
        return True

    def action_move(self, dr: int, dc: int) -> None:
        if self._confirm():
            self.move_to(self.row + dr, self.column + dc)

    def action_page(self, direction: int) -> None:
        if self._confirm():
            self.move_to(self.row + direction * max(self.size.height - 2, 1), self.column)

    def action_next_cell(self, step: int = 1) -> None:
        """Enter / Tab: the next cell along the row, then the next person's first."""
        cols = len(self.grid.columns)
        if not self._confirm() or not cols or not self.grid.rows:
            return
        flat = self.row * cols + self.column + step
        flat = max(0, min(len(self.grid.rows) * cols - 1, flat))
        self.move_to(flat // cols, flat % cols)

    # ------------------------------------------------------------------ editing
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self.grid.rows or not self.grid.columns:
            return action not in ("cancel", "pick", "clear")  # an empty grid: nothing to edit
        if action == "cancel":
            return self.editing is not None  # else Esc belongs to the screen (closes it)
        if action == "pick":
            return self.editing is None and bool(self.grid.options(self.row, self.column))
        return True

    def _refuse(self) -> bool:
        """An edit of a locked row: say why, change nothing."""
        locked = self.grid.rows[self.row].locked if self.grid.rows else "没有可编辑的行"
        if locked:
            self.post_message(self.Status(locked, True))
            return True
        return not self.grid.columns

    def action_cancel(self) -> None:
        self.editing = None
        self._refresh_row(self.row)
        self._announce()

    def action_clear(self) -> None:
        if self._refuse():
            return
        self.editing = None
        self.grid.clear(self.row, self.column)
        self._refresh_row(self.row)
        self.post_message(self.Edited())
        self._announce()

    def action_pick(self) -> None:
        if not self._refuse():
            self.post_message(self.PickRequested(self.row, self.column))

    def choose(self, row: int, column: int, code: str) -> None:
        """A code picked from the table (the screen's picker): saved like a typed one."""
        self.move_to(row, column)
        self.editing = code
        if self._confirm():
            self._announce()

    def type_text(self, text: str) -> None:
        if self._refuse():
            return
        self.editing = (self.editing or "") + text
        self._refresh_row(self.row)

    def on_key(self, event: events.Key) -> None:
        if event.key == "backspace":
            event.stop()
            if self._refuse():
                return
            if self.editing is None:  # fix what is there: a draft, or the stored label
                self.editing = self.grid.shown(self.row, self.column)
            self.editing = self.editing[:-1]
            self._refresh_row(self.row)
        elif event.is_printable and event.character and (event.key != "space" or self.editing):
            event.stop()
            self.type_text(event.character)

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        self.type_text(event.text.replace("\n", " ").strip())

    def help_topic(self) -> tuple[str, str, str, str]:
        """F1 (screens.help.HasHelp): the field behind the cell under the cursor."""
        spec = self.grid.columns[self.column].spec if self.grid.columns else None
        if spec is None:
            return (self.grid.section.title, self.grid.section.rule, "", self.grid.section.guide)
        return (spec.label, spec.rule, spec.help, spec.guide or self.grid.section.guide)
