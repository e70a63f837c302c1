"""Counting a backfill's source rows per window, for `plan_ingestion`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from ops_pipeline.backfill.endpoints import Endpoint, open_endpoint
from ops_pipeline.backfill.source_relation import source_relation
from ops_pipeline.core.ingestion_plan import IngestionPlan, WindowCount, plan_ingestion
from ops_pipeline.settings import OpsSettings
from ops_pipeline.store.manifests import median_rows_per_s

WINDOW = {"hourly": timedelta(hours=1), "daily": timedelta(days=1)}


def plan_backfill(
    settings: OpsSettings, pipeline: str, start: datetime, end: datetime, engine: sa.Engine
) -> IngestionPlan:
    """Rows per window in [start, end) read from the source, and a plan sized on measured throughput."""
    spec = settings.backfills[pipeline]
    step = WINDOW[spec.window]
    with open_endpoint(spec.source, settings.source(spec.source)) as src:
        counted = _count_per_window(src, source_relation(src, spec), spec.time_column, spec.window, start, end)
    windows = []
    moment = start
    while moment < end:
        windows.append(WindowCount(moment, counted.get(moment, 0)))
        moment += step
    measured = median_rows_per_s(engine, pipeline)
    return plan_ingestion(pipeline, windows, measured, measured=measured is not None)


def _bucket(endpoint: Endpoint, column: str, window: str) -> str:
    quoted = endpoint.quote(column)
    if endpoint.dialect == "postgresql":
        return f"date_trunc('{'hour' if window == 'hourly' else 'day'}', {quoted})"
    pattern = "%Y-%m-%d %H:00:00" if window == "hourly" else "%Y-%m-%d 00:00:00"
    if endpoint.dialect == "mysql":
        return f"DATE_FORMAT({quoted}, '{pattern.replace('%', '%%')}')"  # PyMySQL formats with %
    return f"strftime('{pattern}', {quoted})"


def _count_per_window(
    src: Endpoint, relation: str, column: str, window: str, start: datetime, end: datetime
) -> dict[datetime, int]:
    bucket = _bucket(src, column, window)
    t = src.quote(column)
    sql = (
        f"SELECT {bucket}, count(*) FROM {relation} WHERE {t} >= {src.placeholder} AND {t} < {src.placeholder} "
        f"GROUP BY 1"
    )
    cursor = src.connection.cursor()
    try:
        cursor.execute(sql, (src.bound(start), src.bound(end)))
        return {_as_utc(bucket_start): int(count) for bucket_start, count in cursor.fetchall()}
    finally:
        cursor.close()


def _as_utc(value: object) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
