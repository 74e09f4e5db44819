"""Alembic environment: childsafe runs migrations in-process on a connection it hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from childsafe.store.schema import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError("childsafe migrations run through childsafe.store.database.migrate(), not the alembic CLI")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
