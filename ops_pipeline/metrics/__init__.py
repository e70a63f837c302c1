"""Metrics sources for the insight engine: time series from Prometheus or from a recorded CSV/Parquet file.

No Dagster here. Every source answers `query_range(query, start, end, step)` with `MetricSeries` on the step
grid (NaN where a series has no value), and fails with a `MetricsError` whose `kind` says what went wrong;
no source ever makes data up on failure.
"""

from __future__ import annotations

from ops_pipeline.core.metric_selector import LabelMatcher, Selector, SelectorError, parse_selector
from ops_pipeline.metrics.prometheus import PrometheusSource
from ops_pipeline.metrics.recorded import RecordedMetricsSource, append_points
from ops_pipeline.metrics.series import ErrorKind, MetricSeries, MetricsError, align, format_series_key
from ops_pipeline.metrics.source import MetricsSource

__all__ = [
    "ErrorKind",
    "LabelMatcher",
    "MetricSeries",
    "MetricsError",
    "MetricsSource",
    "PrometheusSource",
    "RecordedMetricsSource",
    "Selector",
    "SelectorError",
    "align",
    "append_points",
    "format_series_key",
    "parse_selector",
]
