"""Catalog snapshots: a scan's life (pending -> scanning -> completed | failed) and the snapshot rows.

A scan's snapshot row exists before the source is read, so a scan that fails or is killed is recorded as such
(`mark_failed`, or `fail_abandoned` from the liveness check), and the previous completed snapshot stays the
latest good one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from ops_pipeline.core.catalog import Catalog
from ops_pipeline.core.drift import SchemaChange
from ops_pipeline.store.tables import catalog_snapshots

OPEN = ("pending", "scanning")


class SnapshotStateError(RuntimeError):
    """A snapshot was moved along a transition its state does not allow."""


@dataclass(frozen=True)
class Snapshot:
    id: int
    source: str
    source_type: str
    status: str
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_s: float | None
    error: str | None
    version: str | None
    server_version: str | None
    table_count: int | None
    column_count: int | None
    change_count: int | None
    breaking_change_count: int | None
    exact_row_counts: bool
    run_id: str | None
    heartbeat_at: datetime | None


@dataclass(frozen=True)
class CompletedScan:
    snapshot: Snapshot
    catalog: Catalog
    previous: Snapshot | None
    changes: list[SchemaChange]


# Snapshot columns that belong to the scanned catalog, read with it rather than with the snapshot's status.
SCAN_CONTENT = ("user_types", "notes")


def now() -> datetime:
    return datetime.now(UTC)


def snapshot_of(row: sa.Row) -> Snapshot:
    values = dict(row._mapping)
    for column in SCAN_CONTENT:
        values.pop(column, None)
    for column in ("requested_at", "started_at", "finished_at", "heartbeat_at"):
        values[column] = utc(values[column])
    return Snapshot(**values)


def utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; the store writes them in UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def create_snapshot(
    engine: sa.Engine, source: str, source_type: str, *, exact_row_counts: bool = False, run_id: str | None = None
) -> int:
    with engine.begin() as conn:
        result = conn.execute(
            catalog_snapshots.insert().values(
                source=source,
                source_type=source_type,
                status="pending",
                requested_at=now(),
                heartbeat_at=now(),
                exact_row_counts=exact_row_counts,
                run_id=run_id,
            )
        )
        snapshot_id: int = result.inserted_primary_key[0]  # type: ignore[index]
        return snapshot_id


def mark_scanning(engine: sa.Engine, snapshot_id: int) -> None:
    _transition(engine, snapshot_id, "pending", status="scanning", started_at=now())


def heartbeat(engine: sa.Engine, snapshot_id: int) -> None:
    """The scan of `snapshot_id` is still alive."""
    with engine.begin() as conn:
        conn.execute(
            catalog_snapshots.update()
            .where(catalog_snapshots.c.id == snapshot_id, catalog_snapshots.c.status.in_(OPEN))
            .values(heartbeat_at=now())
        )


def open_snapshots(engine: sa.Engine, source: str | None = None) -> list[Snapshot]:
    """Snapshots still pending or scanning, of one source or all."""
    query = sa.select(catalog_snapshots).where(catalog_snapshots.c.status.in_(OPEN))
    if source is not None:
        query = query.where(catalog_snapshots.c.source == source)
    with engine.connect() as conn:
        return [snapshot_of(r) for r in conn.execute(query.order_by(catalog_snapshots.c.id))]


def fail_abandoned(engine: sa.Engine, snapshot_id: int, reason: str) -> bool:
    """Mark an open snapshot failed because its scan is gone; False when it finished meanwhile."""
    finished = now()
    with engine.begin() as conn:
        updated = conn.execute(
            catalog_snapshots.update()
            .where(catalog_snapshots.c.id == snapshot_id, catalog_snapshots.c.status.in_(OPEN))
            .values(status="failed", finished_at=finished, error=reason)
        ).rowcount
    return bool(updated == 1)


def mark_failed(engine: sa.Engine, snapshot_id: int, error: str) -> None:
    snapshot = get_snapshot(engine, snapshot_id)
    if snapshot.status not in ("pending", "scanning"):
        raise SnapshotStateError(f"snapshot {snapshot_id} is {snapshot.status}; only an open scan can fail")
    finished = now()
    _transition(
        engine,
        snapshot_id,
        snapshot.status,
        status="failed",
        finished_at=finished,
        error=error,
        duration_s=duration(snapshot.started_at or snapshot.requested_at, finished),
    )


def get_snapshot(engine: sa.Engine, snapshot_id: int) -> Snapshot:
    with engine.connect() as conn:
        row = conn.execute(by_id(snapshot_id)).one_or_none()
    if row is None:
        raise LookupError(f"no catalog snapshot with id {snapshot_id}")
    return snapshot_of(row)


def latest_completed(engine: sa.Engine, source: str) -> Snapshot | None:
    with engine.connect() as conn:
        return latest_completed_in(conn, source)


def list_snapshots(engine: sa.Engine, source: str, limit: int = 20) -> list[Snapshot]:
    query = (
        sa.select(catalog_snapshots)
        .where(catalog_snapshots.c.source == source)
        .order_by(catalog_snapshots.c.id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        return [snapshot_of(r) for r in conn.execute(query)]


def by_id(snapshot_id: int) -> sa.Select:
    return sa.select(catalog_snapshots).where(catalog_snapshots.c.id == snapshot_id)


def latest_completed_in(conn: sa.Connection, source: str) -> Snapshot | None:
    row = conn.execute(
        sa.select(catalog_snapshots)
        .where(catalog_snapshots.c.source == source, catalog_snapshots.c.status == "completed")
        .order_by(catalog_snapshots.c.id.desc())
        .limit(1)
    ).one_or_none()
    return snapshot_of(row) if row else None


def _transition(engine: sa.Engine, snapshot_id: int, expected: str, **values: object) -> None:
    with engine.begin() as conn:
        updated = conn.execute(
            catalog_snapshots.update()
            .where(catalog_snapshots.c.id == snapshot_id, catalog_snapshots.c.status == expected)
            .values(**values)
        ).rowcount
    if updated != 1:
        raise SnapshotStateError(f"snapshot {snapshot_id} is not {expected}; cannot move it to {values['status']}")


def duration(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds())
