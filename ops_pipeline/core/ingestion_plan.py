"""Planning a backfill before launching it: rows per window, their distribution, a suggested batch size and
a time estimate from measured throughput."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

# A run should take minutes, not hours: long enough to amortise run start-up, short enough to retry cheaply.
TARGET_RUN_S = 300.0
MAX_PARTITIONS_PER_RUN = 100


@dataclass(frozen=True)
class WindowCount:
    start: datetime
    rows: int


@dataclass(frozen=True)
class IngestionPlan:
    pipeline: str
    windows: tuple[WindowCount, ...]
    total_rows: int
    empty_windows: int
    min_rows: int
    median_rows: int
    p95_rows: int
    max_rows: int
    rows_per_s: float | None
    throughput_measured: bool
    suggested_partitions_per_run: int
    estimated_s: float | None

    def summary(self) -> str:
        estimate = "unknown (no load measured yet)" if self.estimated_s is None else f"{self.estimated_s:.0f} s"
        basis = "measured" if self.throughput_measured else "assumed"
        rate = "n/a" if self.rows_per_s is None else f"{self.rows_per_s:,.0f} rows/s ({basis})"
        return (
            f"{self.pipeline}: {len(self.windows)} windows, {self.total_rows:,} rows "
            f"(min {self.min_rows:,}, median {self.median_rows:,}, p95 {self.p95_rows:,}, max {self.max_rows:,}, "
            f"{self.empty_windows} empty); throughput {rate}; suggested partitions per run "
            f"{self.suggested_partitions_per_run}; estimated time {estimate}"
        )


def plan_ingestion(
    pipeline: str, windows: Sequence[WindowCount], rows_per_s: float | None, *, measured: bool
) -> IngestionPlan:
    counts = sorted(w.rows for w in windows)
    total = sum(counts)
    median = counts[len(counts) // 2] if counts else 0
    p95 = counts[min(len(counts) - 1, math.ceil(0.95 * len(counts)) - 1)] if counts else 0
    estimated = total / rows_per_s if rows_per_s else None
    return IngestionPlan(
        pipeline=pipeline,
        windows=tuple(windows),
        total_rows=total,
        empty_windows=sum(1 for c in counts if c == 0),
        min_rows=counts[0] if counts else 0,
        median_rows=median,
        p95_rows=p95,
        max_rows=counts[-1] if counts else 0,
        rows_per_s=rows_per_s,
        throughput_measured=measured,
        suggested_partitions_per_run=suggest_partitions_per_run(p95, rows_per_s),
        estimated_s=estimated,
    )


def suggest_partitions_per_run(typical_rows: int, rows_per_s: float | None) -> int:
    """How many windows fit in one run of about TARGET_RUN_S, sized on the p95 window."""
    if not rows_per_s or typical_rows <= 0:
        return 1 if typical_rows > 0 else MAX_PARTITIONS_PER_RUN
    fitting = int(TARGET_RUN_S * rows_per_s // typical_rows)
    return max(1, min(MAX_PARTITIONS_PER_RUN, fitting))


def parse_moment(text: str) -> datetime:
    """An ISO date or timestamp; without an offset it is UTC."""
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
