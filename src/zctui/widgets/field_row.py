"""One field of a form: label, editor, live counter and a Chinese message beside it.

The editor depends on the field's kind in data/forms.yaml; a change is validated at once
and reported upward as `FieldRow.Changed`, which the pane saves (autosave, no save button).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, Static, TextArea

from zctui.data.catalog import Catalog
from zctui.data.forms import FieldSpec
from zctui.domain.fields import field_error, label_of, options_for
from zctui.widgets.counted_text import CountedTextArea, Counter, counter_text
from zctui.widgets.date_input import DateInput
from zctui.widgets.pinyin_select import PinyinSelect

Record = Callable[[], Mapping[str, Any]]


class FieldRow(Vertical):
    DEFAULT_CSS = """
    FieldRow { height: auto; margin: 0 0 0 0; }
    FieldRow > Horizontal { height: auto; }
    FieldRow .label { width: 16; height: auto; color: $text-muted; }
    FieldRow .label.-required { color: $text; }
    FieldRow .editor { width: 1fr; }
    FieldRow .error { color: $error; height: auto; padding-left: 16; display: none; }
    FieldRow.-invalid .error { display: block; }
    FieldRow .readonly { width: 1fr; height: auto; color: $text; }
    FieldRow Input { height: 1; }
    """

    class Changed(Message):
        def __init__(self, row: FieldRow, value: str) -> None:
            super().__init__()
            self.row = row
            self.value = value

        @property
        def control(self) -> FieldRow:
            return self.row

    def __init__(
        self,
        spec: FieldSpec,
        value: str | None,
        *,
        record: Record,
        catalog: Catalog,
        read_only: bool = False,
        required: bool = False,
    ) -> None:
        super().__init__(id=f"field-{spec.name}")
        self.spec = spec
        self._value = value or ""
        self._record = record
        self._catalog = catalog
        self.read_only = read_only or spec.readonly
        self.required = required
        self._message = ""

    def set_required(self, required: bool) -> None:
        """Another section changed what this field needs (R2's series …): update the *."""
        if required == self.required:
            return
        self.required = required
        label = self.query_one(".label", Label)
        label.update(f"{'*' if required else ''}{self.spec.label}")
        label.set_class(required, "-required")

    # -- help protocol (F1): what the help screen shows for the focused field
    def help_topic(self) -> tuple[str, str, str, str]:
        return self.spec.topic()

    def compose(self) -> ComposeResult:
        spec = self.spec
        star = "*" if self.required else ""
        with Horizontal():
            yield Label(f"{star}{spec.label}", classes="label" + (" -required" if star else ""))
            if self.read_only:
                shown = self._value
                if spec.kind == "select":
                    shown = self._label_of(self._value)
                yield Static(shown or "—", classes="readonly")
            elif spec.kind == "select":
                yield PinyinSelect(
                    lambda: options_for(spec, self._record(), self._catalog),
                    self._value or None,
                    classes="editor",
                )
            elif spec.kind in ("date", "year_month"):
                yield DateInput(spec.kind, self._value, classes="editor")
            elif spec.kind == "textarea":
                yield CountedTextArea(
                    self._value, max_len=spec.max_len, max_lines=spec.max_lines, classes="editor"
                )
            else:
                yield Input(self._value, compact=True, classes="editor", placeholder=spec.help[:40])
            if spec.max_len and spec.kind != "textarea" and not self.read_only:
                yield Counter(counter_text(self._value, spec.max_len, None), classes="counter")
        yield Static("", classes="error")

    def on_mount(self) -> None:
        self._show(self._value)

    def _label_of(self, code: str) -> str:
        return label_of(self.spec, code, self._record(), self._catalog)

    @property
    def editor(self) -> Widget | None:
        found = self.query(".editor")
        return found.first() if found else None

    def focus_editor(self) -> None:
        editor = self.editor
        if isinstance(editor, PinyinSelect):
            editor.input.focus()
        elif isinstance(editor, CountedTextArea):
            editor.query_one(TextArea).focus()
        elif editor is not None:
            editor.focus()

    def _show(self, value: str) -> None:
        """Counter and message for the current value."""
        if self.spec.max_len and not self.read_only and self.spec.kind != "textarea":
            counter = self.query_one(".counter", Counter)
            counter.text = counter_text(value, self.spec.max_len, None)
            counter.set_class(len(value) > self.spec.max_len, "-over")
        record = {**self._record(), self.spec.name: value}
        msg = field_error(self.spec, value, record, self._catalog) if value.strip() else ""
        if msg != self._message:  # an unchanged message must not re-lay out the form
            self._message = msg or ""
            self.query_one(".error", Static).update(self._message)
            self.set_class(bool(msg), "-invalid")

    @property
    def message(self) -> str:
        return self._message

    def _changed(self, value: str) -> None:
        if value == self._value:
            return
        self._value = value
        self._show(value)
        self.post_message(self.Changed(self, value))

    @on(Input.Changed)
    def _input(self, event: Input.Changed) -> None:
        if isinstance(event.input.parent, PinyinSelect):
            return
        event.stop()
        self._changed(event.value)

    @on(PinyinSelect.Changed)
    def _select(self, event: PinyinSelect.Changed) -> None:
        event.stop()
        self._changed(event.value or "")

    @on(TextArea.Changed)
    def _text(self, event: TextArea.Changed) -> None:
        event.stop()
        self._changed(event.text_area.text)

    def reset(self, value: str | None) -> None:
        """Show `value` again after a refused edit (nothing is saved)."""
        self._value = value or ""
        editor = self.editor
        if isinstance(editor, PinyinSelect):
            editor.value = value
            editor.refresh_options()
        elif isinstance(editor, Input):
            with editor.prevent(Input.Changed):
                editor.value = self._value
        self._show(self._value)

    def revalidate(self) -> None:
        """Another field changed (e.g. the series): recheck this one against it."""
        if not self.read_only:
            self._show(self._value)
            editor = self.editor
            if isinstance(editor, PinyinSelect):
                editor.refresh_options()
