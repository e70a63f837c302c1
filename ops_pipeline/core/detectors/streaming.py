"""The streaming form: `update` (`update_many`) advances a `StreamState` by one point (a chunk of points).

It runs at each sensor tick, on the very same compiled per-series loop as the batch form, so both give
bit-identical scores and the same signals on the same data.

A partial state (only the pages an update needs, see `pages`) is advanced the same way; should the plain
zscore need its whole value ring after all (an exact recompute the page estimate could not foresee), `update_many`
calls `load_whole()` for the complete state and runs again from it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from ops_pipeline.core.detectors.kernels import NEEDS_WHOLE_STATE, _run_series
from ops_pipeline.core.detectors.pages import page_slice, value_ring_loaded
from ops_pipeline.core.detectors.params import _as_timestamps, _as_values, _Params, _params, epoch_seconds
from ops_pipeline.core.detectors.spec import DetectorSpec
from ops_pipeline.core.detectors.state import STATE_VERSION, StreamState, state_problem


class IncompleteStateError(ValueError):
    """A partial state needed pages it does not have, and no way to load them was given."""


def _checked_copy(spec: DetectorSpec, state: StreamState | None, p: _Params) -> tuple[StreamState, np.ndarray]:
    if state is None:
        fresh = StreamState.new(spec)
        return fresh, fresh.data
    if state.version != STATE_VERSION:
        raise ValueError(f"unsupported detector state version {state.version!r}")
    if state.layout != p.layout:
        raise ValueError(
            f"state layout {state.layout} does not match the spec's {p.layout} (kind, robust, window, confirm_n, "
            "adaptive_window); start a new state"
        )
    problem = state_problem(state, deep=False)
    if problem:
        raise ValueError(f"invalid detector state data: {problem}")
    if state.pages is None:
        return state, state.data.copy()
    data = np.empty_like(state.data)  # only the loaded pages are copied: the rest is never read
    for page in state.pages:
        part = page_slice(state.layout, page)
        data[part] = state.data[part]
    return state, data


def update(spec: DetectorSpec, state: StreamState | None, ts: object, value: float) -> tuple[StreamState, float, bool]:
    """Advance `state` (None = a fresh series) by one point: (new state, score or NaN, signal?).

    `ts` is whole epoch seconds (an int, or a float without fraction), a datetime (naive = UTC), a
    `pandas.Timestamp` or a `numpy.datetime64`; a fraction of a second is refused, not truncated.
    """
    stamp = np.array([epoch_seconds(ts)], dtype=np.int64)
    new, scores, signals = update_many(spec, state, stamp, np.array([value], dtype=np.float64))
    return new, float(scores[0]), bool(signals[0])


def update_many(
    spec: DetectorSpec,
    state: StreamState | None,
    timestamps: npt.ArrayLike,
    values: npt.ArrayLike,
    load_whole: Callable[[], StreamState] | None = None,
) -> tuple[StreamState, npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """`update` over a chunk of points of one series (e.g. everything that arrived since the last tick).

    `load_whole` gives the complete state when `state` is partial and turns out to need more than it holds.
    """
    p = _params(spec)
    ts = _as_timestamps(timestamps)
    vals = _as_values(values)
    if vals.ndim != 1 or vals.shape[0] != ts.shape[0]:
        raise ValueError(f"values must have shape ({ts.shape[0]},), got {vals.shape}")
    base, data = _checked_copy(spec, state, p)
    scores = np.empty(vals.shape[0], dtype=np.float64)
    signals = np.empty(vals.shape[0], dtype=np.bool_)
    if vals.shape[0]:
        ring_loaded = value_ring_loaded(base.layout, base.pages)
        if _run_series(data, ts, vals, scores, signals, ring_loaded, *p.args) == NEEDS_WHOLE_STATE:
            if load_whole is None:
                raise IncompleteStateError("the update needs the whole detector state; pass load_whole")
            whole = load_whole()
            if whole.pages is not None:
                raise IncompleteStateError("load_whole returned a partial detector state")
            return update_many(spec, whole, ts, vals)
    new = StreamState(layout=base.layout, data=data, pages=base.pages)
    return new, scores, signals
