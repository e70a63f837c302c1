"""Recorded metrics: samples from a CSV or Parquet file, queried with a selector like a Prometheus range query.

- `files`: the file format (columns, suffixes).
- `reader`: a file's columns read into arrays, with bad_data errors naming file, row and column.
- `csv_tail`: CSV record boundaries, for continuing the parse of a CSV file that was appended to.
- `series`: samples grouped into series (`RecordedSeries`), and resampling onto a step grid.
- `cache`: `load_recorded`, parsed files cached by version, CSV files read incrementally.
- `source`: `RecordedMetricsSource`, the MetricsSource over a recorded file.
- `lock`: the lock file beside a CSV file, shared by readers and held exclusively by writers.
- `append`: `append_points`, validated samples appended to a CSV file.
"""

from __future__ import annotations

from ops_pipeline.metrics.recorded.append import append_points
from ops_pipeline.metrics.recorded.cache import clear_cache, load_recorded
from ops_pipeline.metrics.recorded.series import RecordedSeries
from ops_pipeline.metrics.recorded.source import RecordedMetricsSource

__all__ = [
    "RecordedMetricsSource",
    "RecordedSeries",
    "append_points",
    "clear_cache",
    "load_recorded",
]
