"""Alembic environment: run online, on the connection :func:`dialer.ledger.engine.migrate` gives."""

from alembic import context
from sqlmodel import SQLModel

import dialer.models  # noqa: F401  (registers the tables on SQLModel.metadata)

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    # One transaction per migration: a migration may leave its own for an autocommit block
    # (CREATE INDEX CONCURRENTLY on Postgres).
    transaction_per_migration=True,
)
with context.begin_transaction():
    context.run_migrations()
