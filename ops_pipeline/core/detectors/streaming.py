"""The streaming form: `update` (`update_many`) advances a `StreamState` by one point (a chunk of points).

It runs at each sensor tick, on the very same compiled per-series loop as the batch form, so both give
bit-identical scores and the same signals on the same data.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ops_pipeline.core.detectors.kernels import _run_series
from ops_pipeline.core.detectors.params import _as_timestamps, _Params, _params
from ops_pipeline.core.detectors.spec import DetectorSpec
from ops_pipeline.core.detectors.state import STATE_VERSION, StreamState, _state_problem


def _checked_copy(spec: DetectorSpec, state: StreamState | None, p: _Params) -> tuple[StreamState, np.ndarray]:
    if state is None:
        fresh = StreamState.new(spec)
        return fresh, fresh.data
    if state.version != STATE_VERSION:
        raise ValueError(f"unsupported detector state version {state.version!r}")
    if (state.kind, state.robust, state.window, state.confirm_n) != p.layout:
        raise ValueError(
            f"state layout {(state.kind, state.robust, state.window, state.confirm_n)} does not match the spec "
            f"{p.layout} (kind, robust, window, confirm_n); start a new state"
        )
    problem = _state_problem(state, deep=False)
    if problem:
        raise ValueError(f"invalid detector state data: {problem}")
    return state, state.data.copy()


def update(spec: DetectorSpec, state: StreamState | None, ts: int, value: float) -> tuple[StreamState, float, bool]:
    """Advance `state` (None = a fresh series) by one point: (new state, score or NaN, signal?)."""
    p = _params(spec)
    base, data = _checked_copy(spec, state, p)
    scores = np.empty(1, dtype=np.float64)
    signals = np.empty(1, dtype=np.bool_)
    _run_series(data, np.array([ts], dtype=np.int64), np.array([value], dtype=np.float64), scores, signals, *p.args)
    new = StreamState(kind=base.kind, robust=base.robust, window=base.window, confirm_n=base.confirm_n, data=data)
    return new, float(scores[0]), bool(signals[0])


def update_many(
    spec: DetectorSpec, state: StreamState | None, timestamps: npt.ArrayLike, values: npt.ArrayLike
) -> tuple[StreamState, npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """`update` over a chunk of points of one series (e.g. everything that arrived since the last tick)."""
    p = _params(spec)
    ts = _as_timestamps(timestamps)
    vals = np.ascontiguousarray(np.asarray(values, dtype=np.float64))
    if vals.ndim != 1 or vals.shape[0] != ts.shape[0]:
        raise ValueError(f"values must have shape ({ts.shape[0]},), got {vals.shape}")
    base, data = _checked_copy(spec, state, p)
    scores = np.empty(vals.shape[0], dtype=np.float64)
    signals = np.empty(vals.shape[0], dtype=np.bool_)
    if vals.shape[0]:
        _run_series(data, ts, vals, scores, signals, *p.args)
    new = StreamState(kind=base.kind, robust=base.robust, window=base.window, confirm_n=base.confirm_n, data=data)
    return new, scores, signals
