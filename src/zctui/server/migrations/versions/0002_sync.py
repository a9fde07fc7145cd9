"""Sync (issue 6): the change counter, clients and their results, the latest change per
row, person aliases. Rows already on the server get change numbers here, so a first pull
finds them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 05:10:00
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The synced tables as they were at 0001 (application rows belong to themselves).
SECTIONS = (
    "basic_info", "current_status", "overview_supplement", "social_security_record",
    "education", "work_history", "title_certificate", "exam_certificate",
    "combined_exam_certificate", "other_certificate", "society_post", "annual_appraisal",
    "work_experience", "special_experience", "honour", "award", "expert_title",
    "research_project", "patent", "other_achievement", "paper", "monograph", "attachment",
)  # fmt: skip


def upgrade() -> None:
    counter = op.create_table(
        "sync_counter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "sync_client",
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("acked", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_seen", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"]),
        sa.PrimaryKeyConstraint("client_id"),
    )
    with op.batch_alter_table("sync_client", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_client_account_id"), ["account_id"], unique=False)
    op.create_table(
        "sync_result",
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "seq"),
    )
    change = op.create_table(
        "sync_change",
        sa.Column("table_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("row_id", sa.Uuid(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=True),
        sa.Column("origin", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("table_name", "row_id"),
    )
    with op.batch_alter_table("sync_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sync_change_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sync_change_n"), ["n"], unique=False)
    op.create_table(
        "sync_alias",
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("local_id", sa.Uuid(), nullable=False),
        sa.Column("server_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "local_id"),
    )
    n = _number_existing_rows(change)
    op.bulk_insert(counter, [{"id": 1, "n": n}])


def _number_existing_rows(change: sa.Table) -> int:
    """Give every existing row a change number (its rev) and a sync_change entry."""
    bind = op.get_bind()
    meta = sa.MetaData()
    n = 0
    for name in ("person", "application", *SECTIONS):
        t = sa.Table(name, meta, autoload_with=bind)
        app_col = t.c.id if name == "application" else t.c.get("application_id")
        cols = [t.c.id] + ([app_col] if app_col is not None else [])
        rows = bind.execute(sa.select(*cols).order_by(t.c.id)).all()
        entries = []
        for row in rows:
            n += 1
            bind.execute(sa.update(t).where(t.c.id == row[0]).values(rev=n))
            app = _uuid(row[1]) if len(row) > 1 else None
            entries.append(
                {"table_name": name, "row_id": _uuid(row[0]), "n": n, "application_id": app}
            )
        if entries:
            op.bulk_insert(change, entries)
    return n


def _uuid(value: object) -> uuid.UUID | None:
    # Reflected SQLite columns hand back the stored hex text; PostgreSQL gives UUIDs.
    return None if value is None else uuid.UUID(str(value))


def downgrade() -> None:
    for name in ("sync_alias", "sync_change", "sync_result", "sync_client", "sync_counter"):
        op.drop_table(name)
