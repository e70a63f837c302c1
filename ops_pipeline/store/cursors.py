"""Named ingestion cursors: where an incremental reader (run history, metrics) left off."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from ops_pipeline.store.tables import ingestion_cursors


def read_cursor(conn: sa.Connection, name: str) -> str | None:
    return conn.execute(sa.select(ingestion_cursors.c.value).where(ingestion_cursors.c.name == name)).scalar()


def write_cursor(conn: sa.Connection, name: str, value: str) -> None:
    """Set inside the caller's transaction, so the cursor moves only together with the rows it covers."""
    now = datetime.now(UTC)
    updated = conn.execute(
        ingestion_cursors.update().where(ingestion_cursors.c.name == name).values(value=value, updated_at=now)
    ).rowcount
    if not updated:
        conn.execute(ingestion_cursors.insert().values(name=name, value=value, updated_at=now))
