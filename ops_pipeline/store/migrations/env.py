"""Alembic environment: runs on the connection that store.engine.upgrade() hands over."""

from __future__ import annotations

from alembic import context

from ops_pipeline.store.engine import VERSION_TABLE
from ops_pipeline.store.metadata import all_tables

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=all_tables(),
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
