"""The form of one record of a section: a row per field and per attachment slot, built from
data/forms.yaml. Used for single-row sections (R3, R4, R11) and inside the record dialog of
list sections. Every change goes straight to the edit session: there is no save button."""

from __future__ import annotations

import uuid
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from zctui.data.forms import SectionSpec
from zctui.domain.fields import derived_values
from zctui.screens.attach import AttachScreen
from zctui.screens.help import HelpScreen
from zctui.store.session import EditSession, ReadOnlyError
from zctui.widgets.field_row import FieldRow
from zctui.widgets.slot_field import SlotField


class Edited(Message):
    """Something was saved: the checklist and the sidebar follow."""


class SectionForm(VerticalScroll):
    DEFAULT_CSS = """
    SectionForm { height: 1fr; padding: 0 1; }
    SectionForm > .guide { color: $text-muted; margin-bottom: 1; }
    SectionForm > .locked { color: $warning; }
    SectionForm > .slots-title { margin-top: 1; text-style: bold; }
    """

    def __init__(self, session: EditSession, section: SectionSpec, row: Any, **kw: Any) -> None:
        super().__init__(**kw)
        self.session = session
        self.section = section
        self.row = row

    @property
    def owner_id(self) -> uuid.UUID:
        if self.section.table == "application":
            return self.session.application_id
        return self.row.id

    def record(self) -> dict[str, Any]:
        return {f.name: getattr(self.row, f.name, None) for f in self.section.fields}

    def compose(self) -> ComposeResult:
        s = self.session
        if s.read_only:
            yield Static("申报已提交，用人单位审核期间不能修改（R12.2）。", classes="locked")
        if self.section.guide:
            yield Static(self.section.guide, classes="guide", markup=False)
        for spec in self.section.fields:
            yield FieldRow(
                spec,
                getattr(self.row, spec.name, None),
                record=self.record,
                catalog=s.catalog,
                read_only=s.read_only,
                required=s.is_required(self.section, spec.required, self.row),
            )
        if self.section.slots:
            yield Static("附件（回车管理）", classes="slots-title")
            for slot in self.section.slots:
                yield SlotField(
                    slot,
                    [a.original_name for a in s.files(self.owner_id, slot.code)],
                    required=s.is_required(self.section, slot.required, self.row),
                )

    def refresh_rules(self) -> None:
        """Shown again after edits elsewhere: what is required, and each field's message,
        follow the application as it is now (a pane may have been built before R2 was set)."""
        s = self.session
        for row in self.query(FieldRow):
            row.set_required(s.is_required(self.section, row.spec.required, self.row))
            row.revalidate()
        for slot in self.query(SlotField):
            files = [a.original_name for a in s.files(self.owner_id, slot.spec.code)]
            slot.set_files(files, s.is_required(self.section, slot.spec.required, self.row))

    def field_row(self, name: str) -> FieldRow | None:
        found = self.query(f"#field-{name}")
        return found.first(FieldRow) if found else None

    @on(FieldRow.Changed)
    def _save(self, event: FieldRow.Changed) -> None:
        event.stop()
        name = event.row.spec.name
        rule = self.session.blocking_rule(self.section, self._row_id(), name, event.value)
        if rule is not None:  # refused: put the old value back and say why, in the guide's words
            event.row.reset(getattr(self.row, name, None))
            self.app.push_screen(
                HelpScreen(event.row.spec.label, rule.rule, rule.message, rule.guide)
            )
            return
        try:
            self.session.set_value(self.section, self._row_id(), event.row.spec.name, event.value)
        except ReadOnlyError as exc:
            self.notify(str(exc), severity="error")
            return
        for target, value in derived_values(event.row.spec, event.value).items():
            derived = self.field_row(target)
            if derived is not None and not getattr(self.row, target, None):
                self.session.set_value(self.section, self._row_id(), target, value)
                derived.reset(value)
        if event.row.spec.kind == "select":  # a choice can change what its neighbours allow
            for other in self.query(FieldRow):
                if other is not event.row:
                    other.revalidate()
        self.post_message(Edited())

    def _row_id(self) -> uuid.UUID | None:
        return None if self.section.kind != "list" else self.row.id

    @on(SlotField.Open)
    def _open_slot(self, event: SlotField.Open) -> None:
        event.stop()
        slot = event.slot
        self.app.push_screen(
            AttachScreen(self.session, self.section, self.owner_id, slot.spec),
            callback=lambda _r: self._refresh_slot(slot),
        )

    def _refresh_slot(self, slot: SlotField) -> None:
        files = self.session.files(self.owner_id, slot.spec.code)
        slot.set_files([a.original_name for a in files])
        self.post_message(Edited())
