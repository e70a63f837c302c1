"""INSERT with ON CONFLICT for the store's two dialects: SQLAlchemy spells it per dialect."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite


def insert_for(conn: sa.Connection, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT on `table` that supports `on_conflict_do_update/nothing` on this connection's database."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"the ops store runs on PostgreSQL or SQLite, not {conn.dialect.name}")
