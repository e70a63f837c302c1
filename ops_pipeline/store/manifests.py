"""The backfill audit manifest: one record per partition load, queryable and exportable as JSON."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from ops_pipeline.store.tables import backfill_manifests


@dataclass(frozen=True)
class ManifestRecord:
    pipeline: str
    partition_key: str
    window_start: datetime
    window_end: datetime
    run_id: str | None
    rows_read: int
    rows_written: int
    source_checksum: str
    destination_checksum: str
    reconciled: bool
    validation_score: float
    duration_s: float
    rows_per_s: float
    created_at: datetime


def record_manifest(conn: sa.Connection, record: ManifestRecord) -> None:
    conn.execute(backfill_manifests.insert().values(**asdict(record)))


def manifests(
    engine: sa.Engine, pipeline: str, partition_key: str | None = None, limit: int | None = None
) -> list[ManifestRecord]:
    """Newest first."""
    query = sa.select(backfill_manifests).where(backfill_manifests.c.pipeline == pipeline)
    if partition_key is not None:
        query = query.where(backfill_manifests.c.partition_key == partition_key)
    query = query.order_by(backfill_manifests.c.id.desc())
    if limit is not None:
        query = query.limit(limit)
    with engine.connect() as conn:
        return [_record(r) for r in conn.execute(query)]


def manifests_json(records: list[ManifestRecord]) -> str:
    return json.dumps([asdict(r) for r in records], default=_iso, indent=2, sort_keys=True) + "\n"


def median_rows_per_s(engine: sa.Engine, pipeline: str, last: int = 500) -> float | None:
    """Measured throughput of the runs among the `last` loads, for planning: per run, its rows over the wall-clock
    span of its windows (which may load side by side); the median run's. None before the first rows load."""
    by_run: dict[str, list[ManifestRecord]] = defaultdict(list)
    for index, record in enumerate(manifests(engine, pipeline, limit=last)):
        by_run[record.run_id or f"no run id #{index}"].append(record)  # a load outside a run stands alone
    rates = sorted(rate for records in by_run.values() if (rate := _run_rate(records)) is not None)
    return rates[len(rates) // 2] if rates else None


def _run_rate(records: list[ManifestRecord]) -> float | None:
    rows = sum(r.rows_written for r in records)
    began = min(r.created_at.timestamp() - r.duration_s for r in records)
    span = max(r.created_at.timestamp() for r in records) - began
    return rows / span if rows > 0 and span > 0 else None


def _record(row: sa.Row) -> ManifestRecord:
    values = {k: v for k, v in row._mapping.items() if k != "id"}
    for key in ("window_start", "window_end", "created_at"):
        if values[key].tzinfo is None:
            values[key] = values[key].replace(tzinfo=UTC)
    return ManifestRecord(**values)


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")
