"""One application open for editing: the in-memory copy the screens read, the checklist,
and the saves, which run in order on a writer thread (store.writer) so typing never waits.

Every change is applied to memory at once (the checklist and the screens see it), then
queued; the writer commits each one (row + outbox) in its own transaction. `flush()` waits
until everything queued is on disk; a save that fails is kept and retried, never dropped.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, Literal, Protocol

from zctui.config import blobs_dir_for
from zctui.data.catalog import Catalog, load_catalog
from zctui.data.forms import AssertSpec, Condition, Forms, SectionSpec, holds, load_forms
from zctui.domain.aggregate import ApplicationData
from zctui.domain.checklist import Checklist, run_checklist
from zctui.domain.facts import application_facts, record_facts
from zctui.domain.models import LIST_TABLES, SINGLE_TABLES, Attachment, ListRow
from zctui.store.blobs import BlobStore
from zctui.store.repository import Store
from zctui.store.writer import Writer

EDITABLE_STATES = frozenset({"draft", "unit_returned"})


class ReadOnlyError(RuntimeError):
    """The application has left the applicant's hands (R12.2)."""


class FileVerdict(Protocol):
    """What `zctui.pdf.checks.Verdict` gives: the store may not import the pdf layer."""

    @property
    def accepted(self) -> bool: ...
    @property
    def message(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def pages(self) -> int | None: ...
    @property
    def media_type(self) -> str | None: ...
    @property
    def sha256(self) -> str | None: ...


class FileChecker(Protocol):
    """`zctui.pdf.checks.Checker`, passed in by the UI as `checker_factory`."""

    def check(self, path: Path, kind: Literal["pdf", "photo"]) -> FileVerdict: ...
    def start(self) -> None: ...
    def close(self) -> None: ...


class AttachRefused(ValueError):
    """A file failed its check (issue 4); nothing was stored. `verdict.message` says why."""

    def __init__(self, verdict: FileVerdict) -> None:
        super().__init__(verdict.message)
        self.verdict = verdict


class EditSession(Writer):
    def __init__(
        self,
        store: Store,
        application_id: uuid.UUID,
        *,
        catalog: Catalog | None = None,
        forms: Forms | None = None,
        on_saved: Callable[[], None] | None = None,  # after a save, or a failed try
        checker_factory: Callable[[], FileChecker] | None = None,  # checks attached files
    ) -> None:
        super().__init__(store, on_saved=on_saved)
        self.catalog = catalog or load_catalog()
        self.forms = forms or load_forms()
        self.data: ApplicationData = store.load(application_id)
        self.blobs = BlobStore(blobs_dir_for(store.path))
        self._checklist: Checklist | None = None
        self._facts: dict[str, Any] | None = None
        self._checker_factory = checker_factory
        self._checker: FileChecker | None = None
        self._checker_lock = threading.Lock()

    # ------------------------------------------------------------------ reading
    @property
    def application_id(self) -> uuid.UUID:
        return self.data.application.id

    @property
    def read_only(self) -> bool:
        return self.data.application.state not in EDITABLE_STATES

    def reload(self) -> None:
        """Read the application again after a sync changed it on disk (what was queued is
        saved first, so nothing typed is replaced by an older copy)."""
        self.flush()
        self.data = self.store.load(self.application_id)
        self._changed()

    def _changed(self) -> None:
        self._checklist = None
        self._facts = None

    @property
    def checklist(self) -> Checklist:
        if self._checklist is None:
            self._checklist = run_checklist(self.data, self.catalog, self.forms)
        return self._checklist

    def is_required(self, section: SectionSpec, cond: Condition, row: Any) -> bool:
        """Whether a field or slot is required now, for this record (the * in the form)."""
        if isinstance(cond, bool):
            return cond
        return holds(cond, {**self.facts, "record": record_facts(section, row)})

    @property
    def facts(self) -> dict[str, Any]:
        """The application's facts for the rules, recomputed after a change."""
        if self._facts is None:
            self._facts = application_facts(self.data, self.catalog, self.forms)
        return self._facts

    def blocking_rule(
        self, section: SectionSpec, row_id: uuid.UUID | None, field: str, value: str
    ) -> AssertSpec | None:
        """The rule an edit would break, when the data says such an edit is refused (R2.5:
        a wrong 评审方式 means the application cannot be reviewed)."""
        rules = [a for a in section.asserts if a.blocks and a.field == field]
        if not rules:
            return None
        row = self.row_of(section) if row_id is None else self.find(section, row_id)
        old = getattr(row, field)
        setattr(row, field, value.strip() or None)
        try:
            facts = application_facts(self.data, self.catalog, self.forms)
            facts["record"] = record_facts(section, row)
            return next(
                (a for a in rules if holds(a.when, facts) and not holds(a.expr, facts)), None
            )
        finally:
            setattr(row, field, old)

    def files(self, owner_id: uuid.UUID, slot: str) -> list[Attachment]:
        return self.data.files_in(owner_id, slot)

    def row_of(self, section: SectionSpec) -> Any:
        """The one row of a single-row section (the application itself for R2 and R5)."""
        if section.table == "application":
            return self.data.application
        row = self.data.singles.get(section.table)
        if row is None:
            row = SINGLE_TABLES[section.table](application_id=self.application_id)
            if self.read_only:
                # Only looked at (a reviewer, a locked application): an empty row to show,
                # not a new row to sync, which the server would refuse as locked.
                return row
            self.data.singles[section.table] = row
            self._enqueue(partial(self.store.add, row))
        return row

    def rows_of(self, section: SectionSpec) -> list[ListRow]:
        return self.data.rows(section.table)

    def find(self, section: SectionSpec, row_id: uuid.UUID) -> Any:
        if section.kind != "list":
            return self.row_of(section)
        return next(r for r in self.rows_of(section) if r.id == row_id)

    # ------------------------------------------------------------------ editing
    def _guard(self) -> None:
        if self.read_only:
            raise ReadOnlyError("申报已提交，单位审核期间不能修改")

    def set_value(
        self, section: SectionSpec, row_id: uuid.UUID | None, field: str, value: str
    ) -> None:
        """One field edit: in memory now, on disk in a moment (its own transaction)."""
        self._guard()
        row = self.row_of(section) if row_id is None else self.find(section, row_id)
        stored = value if value.strip() else None
        if getattr(row, field) == stored:
            return
        setattr(row, field, stored)
        self._changed()
        table = str(row.__tablename__)
        rid = row.id
        self._enqueue(lambda: self.store.set_field(table, rid, field, stored))

    def add_record(self, section: SectionSpec, **values: Any) -> ListRow:
        self._guard()
        rows = self.data.lists.setdefault(section.table, [])
        position = max((r.position for r in rows), default=0) + 1
        row = LIST_TABLES[section.table](
            application_id=self.application_id, position=position, **values
        )
        rows.append(row)
        self._changed()
        self._enqueue(lambda: self.store.add(row))
        return row

    def delete_record(self, section: SectionSpec, row_id: uuid.UUID) -> None:
        self._guard()
        rows = self.data.lists.get(section.table, [])
        self.data.lists[section.table] = [r for r in rows if r.id != row_id]
        self.data.attachments = [a for a in self.data.attachments if a.owner_id != row_id]
        self.data.files_changed()
        self._changed()
        self._enqueue(lambda: self.store.delete(section.table, row_id))

    def move_record(self, section: SectionSpec, row_id: uuid.UUID, offset: int) -> bool:
        """Move up (-1) or down (+1); order matters (R7.2, R9.1, R10.1)."""
        self._guard()
        rows = self.data.lists.get(section.table, [])
        i = next(k for k, r in enumerate(rows) if r.id == row_id)
        j = max(0, min(len(rows) - 1, i + offset))
        if i == j:
            return False
        rows.insert(j, rows.pop(i))
        for pos, r in enumerate(rows, start=1):
            r.position = pos
        self._changed()
        self._enqueue(lambda: self.store.move(section.table, row_id, offset))
        return True

    @property
    def checker(self) -> FileChecker:
        """The session's one file checker (its child processes live until `close`)."""
        with self._checker_lock:
            if self._checker is None:
                if self._checker_factory is None:
                    raise RuntimeError("EditSession needs a checker_factory to check files")
                self._checker = self._checker_factory()
            return self._checker

    def attach_file(
        self,
        section: SectionSpec,
        owner_id: uuid.UUID,
        slot: str,
        path: Path,
        verdict: FileVerdict | None = None,
    ) -> Attachment:
        """Check a file, store it, put it in a slot (store_file, then add_attachment). A
        refused file raises AttachRefused and nothing is written."""
        digest, verdict = self.store_file(section, slot, path, verdict)
        return self.add_attachment(section, owner_id, slot, path.name, digest, verdict)

    def store_file(
        self, section: SectionSpec, slot: str, path: Path, verdict: FileVerdict | None = None
    ) -> tuple[str, FileVerdict]:
        """The slow half, safe on a worker thread (it touches only the checker and the blob
        store): check the file unless `verdict` is given, and copy it into the blob store."""
        self._guard()
        kind = next(s.kind for s in section.slots if s.code == slot)
        if verdict is None:
            verdict = self.checker.check(path, kind)
        if not verdict.accepted:
            raise AttachRefused(verdict)
        digest = self.blobs.put_file(path)
        if digest != verdict.sha256:  # not the bytes that were checked: check what we keep
            verdict = self.checker.check(self.blobs.path(digest), kind)
            if not verdict.accepted:
                raise AttachRefused(verdict)
        return digest, verdict

    def add_attachment(
        self,
        section: SectionSpec,
        owner_id: uuid.UUID,
        slot: str,
        name: str,
        digest: str,
        verdict: FileVerdict,
    ) -> Attachment:
        """The quick half, on the thread that owns the session (the UI's): the row, in memory
        now and on disk in a moment."""
        self._guard()
        position = len(self.files(owner_id, slot)) + 1
        row = Attachment(
            application_id=self.application_id, owner_table=section.table, owner_id=owner_id,
            slot=slot, sha256=digest, original_name=name, size=verdict.size,
            pages=verdict.pages, position=position, media_type=verdict.media_type,
        )  # fmt: skip
        self.data.attachments.append(row)
        self.data.files_changed()
        self._changed()
        self._enqueue(partial(self.store.add, row))
        return row

    def remove_file(self, attachment_id: uuid.UUID) -> None:
        self._guard()
        self.data.attachments = [a for a in self.data.attachments if a.id != attachment_id]
        self.data.files_changed()
        self._changed()
        self._enqueue(partial(self.store.delete, "attachment", attachment_id))

    def submit(self) -> Checklist:
        """R12: refuse while anything is missing; else the application goes to the unit."""
        self._guard()
        result = self.checklist
        if result.complete:
            app = self.data.application
            app.state = "submitted"
            self._enqueue(lambda: self.store.set_field("application", app.id, "state", "submitted"))
        return result

    def clear(self) -> None:
        """R12.1 清空: every record, file and field of this application, after confirmation."""
        self._guard()
        for section in self.forms.sections:
            if section.kind == "list":
                for record in list(self.rows_of(section)):
                    self.delete_record(section, record.id)
        for table, single in list(self.data.singles.items()):
            self.data.singles.pop(table)
            self._enqueue(partial(self.store.delete, table, single.id))
        for att in list(self.data.attachments):
            self._enqueue(partial(self.store.delete, "attachment", att.id))
        self.data.attachments = []
        self.data.files_changed()
        self._changed()

    def close(self) -> None:
        if self._checker is not None:
            self._checker.close()
        super().close()
