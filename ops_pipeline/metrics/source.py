"""The interface every metrics source implements: a Prometheus-style range query.

`query_range` checks its arguments the same way for every source and hands the subclass whole epoch seconds.
The answer's series are on the grid start, start+step, ... <= end, each with one value per grid timestamp (NaN
where the series has none); series with no value at all in the range are left out, as Prometheus does.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from datetime import datetime, timedelta

from ops_pipeline.metrics.series import MetricSeries, MetricsError

MAX_POINTS_PER_SERIES = 11_000  # Prometheus' own limit for one range query


def to_epoch_seconds(moment: datetime, what: str) -> int:
    """Whole epoch seconds of a timezone-aware datetime (sub-second parts dropped); ValueError when naive."""
    if not isinstance(moment, datetime):
        raise ValueError(f"{what} must be a datetime, not {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (for example datetime.now(timezone.utc)), got {moment!r}")
    return math.floor(moment.timestamp())


def check_range(start: datetime, end: datetime, step: timedelta) -> tuple[int, int, int]:
    """Validate a range query's arguments; return (start, end, step) in whole seconds.

    ValueError when start or end is naive, start is after end, or step is not a positive whole number of seconds.
    MetricsError(bad_query) when the grid would exceed Prometheus' 11,000 points per series.
    """
    start_s = to_epoch_seconds(start, "start")
    end_s = to_epoch_seconds(end, "end")
    if start > end:
        raise ValueError(f"start ({start.isoformat()}) is after end ({end.isoformat()})")
    if not isinstance(step, timedelta):
        raise ValueError(f"step must be a timedelta, not {type(step).__name__}")
    if step <= timedelta(0):
        raise ValueError(f"step must be positive, got {step}")
    if step.microseconds or step.total_seconds() < 1:
        raise ValueError(f"step must be a whole number of seconds, got {step}")
    step_s = int(step.total_seconds())
    points = (end_s - start_s) // step_s + 1
    if points > MAX_POINTS_PER_SERIES:
        raise MetricsError(
            "bad_query",
            f"{points} points per series exceeds the maximum of {MAX_POINTS_PER_SERIES}; "
            "raise the step or shorten the range",
        )
    return start_s, end_s, step_s


class MetricsSource(ABC):
    """A source of metric time series. Subclasses implement `_query_range` on whole epoch seconds."""

    def query_range(self, query: str, start: datetime, end: datetime, step: timedelta) -> list[MetricSeries]:
        """Evaluate `query` at start, start+step, ... <= end (timezone-aware datetimes, step >= 1 s).

        Raises ValueError for bad arguments and MetricsError when the source cannot answer.
        """
        if not isinstance(query, str) or not query.strip():
            raise ValueError("query must be a non-empty string")
        start_s, end_s, step_s = check_range(start, end, step)
        return self._query_range(query, start_s, end_s, step_s)

    @abstractmethod
    def _query_range(self, query: str, start: int, end: int, step: int) -> list[MetricSeries]:
        """The series of `query` on the grid start..end (inclusive) by step, all in epoch seconds."""

    def describe(self) -> str:
        """A short, secret-free description for messages (a URL or a file path)."""
        return type(self).__name__
