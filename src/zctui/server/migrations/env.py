"""Alembic environment of the server's own tables (SQLite and PostgreSQL)."""

from alembic import context

from zctui.server.models import ServerModel

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # `alembic` run by hand: use sqlalchemy.url from the command line
    from zctui.server.db import make_engine

    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=ServerModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
