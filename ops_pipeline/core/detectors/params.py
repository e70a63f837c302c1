"""What the kernels are called with: a spec flattened into their scalar arguments and its state layout, and
the inputs as read-only int64 timestamps and float64 values."""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np
import numpy.typing as npt

from ops_pipeline.core.detectors.kernels import (
    _DIR_BOTH,
    _DIR_DOWN,
    _DIR_UP,
    _HEADER,
    _KIND_EWMA,
    _KIND_ZSCORE,
    ADAPTIVE_BINS,
    HUBER_C,
    HUBER_KAPPA,
)
from ops_pipeline.core.detectors.spec import DetectorSpec, Kind


@dataclass(frozen=True)
class Layout:
    """Where each section of a state vector starts (see `kernels`), for one (kind, robust, window, confirm_n,
    adaptive_window) combination; `size` is the vector's length in float64 slots."""

    kind: Kind
    robust: bool
    window: int  # 0 for ewma
    confirm_n: int
    adaptive_window: int  # 0 when the adaptive threshold is off

    @functools.cached_property
    def eoff(self) -> int:
        return _HEADER

    @functools.cached_property
    def hoff(self) -> int:
        return self.eoff + self.confirm_n

    @functools.cached_property
    def boff(self) -> int:
        return self.hoff + (ADAPTIVE_BINS if self.adaptive_window else 0)

    @functools.cached_property
    def voff(self) -> int:
        return self.boff + math.ceil(self.adaptive_window / 8)

    @functools.cached_property
    def soff(self) -> int:
        return self.voff + self.window

    @functools.cached_property
    def size(self) -> int:
        return self.soff + (self.window if self.robust else 0)


class _Params:
    """A spec flattened into the scalar arguments of the compiled step, plus the state layout."""

    __slots__ = ("args", "layout", "size")

    def __init__(self, spec: DetectorSpec) -> None:
        kind = _KIND_ZSCORE if spec.kind == "zscore" else _KIND_EWMA
        robust = bool(spec.robust)
        window = int(spec.window or 0) if kind == _KIND_ZSCORE else 0
        adaptive_window = spec.adaptive_window if spec.adaptive_quantile is not None else 0
        self.layout = Layout(spec.kind, robust, window, int(spec.confirm_n or 1), adaptive_window)
        self.size = self.layout.size
        direction = {"both": _DIR_BOTH, "up": _DIR_UP, "down": _DIR_DOWN}[spec.direction]
        self.args: tuple[Any, ...] = (
            kind,
            robust,
            window,
            spec.effective_alpha,
            float(spec.threshold),
            direction,
            max(int(spec.warmup), 2),
            float(spec.cooldown_s),
            int(spec.cooldown_points or 0),
            int(spec.confirm_k),
            self.layout.confirm_n,
            float(spec.scale_floor),
            float(spec.scale_floor_rel),
            self.layout.adaptive_window,
            1.0 - float(spec.adaptive_quantile) if spec.adaptive_quantile is not None else 0.0,
            self.layout.eoff,
            self.layout.hoff,
            self.layout.boff,
            self.layout.voff,
            self.layout.soff,
            HUBER_C,
            HUBER_KAPPA,
        )


@functools.lru_cache(maxsize=256)
def _params(spec: DetectorSpec) -> _Params:
    return _Params(spec)


def _read_only(arr: np.ndarray) -> np.ndarray:
    """A read-only view: the kernels never write their inputs, and one compiled signature then serves both the
    writable arrays numpy makes and the read-only ones pandas 3 hands out."""
    view = arr.view()
    view.flags.writeable = False
    return view


def _as_timestamps(timestamps: npt.ArrayLike) -> npt.NDArray[np.int64]:
    arr = np.asarray(timestamps)
    if arr.dtype.kind == "M":
        seconds = arr.astype("datetime64[s]")
        if not np.array_equal(seconds, arr, equal_nan=True):
            raise ValueError("timestamps must be whole seconds; round them first (a fraction would be dropped)")
        arr = seconds.astype(np.int64)
    elif arr.dtype.kind in "iu":
        arr = arr.astype(np.int64, copy=False)
    elif arr.size == 0:
        arr = arr.astype(np.int64)
    else:
        raise TypeError(f"timestamps must be integer epoch seconds (or datetime64), got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"timestamps must be one-dimensional, got shape {arr.shape}")
    return _read_only(np.ascontiguousarray(arr))


def _as_values(values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    return _read_only(np.ascontiguousarray(np.asarray(values, dtype=np.float64)))


def epoch_seconds(ts: object) -> int:
    """One timestamp as whole epoch seconds: an integer, a whole float, a datetime (naive = UTC), a
    `pandas.Timestamp` or a `numpy.datetime64`. A fraction of a second is refused rather than dropped."""
    if isinstance(ts, bool):
        raise TypeError("a timestamp must be epoch seconds or a datetime, not a bool")
    if isinstance(ts, Integral):
        return int(ts)
    if isinstance(ts, np.datetime64):
        if np.isnat(ts):
            raise ValueError("the timestamp is NaT")
        return int(_as_timestamps(np.array([ts]))[0])
    if isinstance(ts, dt.datetime):  # pandas.Timestamp is a datetime too
        moment = ts if ts.tzinfo is not None else ts.replace(tzinfo=dt.UTC)
        nanos = int(getattr(ts, "nanosecond", 0))
        if moment.microsecond or nanos:
            raise ValueError(f"timestamp {ts} is not a whole second; round it first (the fraction would be dropped)")
        return int(moment.timestamp())
    if isinstance(ts, Real):
        value = float(ts)
        if not math.isfinite(value) or value != math.floor(value):
            raise ValueError(f"timestamp {ts!r} is not a whole number of epoch seconds (it would be truncated)")
        return int(value)
    raise TypeError(f"a timestamp must be epoch seconds or a datetime, got {type(ts).__name__}")
