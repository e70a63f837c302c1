"""Counting a backfill's source rows per window, for `plan_ingestion`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from ops_pipeline.backfill.pipeline import open_session, source_relation
from ops_pipeline.core.ingestion_plan import IngestionPlan, WindowCount, plan_ingestion
from ops_pipeline.settings import OpsSettings
from ops_pipeline.sources.sql import Session, WindowSize
from ops_pipeline.store.manifests import median_rows_per_s

WINDOW = {"hourly": timedelta(hours=1), "daily": timedelta(days=1)}


def plan_backfill(
    settings: OpsSettings, pipeline: str, start: datetime, end: datetime, engine: sa.Engine
) -> IngestionPlan:
    """Rows per window in [start, end) read from the source, and a plan sized on measured throughput."""
    spec = settings.backfills[pipeline]
    step = WINDOW[spec.window]
    with open_session(settings, spec.source) as src:
        counted = _count_per_window(src, source_relation(src, spec), spec.time_column, spec.window, start, end)
    windows = []
    moment = start
    while moment < end:
        windows.append(WindowCount(moment, counted.get(moment, 0)))
        moment += step
    measured = median_rows_per_s(engine, pipeline)
    return plan_ingestion(pipeline, windows, measured, measured=measured is not None)


def _count_per_window(
    src: Session, relation: str, column: str, window: WindowSize, start: datetime, end: datetime
) -> dict[datetime, int]:
    sql = src.database.window_count_sql(relation, column, window)
    return {_as_utc(bucket_start): int(count) for bucket_start, count in src.rows(sql, src.bounds(start, end))}


def _as_utc(value: object) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
