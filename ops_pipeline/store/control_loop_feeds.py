"""What the control loop's signal sensor reads from other domains' tables, by id, after its cursor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from ops_pipeline.store.tables import catalog_snapshots, insight_signals, schema_changes


@dataclass(frozen=True)
class NewSignal:
    id: int
    detector: str
    series_key: str
    ts: datetime
    severity: str
    hint: str


@dataclass(frozen=True)
class SnapshotDrift:
    """The schema changes one catalog scan found: breaking when any of them is."""

    last_change_id: int
    snapshot_id: int
    source: str
    at: datetime
    breaking: bool
    changes: int
    summary: str


def newest_ids(conn: sa.Connection) -> tuple[int, int]:
    """(newest signal id, newest schema change id): where a sensor starts on its first tick."""
    signal = conn.execute(sa.select(sa.func.max(insight_signals.c.id))).scalar() or 0
    change = conn.execute(sa.select(sa.func.max(schema_changes.c.id))).scalar() or 0
    return int(signal), int(change)


def signals_after(conn: sa.Connection, after_id: int, limit: int) -> list[NewSignal]:
    query = (
        sa.select(insight_signals).where(insight_signals.c.id > after_id).order_by(insight_signals.c.id).limit(limit)
    )
    return [NewSignal(r.id, r.detector, r.series_key, _utc(r.ts), r.severity, r.hint) for r in conn.execute(query)]


def drift_after(conn: sa.Connection, after_id: int, limit: int) -> list[SnapshotDrift]:
    """The changes stored after `after_id`, one entry per scan, oldest first."""
    query = (
        sa.select(schema_changes, catalog_snapshots.c.finished_at)
        .join(catalog_snapshots, catalog_snapshots.c.id == schema_changes.c.snapshot_id)
        .where(schema_changes.c.id > after_id)
        .order_by(schema_changes.c.id)
        .limit(limit)
    )
    found: dict[int, SnapshotDrift] = {}
    for row in conn.execute(query):
        seen = found.get(row.snapshot_id)
        breaking = row.classification == "breaking"
        at = _utc(row.finished_at) if row.finished_at else datetime.now(UTC)
        if seen is None:
            found[row.snapshot_id] = SnapshotDrift(
                row.id, row.snapshot_id, row.source, at, breaking, 1, row.description
            )
        else:
            summary = seen.summary if seen.changes >= 5 else f"{seen.summary}; {row.description}"
            found[row.snapshot_id] = SnapshotDrift(
                row.id, row.snapshot_id, row.source, at, seen.breaking or breaking, seen.changes + 1, summary
            )
    return list(found.values())


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
