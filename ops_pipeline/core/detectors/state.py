"""The persisted streaming state: `StreamState`, its strict-JSON form, and the checks that guard the kernels.

State and persistence
    The whole per-series state is one float64 vector (header, value ring, sorted window, k-of-n ring).
    `StreamState.to_json` gives a strict-JSON dict (NaN as null; floats round-trip exactly through JSON), with
    a version and the layout (kind, robust, window, confirm_n) checked by `update`. A state can continue under a
    spec whose threshold, direction, alpha, warm-up, cooldown or k differ; a different layout is rejected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ops_pipeline.core.detectors.kernels import (
    _H_COUNT,
    _H_ECOUNT,
    _H_EPOS,
    _H_LAST_SIGNAL,
    _H_NSEEN,
    _H_POS,
    _H_RUN,
    _H_SINCE,
    _HEADER,
    _init_state,
)
from ops_pipeline.core.detectors.params import _params
from ops_pipeline.core.detectors.spec import _MAX_WINDOW, DetectorSpec, Kind, _is_int

STATE_VERSION = 1


@dataclass(frozen=True, eq=False)
class StreamState:
    """Persisted per-series detector state. Treat as immutable: `update` returns a new one.

    `data` is the state vector of the compiled step; (kind, robust, window, confirm_n) fix its layout.
    """

    kind: Kind
    robust: bool
    window: int
    confirm_n: int
    data: npt.NDArray[np.float64] = field(repr=False)
    version: int = STATE_VERSION

    @property
    def points_seen(self) -> int:
        """Valid points this state has absorbed."""
        return int(self.data[_H_NSEEN])

    @classmethod
    def new(cls, spec: DetectorSpec) -> StreamState:
        p = _params(spec)
        data = np.empty(p.size, dtype=np.float64)
        _init_state(data)
        kind, robust, window, confirm_n = p.layout
        return cls(kind=kind, robust=robust, window=window, confirm_n=confirm_n, data=data)

    def to_json(self) -> dict[str, Any]:
        """Strict JSON (no NaN literals): NaN is null, +/-inf are the strings "inf"/"-inf"; floats are exact."""
        return {
            "version": self.version,
            "kind": self.kind,
            "robust": self.robust,
            "window": self.window,
            "confirm_n": self.confirm_n,
            "data": [_encode(v) for v in self.data.tolist()],
        }

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> StreamState:
        """Rebuild a state from `to_json`, checking it thoroughly (the kernels trust the state's indices)."""
        if not isinstance(payload, dict):
            raise ValueError("detector state must be a JSON object")
        version = payload.get("version")
        if version != STATE_VERSION:
            raise ValueError(f"unsupported detector state version {version!r} (expected {STATE_VERSION})")
        try:
            kind = payload["kind"]
            robust = payload["robust"]
            window = payload["window"]
            confirm_n = payload["confirm_n"]
            raw = payload["data"]
        except KeyError as exc:
            raise ValueError(f"detector state is missing {exc.args[0]!r}") from None
        if kind not in ("zscore", "ewma") or not isinstance(robust, bool):
            raise ValueError("detector state has an invalid kind or robust flag")
        if not _is_int(window) or not _is_int(confirm_n) or not 0 <= window <= _MAX_WINDOW or confirm_n < 1:
            raise ValueError("detector state has an invalid window or confirm_n")
        if (kind == "ewma") != (window == 0):
            raise ValueError("detector state window must be 0 for ewma and at least 2 for zscore")
        if not isinstance(raw, list):
            raise ValueError("detector state data must be a list")
        data = np.array([_decode(v) for v in raw], dtype=np.float64)
        state = cls(kind=kind, robust=robust, window=int(window), confirm_n=int(confirm_n), data=data)
        problem = _state_problem(state, deep=True)
        if problem:
            raise ValueError(f"invalid detector state data: {problem}")
        return state


def _encode(v: float) -> float | str | None:
    if math.isfinite(v):
        return v
    return None if math.isnan(v) else ("inf" if v > 0 else "-inf")


def _decode(v: object) -> float:
    if v is None:
        return math.nan
    if v in ("inf", "-inf"):
        return float(v)
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ValueError(f"invalid detector state value {v!r}")
    return float(v)


def _state_problem(state: StreamState, deep: bool) -> str | None:
    """Why `state.data` cannot be fed to the kernels (out-of-range indices, wrong size...), or None.

    The shallow check (every `update`) covers everything that indexes memory; the deep one (`from_json`) also
    checks the buffers' contents.
    """
    data = state.data
    window, n = state.window, state.confirm_n
    ring = window * (2 if state.robust else 1)
    expected = _HEADER + ring + n
    if not isinstance(data, np.ndarray) or data.dtype != np.float64 or data.shape != (expected,):
        return f"expected a float64 vector of {expected} values"

    def counter(slot: int, high: float) -> bool:
        v = float(data[slot])
        return math.isfinite(v) and v == math.floor(v) and 0 <= v <= high

    if not counter(_H_NSEEN, 2.0**53) or not counter(_H_EPOS, n - 1) or not counter(_H_ECOUNT, n):
        return "bad point counter or k-of-n position"
    if math.isinf(data[_H_LAST_SIGNAL]):
        return "bad last signal time"
    if state.kind == "zscore":
        if not counter(_H_COUNT, window) or not counter(_H_POS, window - 1):
            return "bad window count or position"
        if not counter(_H_SINCE, 2.0**53) or not counter(_H_RUN, 2.0**53):
            return "bad window counters"
    if not deep:
        return None
    flags = data[_HEADER + ring :]
    if not np.isin(flags, (0.0, 1.0)).all() or flags.sum() != data[_H_ECOUNT]:
        return "bad k-of-n history"
    if state.kind == "zscore":
        count = int(data[_H_COUNT])
        values = data[_HEADER : _HEADER + count]
        if not np.isfinite(values).all() or (count < window and int(data[_H_POS]) != count):
            return "bad window values"
        if state.robust:
            ordered = data[_HEADER + window : _HEADER + window + count]
            if not np.array_equal(ordered, np.sort(values)):
                return "bad sorted window"
    return None
