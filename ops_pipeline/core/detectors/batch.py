"""The batch form: `detect_batch` scores a whole matrix of series in a single compiled pass.

The matrix has one row per series and one shared timestamp axis; the result holds the scores and signals of every
point, and `signals_of` lists one series' signals.

Batches of at least 200,000 points run on all cores (``parallel=True``, dynamically scheduled in chunks of
series); such calls are serialised by a lock so that concurrent Python threads never enter numba's thread pool at
the same time. A caller that runs the same batch shape repeatedly can pass its result buffers (``out=``) to skip
allocating (and page-faulting) new ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numba import parallel_chunksize

from ops_pipeline.core.detectors.kernels import _PARALLEL_LOCK, _batch_parallel, _batch_serial
from ops_pipeline.core.detectors.params import _as_timestamps, _as_values, _params
from ops_pipeline.core.detectors.spec import DetectorSpec

_PARALLEL_MIN_POINTS = 200_000  # below this a batch runs on one thread (no pool start-up, no lock)
_PARALLEL_CHUNK = 32  # series per work item of the multi-threaded batch


@dataclass(frozen=True)
class BatchResult:
    """Scores (NaN where not scored) and signals, shape (S, T), with the inputs they were computed on."""

    timestamps: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    scores: npt.NDArray[np.float64]
    signals: npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Signal:
    index: int
    ts: int
    value: float
    score: float


def _check_out(
    out: tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]], shape: tuple[int, ...]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    scores, signals = out
    for name, arr, dtype in (("scores", scores, np.float64), ("signals", signals, np.bool_)):
        if not isinstance(arr, np.ndarray) or arr.dtype != dtype or arr.shape != shape:
            raise ValueError(f"out {name} must be a {np.dtype(dtype).name} array of shape {shape}")
        if not arr.flags.c_contiguous or not arr.flags.writeable:
            raise ValueError(f"out {name} must be C-contiguous and writeable")
    return scores, signals


def detect_batch(
    spec: DetectorSpec,
    timestamps: npt.ArrayLike,
    values: npt.ArrayLike,
    *,
    out: tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]] | None = None,
) -> BatchResult:
    """Run `spec` over every row of `values` (shape (S, T)) against the shared `timestamps` (shape (T,)).

    `out` = (scores, signals) lets a caller that runs repeatedly reuse its result buffers (float64 and bool,
    shape (S, T), C-contiguous); they are overwritten and returned in the result. By default they are new.
    """
    ts = _as_timestamps(timestamps)
    vals = _as_values(values)
    if vals.ndim != 2:
        raise ValueError(f"values must have shape (S, T), got {vals.shape}")
    if vals.shape[1] != ts.shape[0]:
        raise ValueError(f"values has {vals.shape[1]} points per series but there are {ts.shape[0]} timestamps")
    p = _params(spec)
    if out is None:
        scores = np.empty(vals.shape, dtype=np.float64)
        signals = np.empty(vals.shape, dtype=np.bool_)
    else:
        scores, signals = _check_out(out, vals.shape)
    if vals.size:
        if vals.size >= _PARALLEL_MIN_POINTS and vals.shape[0] > 1:
            # Dynamic scheduling in chunks of series: a thread slowed down by another process hands work over.
            with _PARALLEL_LOCK, parallel_chunksize(_PARALLEL_CHUNK):
                _batch_parallel(ts, vals, scores, signals, p.size, *p.args)
        else:
            _batch_serial(ts, vals, scores, signals, p.size, *p.args)
    return BatchResult(timestamps=ts, values=vals, scores=scores, signals=signals)


def detect_series(spec: DetectorSpec, timestamps: npt.ArrayLike, values: npt.ArrayLike) -> BatchResult:
    """`detect_batch` for one series (`values` of shape (T,)); the result has shape (1, T)."""
    vals = np.asarray(values, dtype=np.float64)
    if vals.ndim != 1:
        raise ValueError(f"values must be one-dimensional, got shape {vals.shape}")
    return detect_batch(spec, timestamps, vals.reshape(1, -1))


def signals_of(result: BatchResult, row: int) -> list[Signal]:
    """The signals of series `row`, in time order."""
    idx = np.flatnonzero(result.signals[row])
    return [
        Signal(
            index=int(i),
            ts=int(result.timestamps[i]),
            value=float(result.values[row, i]),
            score=float(result.scores[row, i]),
        )
        for i in idx
    ]
