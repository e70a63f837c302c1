"""The samples of a file grouped into time-sorted series (`RecordedSeries`), new rows merged into them as one
parse of the whole file would group them, and Prometheus-style resampling of a series onto a step grid."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

LOOKBACK_S = 300


@dataclass(frozen=True)
class RecordedSeries:
    """All samples of a file, grouped: series i owns timestamps/values[offsets[i]:offsets[i+1]], time-sorted."""

    metrics: tuple[str, ...]
    labels: tuple[tuple[tuple[str, str], ...], ...]
    offsets: np.ndarray
    timestamps: np.ndarray  # float64 epoch seconds
    values: np.ndarray  # float64
    by_metric: Mapping[str, tuple[int, ...]]

    @property
    def series_count(self) -> int:
        return len(self.metrics)

    @property
    def sample_count(self) -> int:
        return int(self.timestamps.size)


SeriesKey = tuple[str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class Columns:
    """The rows of a table as arrays: per row its time, value and series code; per code its (metric, labels)."""

    timestamps: np.ndarray
    values: np.ndarray
    series_codes: np.ndarray  # int64, numbered in order of first appearance
    keys: list[SeriesKey]


def _frozen(*arrays: np.ndarray) -> None:
    for array in arrays:
        array.setflags(write=False)


def group(columns: Columns) -> RecordedSeries:
    order = np.lexsort((columns.timestamps, columns.series_codes))  # stable: equal times keep file order
    counts = np.bincount(columns.series_codes, minlength=len(columns.keys))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    by_metric: dict[str, list[int]] = {}
    for index, (metric, _) in enumerate(columns.keys):
        by_metric.setdefault(metric, []).append(index)
    sorted_times = columns.timestamps[order]
    sorted_values = columns.values[order]
    _frozen(offsets, sorted_times, sorted_values)
    return RecordedSeries(
        metrics=tuple(metric for metric, _ in columns.keys),
        labels=tuple(labels for _, labels in columns.keys),
        offsets=offsets,
        timestamps=sorted_times,
        values=sorted_values,
        by_metric={metric: tuple(ids) for metric, ids in by_metric.items()},
    )


def series_ids(data: RecordedSeries) -> dict[SeriesKey, int]:
    return {key: index for index, key in enumerate(zip(data.metrics, data.labels, strict=True))}


def merge(old: RecordedSeries, ids: dict[SeriesKey, int], new: Columns) -> tuple[RecordedSeries, dict[SeriesKey, int]]:
    """`old` with the samples of `new` (rows that follow `old`'s in the file), as one parse of both would
    group them: series numbered by first appearance, each time-sorted with the later row after at equal times."""
    added_keys = [key for key in dict.fromkeys(new.keys) if key not in ids]
    if added_keys:
        ids = {**ids, **{key: len(ids) + index for index, key in enumerate(added_keys)}}
    to_series = np.array([ids[key] for key in new.keys], dtype=np.int64)
    codes = to_series[new.series_codes] if new.series_codes.size else new.series_codes
    series_count = old.series_count + len(added_keys)
    old_counts = np.zeros(series_count, dtype=np.int64)
    old_counts[: old.series_count] = np.diff(old.offsets)
    new_counts = np.bincount(codes, minlength=series_count)
    offsets = np.concatenate([[0], np.cumsum(old_counts + new_counts)]).astype(np.int64)

    order = np.lexsort((new.timestamps, codes))  # by series, then time; equal times keep file order
    codes, times, values = codes[order], new.timestamps[order], new.values[order]
    new_starts = np.concatenate([[0], np.cumsum(new_counts)])[:-1]
    rank = np.arange(codes.size, dtype=np.int64) - new_starts[codes]  # among the series' new samples
    # Where each new sample goes among its series' old ones: after those with a time <= its own (the later row
    # wins). Usually after all of them; a series with an earlier new sample is searched.
    position = old_counts[codes].copy()
    old_last = np.full(series_count, -np.inf)
    nonempty = np.flatnonzero(old_counts > 0)
    old_last[nonempty] = old.timestamps[old.offsets[nonempty + 1] - 1]
    for series in np.unique(codes[times < old_last[codes]]).tolist():
        low, high = int(old.offsets[series]), int(old.offsets[series + 1])
        first, last = int(new_starts[series]), int(new_starts[series] + new_counts[series])
        position[first:last] = np.searchsorted(old.timestamps[low:high], times[first:last], side="right")
    destination = offsets[codes] + position + rank
    total = int(offsets[-1])
    keep_old = np.ones(total, dtype=bool)
    keep_old[destination] = False
    merged_times = np.empty(total, dtype=np.float64)
    merged_values = np.empty(total, dtype=np.float64)
    merged_times[keep_old], merged_times[destination] = old.timestamps, times
    merged_values[keep_old], merged_values[destination] = old.values, values
    _frozen(offsets, merged_times, merged_values)
    by_metric = dict(old.by_metric)
    for offset, (metric, _) in enumerate(added_keys):
        by_metric[metric] = (*by_metric.get(metric, ()), old.series_count + offset)
    merged = RecordedSeries(
        metrics=old.metrics + tuple(metric for metric, _ in added_keys),
        labels=old.labels + tuple(labels for _, labels in added_keys),
        offsets=offsets,
        timestamps=merged_times,
        values=merged_values,
        by_metric=by_metric,
    )
    return merged, ids


def resample(
    times: np.ndarray, values: np.ndarray, grid_times: np.ndarray, lookback_s: float = LOOKBACK_S
) -> tuple[np.ndarray, np.ndarray]:
    """Prometheus-style instant values at `grid_times` from time-sorted samples: (values, which grid points had one).

    At t: the latest sample with t - lookback < time <= t; NaN and False where there is none.
    """
    index = np.searchsorted(times, grid_times, side="right") - 1
    safe = np.clip(index, 0, None)
    hit = (index >= 0) & (grid_times - times[safe] < lookback_s) if times.size else np.zeros(grid_times.size, bool)
    out = np.full(grid_times.size, np.nan, dtype=np.float64)
    if times.size:
        out[hit] = values[safe[hit]]
    return out, hit
