"""One metric time series, the error every metrics source raises, and alignment onto a shared time grid.

A `MetricSeries` is immutable: its arrays are private read-only copies. Timestamps are whole epoch seconds,
strictly ascending; a NaN value is a gap. Sources return series already on their query's step grid, so the
series of one query share their timestamps; `align` puts series from different queries or sources onto one
grid as an (S, T) matrix for vectorised detectors.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

ErrorKind = Literal["unreachable", "timeout", "http_error", "bad_query", "bad_data"]
ERROR_KINDS: tuple[str, ...] = ("unreachable", "timeout", "http_error", "bad_query", "bad_data")

ERROR_HINTS: dict[str, str] = {
    "timeout": "the server did not answer in time; check the network or raise timeout_s",
}


class MetricsError(Exception):
    """A metrics source could not answer. `kind` is one of ERROR_KINDS; `detail` is the bare reason.

    unreachable: no connection (refused, unknown host); timeout: no answer in time; http_error: an HTTP status
    the source did not expect; bad_query: the query was rejected (the server's own message is in `detail`);
    bad_data: the answer or the file could not be understood.
    """

    def __init__(self, kind: ErrorKind, detail: str, *, source: str | None = None) -> None:
        if kind not in ERROR_KINDS:
            raise ValueError(f"unknown MetricsError kind {kind!r}; expected one of {', '.join(ERROR_KINDS)}")
        self.kind: ErrorKind = kind
        self.detail = detail
        self.source = source
        prefix = f"{source}: " if source else ""
        hint = ERROR_HINTS.get(kind)
        suffix = f" ({hint})" if hint and hint not in detail else ""
        super().__init__(f"{prefix}{kind.replace('_', ' ')}: {detail}{suffix}")


def escape_label_value(value: str) -> str:
    """Escape a label value the way Prometheus' text format does: backslash, double quote and newline."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def format_series_key(metric: str, labels: Iterable[tuple[str, str]]) -> str:
    """`metric{a="1",b="2"}` with labels sorted by name; `metric` alone without labels, `{a="1"}` without name."""
    body = ",".join(f'{name}="{escape_label_value(value)}"' for name, value in sorted(labels))
    if not body:
        return metric if metric else "{}"
    return f"{metric}{{{body}}}"


def _readonly(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class MetricSeries:
    """A named, labelled series: `timestamps` (int64 epoch seconds, strictly ascending) and `values` (float64).

    `metric` may be empty (the result of an expression such as `rate(x[5m])` has no name). `labels` are sorted
    by name and never include `__name__`. The arrays are copied and made read-only.
    """

    metric: str
    labels: tuple[tuple[str, str], ...]
    timestamps: np.ndarray
    values: np.ndarray

    def __post_init__(self) -> None:
        labels = tuple(sorted((str(name), str(value)) for name, value in self.labels))
        names = [name for name, _ in labels]
        if len(set(names)) != len(names):
            raise ValueError(f"series {self.metric!r}: duplicate label names in {names}")
        if "__name__" in names:
            raise ValueError(f"series {self.metric!r}: `__name__` belongs in `metric`, not in the labels")
        timestamps = _readonly(np.array(self.timestamps, dtype=np.int64, copy=True).reshape(-1))
        values = _readonly(np.array(self.values, dtype=np.float64, copy=True).reshape(-1))
        if timestamps.shape != values.shape:
            raise ValueError(
                f"series {format_series_key(self.metric, labels)}: {timestamps.size} timestamps "
                f"but {values.size} values"
            )
        if timestamps.size > 1 and not bool(np.all(np.diff(timestamps) > 0)):
            raise ValueError(f"series {format_series_key(self.metric, labels)}: timestamps must be strictly ascending")
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "timestamps", timestamps)
        object.__setattr__(self, "values", values)

    @classmethod
    def from_labels(cls, metric: str, labels: Mapping[str, str], timestamps: Any, values: Any) -> MetricSeries:
        return cls(metric, tuple(labels.items()), np.asarray(timestamps), np.asarray(values))

    @property
    def series_key(self) -> str:
        """The canonical identity `metric{a="1",b="2"}`; also a valid selector matching exactly this series."""
        return format_series_key(self.metric, self.labels)

    @property
    def labels_dict(self) -> dict[str, str]:
        return dict(self.labels)

    def __len__(self) -> int:
        return int(self.timestamps.size)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MetricSeries):
            return NotImplemented
        return (
            self.metric == other.metric
            and self.labels == other.labels
            and np.array_equal(self.timestamps, other.timestamps)
            and np.array_equal(self.values, other.values, equal_nan=True)
        )

    def __hash__(self) -> int:
        return hash((self.metric, self.labels, self.timestamps.size))

    def __repr__(self) -> str:
        return f"MetricSeries({self.series_key}, {len(self)} points)"


def grid(start: int, end: int, step: int) -> np.ndarray:
    """The timestamps start, start+step, ... up to and including end when end falls on the grid."""
    if step <= 0:
        raise ValueError(f"step must be positive, got {step}")
    if start > end:
        raise ValueError(f"start ({start}) is after end ({end})")
    return np.arange(start, end + 1, step, dtype=np.int64)


def align(series: Sequence[MetricSeries], start: int, end: int, step: int) -> tuple[np.ndarray, np.ndarray]:
    """Put `series` on one grid: (timestamps of shape (T,), values of shape (S, T)), row i for series[i].

    The grid is start, start+step, ... <= end (epoch seconds). For a grid timestamp t a series contributes its
    last point with t - step < timestamp <= t, so a point exactly on the grid is taken as is and a point between
    two grid timestamps counts for the next one; when several points fall in that window the latest wins.
    NaN points are gaps and are skipped; with no point in the window the cell is NaN.
    """
    timestamps = grid(int(start), int(end), int(step))
    matrix = np.full((len(series), timestamps.size), np.nan, dtype=np.float64)
    for row, one in enumerate(series):
        present = ~np.isnan(one.values)
        points_t = one.timestamps[present]
        if points_t.size == 0:
            continue
        points_v = one.values[present]
        index = np.searchsorted(points_t, timestamps, side="right") - 1
        safe = np.clip(index, 0, None)
        hit = (index >= 0) & (points_t[safe] > timestamps - step)
        matrix[row, hit] = points_v[safe[hit]]
    return timestamps, matrix
