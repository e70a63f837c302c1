"""Metrics derived from the run history, per workflow over time.

- `workflow_duration_seconds{workflow="..."}`: mean duration of the runs created in each step bucket
- `workflow_failure_rate{workflow="..."}`: failed / finished runs created in each step bucket
- `workflow_runs{workflow="..."}`: finished runs created in each step bucket

The value at grid timestamp t covers the runs created in (t - step, t]; a bucket without runs is a gap (NaN).
Queries are selectors over these names and the `workflow` and `origin` labels.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import numpy as np
import sqlalchemy as sa

from ops_pipeline.core.metric_selector import parse_selector
from ops_pipeline.core.runs import RunRecord
from ops_pipeline.metrics.series import MetricSeries
from ops_pipeline.metrics.source import MetricsSource
from ops_pipeline.store.runs import runs_between


class RunHistoryMetricsSource(MetricsSource):
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def describe(self) -> str:
        return "run history"

    def _query_range(self, query: str, start: int, end: int, step: int) -> list[MetricSeries]:
        selector = parse_selector(query)
        grid = np.arange(start, end + 1, step, dtype=np.int64)
        runs = runs_between(self.engine, datetime.fromtimestamp(start - step, UTC), datetime.fromtimestamp(end, UTC))
        by_workflow: dict[tuple[str, str], list[RunRecord]] = defaultdict(list)
        for run in runs:
            by_workflow[(run.workflow, run.origin)].append(run)
        series: list[MetricSeries] = []
        for (workflow, origin), workflow_runs in sorted(by_workflow.items()):
            labels = {"workflow": workflow, "origin": origin}
            buckets = _bucket_of(workflow_runs, grid, step)
            for metric, values in _metric_values(workflow_runs, buckets, len(grid)).items():
                if selector.matches(metric, labels) and not np.isnan(values).all():
                    series.append(MetricSeries(metric, tuple(labels.items()), grid, values))
        return series


def _bucket_of(runs: list[RunRecord], grid: np.ndarray, step: int) -> np.ndarray:
    """Index of the grid point whose bucket (t - step, t] holds each run's creation time, -1 if none."""
    created = np.array([r.created_at.timestamp() for r in runs])
    index = np.searchsorted(grid, created, side="left")
    inside = (index < len(grid)) & (created > grid[np.minimum(index, len(grid) - 1)] - step)
    return np.where(inside, index, -1)


def _metric_values(runs: list[RunRecord], buckets: np.ndarray, size: int) -> dict[str, np.ndarray]:
    keep = buckets >= 0
    bucket = buckets[keep]
    kept = [r for r, k in zip(runs, keep, strict=True) if k]
    failed = np.array([r.status == "failure" for r in kept], dtype=float)
    durations = np.array([np.nan if r.duration_ms is None else r.duration_ms / 1000.0 for r in kept])
    count = np.bincount(bucket, minlength=size).astype(float)
    timed = ~np.isnan(durations)
    duration_sum = np.bincount(bucket[timed], weights=durations[timed], minlength=size)
    duration_count = np.bincount(bucket[timed], minlength=size).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "workflow_runs": np.where(count > 0, count, np.nan),
            "workflow_failure_rate": np.where(
                count > 0, np.bincount(bucket, weights=failed, minlength=size) / count, np.nan
            ),
            "workflow_duration_seconds": np.where(duration_count > 0, duration_sum / duration_count, np.nan),
        }
