"""The persisted streaming state: `StreamState`, its compact binary form, and the checks that guard the kernels.

State and persistence
    The whole per-series state is one float64 vector laid out as `params.Layout` says (header, k-of-n flags,
    adaptive histogram and ring of bins, value ring, sorted window). `StreamState.to_bytes` gives a small binary
    header (a magic, the version and the layout) followed by the vector's raw little-endian float64 bytes; floats
    round-trip exactly. A state can continue under a spec whose threshold, direction, alpha, warm-up, cooldown,
    floors, quantile or k differ; a different layout is rejected.

    A state may be *partial*: only some pages of its vector loaded (see `pages`), which is how the probe keeps its
    cost flat in the window length. `pages` then names the loaded pages; the others hold garbage the kernels are
    never allowed to read.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ops_pipeline.core.detectors.kernels import (
    _H_ACOUNT,
    _H_APOS,
    _H_COUNT,
    _H_ECOUNT,
    _H_EPOS,
    _H_LAST_SIGNAL,
    _H_LAST_SIGNAL_N,
    _H_NSEEN,
    _H_POS,
    _H_RUN,
    _H_SINCE,
    ADAPTIVE_BINS,
    _init_state,
)
from ops_pipeline.core.detectors.params import Layout, _params
from ops_pipeline.core.detectors.spec import _MAX_WINDOW, DetectorSpec, Kind

STATE_VERSION = 2
_MAGIC = b"ODS\x00"
_PREFIX = struct.Struct("<4sHBBIII")  # magic, version, kind, robust, window, confirm_n, adaptive_window
_KINDS: tuple[Kind, Kind] = ("zscore", "ewma")


@dataclass(frozen=True, eq=False)
class StreamState:
    """Persisted per-series detector state. Treat as immutable: `update` returns a new one.

    `data` is the state vector of the compiled step; `layout` fixes its sections. `pages` is None when the whole
    vector is loaded, else the indices of the loaded pages (see `pages`).
    """

    layout: Layout
    data: npt.NDArray[np.float64] = field(repr=False)
    pages: frozenset[int] | None = None
    version: int = STATE_VERSION

    @property
    def kind(self) -> Kind:
        return self.layout.kind

    @property
    def points_seen(self) -> int:
        """Valid points this state has absorbed."""
        return int(self.data[_H_NSEEN])

    @classmethod
    def new(cls, spec: DetectorSpec) -> StreamState:
        layout = _params(spec).layout
        data = np.empty(layout.size, dtype=np.float64)
        _init_state(data)
        return cls(layout=layout, data=data)

    def to_bytes(self) -> bytes:
        """The compact binary form: a 20-byte prefix (magic, version, layout) and the raw float64 vector."""
        if self.pages is not None:
            raise ValueError("a partially loaded detector state cannot be serialised whole")
        return _prefix(self.layout) + self.data.astype("<f8", copy=False).tobytes()

    @classmethod
    def from_bytes(cls, blob: bytes) -> StreamState:
        """Rebuild a state from `to_bytes`, checking it thoroughly (the kernels trust the state's indices)."""
        layout = layout_of(blob)
        body = memoryview(blob)[_PREFIX.size :]
        if len(body) != 8 * layout.size:
            raise ValueError(f"invalid detector state data: expected {layout.size} float64 values")
        state = cls(layout=layout, data=np.frombuffer(body, dtype="<f8").astype(np.float64))
        problem = state_problem(state, deep=True)
        if problem:
            raise ValueError(f"invalid detector state data: {problem}")
        return state


def _prefix(layout: Layout) -> bytes:
    kind = _KINDS.index(layout.kind)
    return _PREFIX.pack(
        _MAGIC, STATE_VERSION, kind, int(layout.robust), layout.window, layout.confirm_n, layout.adaptive_window
    )


def layout_of(blob: bytes) -> Layout:
    """The layout a binary state declares, checked; ValueError for anything else."""
    if len(blob) < _PREFIX.size:
        raise ValueError("detector state is too short to be one")
    magic, version, kind, robust, window, confirm_n, adaptive = _PREFIX.unpack_from(blob)
    if magic != _MAGIC:
        raise ValueError("not a detector state")
    if version != STATE_VERSION:
        raise ValueError(f"unsupported detector state version {version!r} (expected {STATE_VERSION})")
    if kind not in (0, 1) or robust not in (0, 1):
        raise ValueError("detector state has an invalid kind or robust flag")
    if window > _MAX_WINDOW or not 1 <= confirm_n <= _MAX_WINDOW or adaptive > _MAX_WINDOW:
        raise ValueError("detector state has an invalid window, confirm_n or adaptive window")
    if (kind == 1) != (window == 0) or (kind == 0 and window < 2):
        raise ValueError("detector state window must be 0 for ewma and at least 2 for zscore")
    return Layout(_KINDS[kind], bool(robust), window, confirm_n, adaptive)


def state_problem(state: StreamState, deep: bool) -> str | None:
    """Why `state.data` cannot be fed to the kernels (out-of-range indices, wrong size...), or None.

    The shallow check (every `update`) covers everything that indexes memory; the deep one (`from_bytes`) also
    checks the buffers' contents.
    """
    data, layout = state.data, state.layout
    window, n, adaptive = layout.window, layout.confirm_n, layout.adaptive_window
    if not isinstance(data, np.ndarray) or data.dtype != np.float64 or data.shape != (layout.size,):
        return f"expected a float64 vector of {layout.size} values"

    def counter(slot: int, high: float) -> bool:
        v = float(data[slot])
        return math.isfinite(v) and v == math.floor(v) and 0 <= v <= high

    if not counter(_H_NSEEN, 2.0**53) or not counter(_H_EPOS, n - 1) or not counter(_H_ECOUNT, n):
        return "bad point counter or k-of-n position"
    if math.isinf(data[_H_LAST_SIGNAL]) or math.isinf(data[_H_LAST_SIGNAL_N]):
        return "bad last signal time"
    if layout.kind == "zscore":
        if not counter(_H_COUNT, window) or not counter(_H_POS, window - 1):
            return "bad window count or position"
        if not counter(_H_SINCE, 2.0**53) or not counter(_H_RUN, 2.0**53):
            return "bad window counters"
    if adaptive and (not counter(_H_ACOUNT, adaptive) or not counter(_H_APOS, adaptive - 1)):
        return "bad adaptive count or position"
    if not deep:
        return None
    flags = data[layout.eoff : layout.hoff]
    if not np.isin(flags, (0.0, 1.0)).all() or flags.sum() != data[_H_ECOUNT]:
        return "bad k-of-n history"
    if adaptive:
        ring = data[layout.boff : layout.voff].view(np.uint8)[:adaptive]
        used = ring[: int(data[_H_ACOUNT])]
        expected = np.bincount(used, minlength=ADAPTIVE_BINS).astype(np.float64)
        expected[0] = 0.0
        if (used.size and used.max() >= ADAPTIVE_BINS) or not np.array_equal(expected, data[layout.hoff : layout.boff]):
            return "bad adaptive histogram"
    if layout.kind == "zscore":
        count = int(data[_H_COUNT])
        values = data[layout.voff : layout.voff + count]
        if not np.isfinite(values).all() or (count < window and int(data[_H_POS]) != count):
            return "bad window values"
        if layout.robust:
            ordered = data[layout.soff : layout.soff + count]
            if not np.array_equal(ordered, np.sort(values)):
                return "bad sorted window"
    return None
