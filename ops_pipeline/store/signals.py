"""Insight signals in the ops store (streaming detector states: `detector_states`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ops_pipeline.core.signals import InsightSignal
from ops_pipeline.store.tables import insight_signals

BATCH = 1000


def replace_partition(
    conn: sa.Connection, partition_date: str, detectors: Sequence[str], signals: Sequence[InsightSignal]
) -> None:
    """The day's signals of these detectors become exactly `signals`: rerunning a day never duplicates."""
    conn.execute(
        insight_signals.delete().where(
            insight_signals.c.partition_date == partition_date, insight_signals.c.detector.in_(list(detectors))
        )
    )
    rows = [_row(s) for s in signals]
    for start in range(0, len(rows), BATCH):
        conn.execute(insight_signals.insert(), rows[start : start + BATCH])


def record_new(conn: sa.Connection, signals: Sequence[InsightSignal]) -> list[InsightSignal]:
    """Insert the signals not yet recorded; return just those, so each new anomaly is acted on once."""
    if not signals:
        return []
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    new_keys: set[tuple[str, str, datetime]] = set()
    for start in range(0, len(signals), BATCH):
        statement = (
            insert(insight_signals)
            .values([_row(s) for s in signals[start : start + BATCH]])
            .on_conflict_do_nothing(index_elements=["detector", "series_key", "ts"])
            .returning(insight_signals.c.detector, insight_signals.c.series_key, insight_signals.c.ts)
        )
        new_keys.update((r.detector, r.series_key, _utc(r.ts)) for r in conn.execute(statement))
    return [s for s in signals if (s.detector, s.series_key, s.ts) in new_keys]


def signals_on(engine: sa.Engine, partition_date: str) -> list[InsightSignal]:
    query = (
        sa.select(insight_signals)
        .where(insight_signals.c.partition_date == partition_date)
        .order_by(insight_signals.c.ts, insight_signals.c.detector, insight_signals.c.series_key)
    )
    with engine.connect() as conn:
        return [_signal(r) for r in conn.execute(query)]


def recent_signals(engine: sa.Engine, limit: int = 50) -> list[InsightSignal]:
    query = sa.select(insight_signals).order_by(insight_signals.c.ts.desc(), insight_signals.c.id.desc()).limit(limit)
    with engine.connect() as conn:
        return [_signal(r) for r in conn.execute(query)]


def _row(signal: InsightSignal) -> dict[str, Any]:
    return {
        "detector": signal.detector,
        "metric": signal.metric,
        "labels": signal.labels,
        "series_key": signal.series_key,
        "ts": signal.ts,
        "partition_date": signal.partition_date,
        "value": signal.value,
        "score": signal.score,
        "threshold": signal.threshold,
        "direction": signal.direction,
        "severity": signal.severity,
        "hint": signal.hint,
        "origin": signal.origin,
        "created_at": datetime.now(UTC),
    }


def _signal(row: sa.Row) -> InsightSignal:
    return InsightSignal(
        detector=row.detector,
        metric=row.metric,
        labels=row.labels,
        series_key=row.series_key,
        ts=_utc(row.ts),
        value=row.value,
        score=row.score,
        threshold=row.threshold,
        direction=row.direction,
        severity=row.severity,
        hint=row.hint,
        origin=row.origin,
    )


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
