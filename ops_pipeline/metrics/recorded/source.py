"""`RecordedMetricsSource`: a MetricsSource answering range queries from a recorded metrics file.

`query_range(selector, start, end, step)` resamples each matching series onto the step grid the way a
Prometheus range query does: at each grid timestamp t the value is that of the latest sample with
t - 5 min < sample time <= t (the later row of the file wins between samples with the same time), else NaN.
So the first grid timestamps may take a sample from up to 5 minutes before `start`, as in Prometheus, while
every returned timestamp lies within [start, end]. A series with no sample in reach of any grid timestamp is
left out. The query is an instant-vector selector (see `ops_pipeline/metrics/selector.py`); anything else is
`bad_query`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ops_pipeline.core.metric_selector import SelectorError, parse_selector
from ops_pipeline.metrics.recorded.cache import load_recorded
from ops_pipeline.metrics.recorded.files import file_kind
from ops_pipeline.metrics.recorded.series import LOOKBACK_S, RecordedSeries, resample
from ops_pipeline.metrics.series import MetricSeries, MetricsError, grid
from ops_pipeline.metrics.source import MetricsSource


class RecordedMetricsSource(MetricsSource):
    """Samples recorded in a CSV or Parquet file (the format: see `files`; the semantics: the module docstring)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        file_kind(self.path)

    def describe(self) -> str:
        return f"recorded metrics {str(self.path)!r}"

    def __repr__(self) -> str:
        return f"RecordedMetricsSource({str(self.path)!r})"

    def load(self) -> RecordedSeries:
        return load_recorded(self.path)

    def _query_range(self, query: str, start: int, end: int, step: int) -> list[MetricSeries]:
        try:
            selector = parse_selector(query)
        except SelectorError as error:
            raise MetricsError("bad_query", str(error), source=self.describe()) from None
        data = self.load()
        candidates: Iterable[int] = (
            data.by_metric.get(selector.metric, ()) if selector.metric is not None else range(data.series_count)
        )
        grid_times = grid(start, end, step)
        result: list[MetricSeries] = []
        for index in candidates:
            metric, labels = data.metrics[index], data.labels[index]
            if not selector.matches(metric, dict(labels)):
                continue
            low, high = int(data.offsets[index]), int(data.offsets[index + 1])
            times = data.timestamps[low:high]
            first = int(np.searchsorted(times, start - LOOKBACK_S, side="right"))
            last = int(np.searchsorted(times, end, side="right"))
            values, hit = resample(times[first:last], data.values[low:high][first:last], grid_times)
            if hit.any():
                result.append(MetricSeries(metric, labels, grid_times, values))
        result.sort(key=lambda series: series.series_key)
        return result
