"""Range queries longer than one query may return: split into consecutive queries, joined per series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from ops_pipeline.metrics.series import MetricSeries, grid
from ops_pipeline.metrics.source import MAX_POINTS_PER_SERIES, MetricsSource


def query_long_range(source: MetricsSource, query: str, start: int, end: int, step: int) -> list[MetricSeries]:
    """`source.query_range` on the grid start..end (epoch seconds) by step, however many points that is: one
    query per MAX_POINTS_PER_SERIES grid points, the pieces of each series joined in time order."""
    times = grid(start, end, step)
    pieces: dict[str, list[MetricSeries]] = {}
    for first in range(0, times.size, MAX_POINTS_PER_SERIES):
        last = min(first + MAX_POINTS_PER_SERIES, times.size) - 1
        low, high = (datetime.fromtimestamp(int(times[i]), UTC) for i in (first, last))
        for one in source.query_range(query, low, high, timedelta(seconds=step)):
            pieces.setdefault(one.series_key, []).append(one)
    return [parts[0] if len(parts) == 1 else _joined(parts) for parts in pieces.values()]


def _joined(parts: list[MetricSeries]) -> MetricSeries:
    return MetricSeries(
        parts[0].metric,
        parts[0].labels,
        np.concatenate([p.timestamps for p in parts]),
        np.concatenate([p.values for p in parts]),
    )
