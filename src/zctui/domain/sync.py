"""The sync protocol's messages (`POST /v1/sync`), shared by the client (`zctui.sync`) and
the server (`zctui.server`), which may not import each other.

One round trip pushes and pulls:

- **Push.** Each client (one local store, `client_id`) numbers its mutations 1, 2, 3 … (the
  outbox's `seq`). The server keeps, per client, the highest seq it has applied and the
  result of each. A mutation whose seq it has already applied is answered from the stored
  result, never applied again (a retried batch after a lost response). A mutation whose
  seq is more than one past the last applied is a gap: the whole request is refused (409,
  `expected` = the seq the server wants next) and the client resends from there.
- **Change numbers.** Every applied change (a mutation, a workflow transition) takes the
  next number from one counter row, inside its transaction. The counter row is locked
  until commit, so numbers become visible in order and a pull can never skip a change that
  commits late. A row's `rev` is the number of its last change.
- **Merge.** An update carries `{field: [old, new]}` and the row's `base` rev. When the
  server's row has moved on (rev ≠ base), each field whose server value still equals the
  client's `old` is applied (the fields do not overlap: `merged`); a field the server
  changed to something else is a conflict (both values returned; nothing of that mutation
  is applied, so the user decides). A field where the server already has `new` is not a
  conflict. A delete against a row changed since `base` is a conflict, an update of a
  deleted row too: never a silent resurrection.
- **Lock.** Edits to an application that has left the editable states (R12.2: the unit
  opened it) are `locked`: not applied, kept by the client in a visible list.
- **Pull.** Rows changed after the client's `cursor`, only of applications the caller may
  see, in `rev` order, at most `page` rows; `more` says another round is needed. The
  client applies pulled rows without making outbox entries, and moves its cursor only
  after they are stored. Rows this very client changed (`ok`) are not sent back to it;
  rows it changed by a merge are, whole. One request pushes first, then pulls.
- **Bootstrap.** An application that becomes visible late (the office sees it only once
  forwarded) has rows with old change numbers a cursor has passed: when a pulled
  `application` row names an application the client has no rows of, it fetches them all
  with `GET /v1/sync/app/{id}` (`Snapshot`).
- **Persons** are one per ID number. A person insert whose ID number the server holds
  under another id is `ok` with `alias` = the server's id.

Wire names are short: these bodies cross slow links on every sync.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SYNC_PATH = "/v1/sync"
SNAPSHOT_PATH = "/v1/sync/app/{app_id}"  # GET: every row of one application (`Snapshot`)
PAGE_DEFAULT = 500
PAGE_MAX = 2000
MUTATIONS_MAX = 500  # per request; the client sends its outbox in batches of this size

Op = Literal["insert", "update", "delete"]
Status = Literal["ok", "merged", "conflict", "locked", "refused"]


class Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Mutation(Wire):
    """One outbox entry."""

    seq: int = Field(ge=1)
    id: uuid.UUID  # the mutation's idempotency id (outbox.mutation_id)
    t: str = Field(max_length=40)  # table
    row: uuid.UUID
    app: uuid.UUID | None = None  # the application the row belongs to
    op: Op
    # {field: [old, new]}; an insert's olds are null and it carries every non-null field.
    ch: dict[str, list[Any]] = Field(default_factory=dict, max_length=60)
    base: int = Field(default=0, ge=0)  # the row's rev the edit was made on


class SyncIn(Wire):
    client: uuid.UUID  # one local store; its mutations are numbered per client
    cursor: int = Field(default=0, ge=0)  # the last change number this client has pulled
    muts: list[Mutation] = Field(default_factory=list, max_length=MUTATIONS_MAX)
    page: int = Field(default=PAGE_DEFAULT, ge=1, le=PAGE_MAX)
    catalog: int | None = None  # the catalog version the client holds


class Result(Wire):
    """What became of one mutation. `rev` is the row's rev after it (ok/merged); for a
    conflict `theirs` holds the server's current values of the fields in conflict (and
    `deleted: true` when the row was deleted there); `msg` says why, in Chinese."""

    seq: int
    st: Status
    rev: int | None = None
    theirs: dict[str, Any] | None = None
    msg: str | None = None
    # A person insert whose ID number the server already holds under another id: `ok`, and
    # this is the server's id, which the client adopts (later mutations naming the client's
    # id are mapped to it by the server, too).
    alias: uuid.UUID | None = None


class Change(Wire):
    """A row as it is now on the server (all its columns), or its tombstone."""

    t: str
    rev: int
    row: dict[str, Any]  # column → value, JSON-able (UUIDs and times as strings)


class SyncOut(Wire):
    acked: int  # the highest seq of this client the server has applied
    results: list[Result] = Field(default_factory=list)
    changes: list[Change] = Field(default_factory=list)
    cursor: int  # pull from here next time
    more: bool = False  # another page of changes is waiting
    catalog: int | None = None  # the server's catalog version (pull it when it differs)


class Snapshot(Wire):
    """Every row of one application (the person, the application, its sections and
    attachments, tombstones too), as `Change`s. `cursor` is the change number the rows are
    at least as new as; the client's own pull cursor stays where it is."""

    app: uuid.UUID
    changes: list[Change] = Field(default_factory=list)
    cursor: int


class Gap(Wire):
    """409 body when the request skipped mutations the server has not seen."""

    detail: str
    expected: int  # the seq the server wants next
