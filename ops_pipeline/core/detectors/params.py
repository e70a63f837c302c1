"""What the kernels are called with: a spec flattened into their scalar arguments, and int64 timestamps."""

from __future__ import annotations

import functools
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
    HUBER_C,
    HUBER_KAPPA,
)
from ops_pipeline.core.detectors.spec import DetectorSpec


class _Params:
    """A spec flattened into the scalar arguments of the compiled step, plus the state layout."""

    __slots__ = ("args", "layout", "size")

    def __init__(self, spec: DetectorSpec) -> None:
        kind = _KIND_ZSCORE if spec.kind == "zscore" else _KIND_EWMA
        robust = bool(spec.robust)
        window = int(spec.window) if kind == _KIND_ZSCORE else 0
        ring = window * (2 if robust else 1)
        eoff = _HEADER + ring
        self.size = eoff + int(spec.confirm_n)
        self.layout = (spec.kind, robust, window, int(spec.confirm_n))
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
            int(spec.confirm_k),
            int(spec.confirm_n),
            eoff,
            HUBER_C,
            HUBER_KAPPA,
        )


@functools.lru_cache(maxsize=256)
def _params(spec: DetectorSpec) -> _Params:
    return _Params(spec)


def _as_timestamps(timestamps: npt.ArrayLike) -> npt.NDArray[np.int64]:
    arr = np.asarray(timestamps)
    if arr.dtype.kind == "M":
        arr = arr.astype("datetime64[s]").astype(np.int64)
    elif arr.dtype.kind in "iu":
        arr = arr.astype(np.int64, copy=False)
    elif arr.size == 0:
        arr = arr.astype(np.int64)
    else:
        raise TypeError(f"timestamps must be integer epoch seconds (or datetime64), got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"timestamps must be one-dimensional, got shape {arr.shape}")
    return np.ascontiguousarray(arr)
