"""Anomaly detectors of the insight engine: rolling z-score and EWMA, in a batch and a streaming form.

Pure domain logic (numpy + numba, no Dagster). A `DetectorSpec` describes one detector; `detect_batch` scores a
whole matrix of series (one row per series, one shared timestamp axis) in a single compiled pass, and `update`
(`update_many`) advances a persisted `StreamState` by one point (a chunk of points) at each sensor tick. Both forms
run the very same compiled per-series loop (`_run_series`) on the same state vector, so they give bit-identical
scores and the same signals on the same data; the tests assert it.

Semantics (identical in both forms)
    Valid points
        A point is valid when its value is finite. NaN and +/-inf are skipped: no score, no signal, no state
        update, and they do not count toward warm-up, the window or k-of-n. Gaps in time need no special care:
        the baseline is made of the last valid *points*, whatever their spacing.
    Score
        The score of a valid point x uses the baseline of the valid points BEFORE it (x is never part of its own
        baseline), then x is added to the baseline.

        * zscore: mean and SAMPLE standard deviation (ddof=1, as pandas' ``rolling().std()``) of the last
          ``window`` valid points, score = (x - mean) / std.
          robust: median and MAD * 1.4826 (consistent with the std for normal data) of the same points.
        * ewma: exponentially weighted mean m and variance v, updated recursively with
          d = x - m;  m <- m + alpha*d;  v <- (1 - alpha) * (v + alpha*d^2)        (first valid point: m = x, v = 0)
          score = (x - m) / sqrt(v) with the state before x. These are exactly pandas'
          ``ewm(alpha=alpha, adjust=False).mean()`` and ``.var(bias=True)``.
          robust (Huber-clipped EWMA, after Gelper, Fried & Croux 2010): once scored, the innovation d is clipped
          to +/- 2*sqrt(v) before it enters m and v, and v is divided by the Huber consistency factor
          kappa = E[min(Z^2, 4)] = 0.9205 so that v stays unbiased for normal noise. An outlier therefore moves
          m by at most 2*alpha standard deviations and inflates v by at most ~29% (alpha 0.1), where the plain
          EWMA would let a 50-sigma spike blow v up 250-fold. During warm-up the plain update is used.
          Should m or v overflow (values near 1e308), the EWMA restarts from the current point (m = x, v = 0).
        ``halflife`` h (in points) gives alpha = 1 - exp(ln(0.5) / h).
    Warm-up
        A point is scored only when at least max(warmup, 2) valid points precede it. A series shorter than that
        gives no score and no signal.
    Zero scale
        When the baseline scale is 0 (std, MAD or sqrt(v)) or not finite, the point gets no score (NaN) and
        cannot signal. A constant series therefore never signals, and neither does a spike right after a constant
        stretch of at least ``window`` points (zscore: the whole window is identical; robust zscore: MAD 0, which
        also happens when more than half the window holds one value) or a spike right after a constant start
        (ewma: v is exactly 0). There is deliberately no scale floor. An EWMA whose constant stretch follows
        noise keeps a small, decaying v, so the first change after it does score (it is a real change).
    Threshold and direction
        The point *exceeds* when score > threshold (up), score < -threshold (down), |score| > threshold (both).
    k of n confirmation
        A valid point signals only when it exceeds itself AND at least ``confirm_k`` of the last ``confirm_n``
        valid points (itself included) exceed. Valid but unscored points (warm-up, zero scale) count as not
        exceeding.
    Cooldown
        After a signal at time t, the same series cannot signal again while ts < t + cooldown_s (timestamps are
        int64 epoch seconds, expected non-decreasing; with cooldown_s = 0 nothing is suppressed). A suppressed
        point still updates the baseline and the k-of-n history.

Numerics
    The non-robust zscore keeps the window as a ring buffer plus a running mean and sum of squared deviations,
    updated in O(1) per point with the sliding Welford formulas. To stop floating-point drift (and the
    cancellation after a huge value leaves the window) both are recomputed exactly from the buffer (shifted
    two-pass) every max(window, 1024) points and whenever the sum of squares collapses by more than 10^4 in one
    step: amortised O(1), O(window) on those rare points. A run-length counter of identical consecutive
    values detects an exactly constant window whatever the rounding. The robust zscore keeps the window sorted
    (binary search plus a shift), so it costs O(window) per point. EWMA (plain or robust) is O(1) per point,
    and the k-of-n history is an O(1) ring of ``confirm_n`` flags.

State and persistence
    The whole per-series state is one float64 vector (header, value ring, sorted window, k-of-n ring).
    `StreamState.to_json` gives a strict-JSON dict (NaN as null; floats round-trip exactly through JSON), with
    a version and the layout (kind, robust, window, confirm_n) checked by `update`. A state can continue under a
    spec whose threshold, direction, alpha, warm-up, cooldown or k differ; a different layout is rejected.

Compilation and threads
    The kernels are ``numba.njit(cache=True)``: compiled once (about 5 s), then loaded from the on-disk cache
    by every later process (about half a second for the whole set). Numba writes the cache to ``__pycache__``
    next to this file (fine for an editable install); when that directory is not writable it falls back to
    the user-wide cache directory (``~/.cache/numba``), and ``NUMBA_CACHE_DIR`` overrides both. Should no
    location be writable, a warning is issued and the kernels are compiled in each process instead. Editing
    this file invalidates the cache. `warm_up()` loads (or compiles) everything up front, e.g. when the code
    location starts.
    The kernels release the GIL. Batches of at least 200,000 points run on all cores (``parallel=True``,
    dynamically scheduled in chunks of series); such calls are serialised by a lock so that concurrent
    Python threads never enter numba's thread pool at the same time. A caller that runs the same batch shape
    repeatedly can pass its result buffers (``out=``) to skip allocating (and page-faulting) new ones.
"""

from __future__ import annotations

import functools
import math
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from numba import njit, parallel_chunksize, prange

__all__ = [
    "STATE_VERSION",
    "BatchResult",
    "DetectorSpec",
    "Signal",
    "StreamState",
    "detect_batch",
    "detect_series",
    "signals_of",
    "update",
    "update_many",
    "warm_up",
]

Kind = Literal["zscore", "ewma"]
Direction = Literal["up", "down", "both"]

STATE_VERSION = 1
MAD_TO_STD = 1.4826
HUBER_C = 2.0
# E[min(Z^2, c^2)] for a standard normal Z: keeps the clipped EWMA variance consistent for normal noise.
HUBER_KAPPA = (
    math.erf(HUBER_C / math.sqrt(2.0))
    - 2.0 * HUBER_C * math.exp(-0.5 * HUBER_C**2) / math.sqrt(2.0 * math.pi)
    + HUBER_C**2 * math.erfc(HUBER_C / math.sqrt(2.0))
)
_MAX_WINDOW = 1_000_000
_RECOMPUTE_EVERY = 1024  # zscore: exact recompute of the window moments at least every this many points
_PARALLEL_MIN_POINTS = 200_000  # below this a batch runs on one thread (no pool start-up, no lock)
_PARALLEL_CHUNK = 32  # series per work item of the multi-threaded batch

# Per-series state vector: header slots, then the value ring (zscore), the sorted window (robust zscore) and the
# k-of-n ring. Counters are stored as float64 (exact below 2**53).
_H_NSEEN = 0  # valid points seen
_H_LAST_SIGNAL = 1  # timestamp of the last signal, NaN = never
_H_EPOS = 2  # next slot of the k-of-n ring
_H_ECOUNT = 3  # exceeding points in the k-of-n ring
_H_COUNT = 4  # zscore: points in the window
_H_POS = 5  # zscore: next slot of the value ring
_H_MEAN = 6  # zscore: window mean / ewma: m
_H_M2 = 7  # zscore: sum of squared deviations / ewma: v
_H_SINCE = 8  # zscore: sliding updates since the last exact recompute
_H_LASTX = 9  # zscore: previous valid value
_H_RUN = 10  # zscore: run length of identical consecutive valid values
_HEADER = 11

_KIND_ZSCORE = 0
_KIND_EWMA = 1
_DIR_BOTH = 0
_DIR_UP = 1
_DIR_DOWN = 2


# --------------------------------------------------------------------------------------------------- spec


def _is_int(value: object) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _is_real(value: object) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(float(value))


@dataclass(frozen=True)
class DetectorSpec:
    """One detector's configuration. See the module docstring for the exact semantics of each field."""

    kind: Kind
    window: int = 60
    alpha: float | None = None
    halflife: float | None = None
    threshold: float = 3.0
    direction: Direction = "both"
    warmup: int = 30
    robust: bool = False
    cooldown_s: float = 0
    confirm_k: int = 1
    confirm_n: int = 1

    def __post_init__(self) -> None:
        if self.kind not in ("zscore", "ewma"):
            raise ValueError(f"kind must be 'zscore' or 'ewma', got {self.kind!r}")
        if not _is_int(self.window) or not 2 <= self.window <= _MAX_WINDOW:
            raise ValueError(f"window must be an integer in [2, {_MAX_WINDOW}], got {self.window!r}")
        if self.alpha is not None and self.halflife is not None:
            raise ValueError("alpha and halflife are exclusive: give at most one of them")
        if self.kind == "zscore" and (self.alpha is not None or self.halflife is not None):
            raise ValueError("alpha/halflife apply to kind='ewma' only; zscore uses window")
        if self.alpha is not None and (not _is_real(self.alpha) or not 0.0 < float(self.alpha) < 1.0):
            raise ValueError(f"alpha must be a number in (0, 1), got {self.alpha!r}")
        if self.halflife is not None and (not _is_real(self.halflife) or float(self.halflife) <= 0.0):
            raise ValueError(f"halflife must be a positive number of points, got {self.halflife!r}")
        if not _is_real(self.threshold) or float(self.threshold) <= 0.0:
            raise ValueError(f"threshold must be a positive number of standard deviations, got {self.threshold!r}")
        if self.direction not in ("up", "down", "both"):
            raise ValueError(f"direction must be 'up', 'down' or 'both', got {self.direction!r}")
        if not _is_int(self.warmup) or self.warmup < 0:
            raise ValueError(f"warmup must be a non-negative integer, got {self.warmup!r}")
        if not isinstance(self.robust, bool | np.bool_):
            raise ValueError(f"robust must be a bool, got {self.robust!r}")
        if not _is_real(self.cooldown_s) or float(self.cooldown_s) < 0.0:
            raise ValueError(f"cooldown_s must be a non-negative number of seconds, got {self.cooldown_s!r}")
        if not _is_int(self.confirm_n) or not 1 <= self.confirm_n <= _MAX_WINDOW:
            raise ValueError(f"confirm_n must be an integer in [1, {_MAX_WINDOW}], got {self.confirm_n!r}")
        if not _is_int(self.confirm_k) or not 1 <= self.confirm_k <= self.confirm_n:
            raise ValueError(f"confirm_k must be an integer with 1 <= confirm_k <= confirm_n, got {self.confirm_k!r}")

    @property
    def effective_alpha(self) -> float:
        """The EWMA smoothing factor: alpha, or derived from halflife, or the default 0.1."""
        if self.alpha is not None:
            return float(self.alpha)
        if self.halflife is not None:
            return 1.0 - math.exp(math.log(0.5) / float(self.halflife))
        return 0.1


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


# --------------------------------------------------------------------------------------------------- kernels
#
# One compiled loop per detector family (`_run_zscore`, `_run_robust_zscore`, `_run_ewma`) advances one series'
# state vector over a chunk of points. The batch kernels call it once per series over the whole row, `update`
# and `update_many` call it over the new points of one series: the same code either way, hence identical
# results. Each loop keeps the header in local variables (registers) and writes it back at the end.


def _jit(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """``numba.njit`` with an on-disk cache, the numpy error model (no zero-division checks) and no GIL."""

    def decorate(fn: Callable[..., Any]) -> Any:
        try:
            return njit(cache=True, error_model="numpy", nogil=True, **options)(fn)
        except RuntimeError as exc:  # numba found no writable cache directory: compile in every process
            warnings.warn(f"numba cannot cache {fn.__name__} ({exc}); set NUMBA_CACHE_DIR", stacklevel=2)
            return njit(cache=False, error_model="numpy", nogil=True, **options)(fn)

    return decorate


@_jit()
def _init_state(st: np.ndarray) -> None:
    st[:] = 0.0
    st[_H_LAST_SIGNAL] = np.nan


@_jit(inline="always")
def _exceeds(score: float, threshold: float, direction: int) -> bool:
    if direction == _DIR_BOTH:
        return abs(score) > threshold
    if direction == _DIR_UP:
        return score > threshold
    return score < -threshold


@_jit(inline="always")
def _confirm(
    st: np.ndarray,
    eoff: int,
    exceed: bool,
    ts: int,
    epos: int,
    ecount: float,
    last: float,
    k: int,
    n: int,
    cooldown: float,
) -> tuple[bool, int, float, float]:
    """k-of-n confirmation then cooldown suppression; returns (signal, epos, ecount, last signal ts)."""
    if n == 1:
        signal = exceed
    else:
        flag = 1.0 if exceed else 0.0
        ecount = ecount + flag - st[eoff + epos]
        st[eoff + epos] = flag
        epos += 1
        if epos == n:
            epos = 0
        signal = exceed and ecount >= k
    if signal and cooldown > 0.0 and float(ts) - last < cooldown:
        signal = False
    if signal:
        last = float(ts)
    return signal, epos, ecount, last


@_jit(inline="always")
def _ring_moments(st: np.ndarray, cnt: int) -> tuple[float, float]:
    """Exact (shifted two-pass) mean and sum of squared deviations of the value ring st[_HEADER:_HEADER+cnt]."""
    shift = st[_HEADER]
    acc = 0.0
    for i in range(cnt):
        acc += st[_HEADER + i] - shift
    mean = shift + acc / cnt
    m2 = 0.0
    for i in range(cnt):
        d = st[_HEADER + i] - mean
        m2 += d * d
    return mean, m2


@_jit()
def _run_zscore(
    st: np.ndarray,
    ts: np.ndarray,
    values: np.ndarray,
    scores: np.ndarray,
    signals: np.ndarray,
    window: int,
    threshold: float,
    direction: int,
    warmup: int,
    cooldown: float,
    k: int,
    n: int,
    eoff: int,
) -> None:
    nseen = st[_H_NSEEN]
    last = st[_H_LAST_SIGNAL]
    epos = int(st[_H_EPOS])
    ecount = st[_H_ECOUNT]
    cnt = int(st[_H_COUNT])
    pos = int(st[_H_POS])
    mean = st[_H_MEAN]
    m2 = st[_H_M2]
    since = int(st[_H_SINCE])
    lastx = st[_H_LASTX]
    run = int(st[_H_RUN])
    inv_window = 1.0 / window
    inv_dof = 1.0 / (cnt - 1) if cnt > 1 else 0.0
    recompute_every = max(window, _RECOMPUTE_EVERY)
    for t in range(values.shape[0]):
        x = values[t]
        if not math.isfinite(x):
            scores[t] = np.nan
            signals[t] = False
            continue
        score = np.nan
        if nseen >= warmup and cnt >= 2 and run < cnt:
            var = m2 * inv_dof
            if var > 0.0:
                sd = math.sqrt(var)
                if sd < np.inf:
                    score = (x - mean) / sd
        if cnt > 0 and x == lastx:
            run += 1
        else:
            run = 1
        lastx = x
        if cnt < window:
            st[_HEADER + pos] = x
            cnt += 1
            d = x - mean
            mean += d / cnt
            m2 += d * (x - mean)
            inv_dof = 1.0 / (cnt - 1) if cnt > 1 else 0.0
        else:
            y = st[_HEADER + pos]
            st[_HEADER + pos] = x
            dxy = x - y
            new_mean = mean + dxy * inv_window
            new_m2 = m2 + dxy * ((x - new_mean) + (y - mean))
            since += 1
            if since >= recompute_every or new_m2 < 1e-4 * m2 or not new_m2 < np.inf:
                mean, m2 = _ring_moments(st, cnt)
                since = 0
            else:
                mean = new_mean
                m2 = new_m2
        pos += 1
        if pos == window:
            pos = 0
        nseen += 1.0
        signal, epos, ecount, last = _confirm(
            st, eoff, _exceeds(score, threshold, direction), ts[t], epos, ecount, last, k, n, cooldown
        )
        scores[t] = score
        signals[t] = signal
    st[_H_NSEEN] = nseen
    st[_H_LAST_SIGNAL] = last
    st[_H_EPOS] = epos
    st[_H_ECOUNT] = ecount
    st[_H_COUNT] = cnt
    st[_H_POS] = pos
    st[_H_MEAN] = mean
    st[_H_M2] = m2
    st[_H_SINCE] = since
    st[_H_LASTX] = lastx
    st[_H_RUN] = run


@_jit(inline="always")
def _median_mad(st: np.ndarray, off: int, cnt: int) -> tuple[float, float]:
    """Median and MAD of the sorted values st[off:off+cnt]; the MAD by merging the distances outward."""
    h = cnt // 2
    med = st[off + h] if cnt % 2 == 1 else 0.5 * (st[off + h - 1] + st[off + h])
    i = h - 1
    j = h
    cur = 0.0
    prev = 0.0
    for r in range(h + 1):
        if i >= 0 and (j >= cnt or med - st[off + i] <= st[off + j] - med):
            cur = med - st[off + i]
            i -= 1
        else:
            cur = st[off + j] - med
            j += 1
        if r == h - 1:
            prev = cur
    mad = cur if cnt % 2 == 1 else 0.5 * (prev + cur)
    return med, mad


@_jit()
def _run_robust_zscore(
    st: np.ndarray,
    ts: np.ndarray,
    values: np.ndarray,
    scores: np.ndarray,
    signals: np.ndarray,
    window: int,
    threshold: float,
    direction: int,
    warmup: int,
    cooldown: float,
    k: int,
    n: int,
    eoff: int,
) -> None:
    soff = _HEADER + window  # the window, kept sorted
    nseen = st[_H_NSEEN]
    last = st[_H_LAST_SIGNAL]
    epos = int(st[_H_EPOS])
    ecount = st[_H_ECOUNT]
    cnt = int(st[_H_COUNT])
    pos = int(st[_H_POS])
    for t in range(values.shape[0]):
        x = values[t]
        if not math.isfinite(x):
            scores[t] = np.nan
            signals[t] = False
            continue
        score = np.nan
        if nseen >= warmup and cnt >= 2:
            med, mad = _median_mad(st, soff, cnt)
            scale = MAD_TO_STD * mad
            if scale > 0.0 and scale < np.inf:
                score = (x - med) / scale
        if cnt == window:  # evict the oldest value from the sorted window
            y = st[_HEADER + pos]
            lo = 0
            hi = cnt
            while lo < hi:
                mid = (lo + hi) // 2
                if st[soff + mid] < y:
                    lo = mid + 1
                else:
                    hi = mid
            for i in range(lo, cnt - 1):
                st[soff + i] = st[soff + i + 1]
            cnt -= 1
        lo = 0
        hi = cnt
        while lo < hi:
            mid = (lo + hi) // 2
            if st[soff + mid] <= x:
                lo = mid + 1
            else:
                hi = mid
        for i in range(cnt, lo, -1):
            st[soff + i] = st[soff + i - 1]
        st[soff + lo] = x
        cnt += 1
        st[_HEADER + pos] = x
        pos += 1
        if pos == window:
            pos = 0
        nseen += 1.0
        signal, epos, ecount, last = _confirm(
            st, eoff, _exceeds(score, threshold, direction), ts[t], epos, ecount, last, k, n, cooldown
        )
        scores[t] = score
        signals[t] = signal
    st[_H_NSEEN] = nseen
    st[_H_LAST_SIGNAL] = last
    st[_H_EPOS] = epos
    st[_H_ECOUNT] = ecount
    st[_H_COUNT] = cnt
    st[_H_POS] = pos


@_jit()
def _run_ewma(
    st: np.ndarray,
    ts: np.ndarray,
    values: np.ndarray,
    scores: np.ndarray,
    signals: np.ndarray,
    robust: bool,
    alpha: float,
    threshold: float,
    direction: int,
    warmup: int,
    cooldown: float,
    k: int,
    n: int,
    eoff: int,
    c: float,
    kappa: float,
) -> None:
    nseen = st[_H_NSEEN]
    last = st[_H_LAST_SIGNAL]
    epos = int(st[_H_EPOS])
    ecount = st[_H_ECOUNT]
    m = st[_H_MEAN]
    v = st[_H_M2]
    beta = 1.0 - alpha
    for t in range(values.shape[0]):
        x = values[t]
        if not math.isfinite(x):
            scores[t] = np.nan
            signals[t] = False
            continue
        score = np.nan
        if nseen == 0.0:
            m = x
            v = 0.0
        else:
            d = x - m
            sd = math.sqrt(v)
            scored = nseen >= warmup and sd > 0.0 and sd < np.inf
            if scored:
                score = d / sd
                if robust:
                    lim = c * sd
                    if d > lim:
                        d = lim
                    elif d < -lim:
                        d = -lim
                    m += alpha * d
                    v = beta * (v + alpha * d * d / kappa)
                else:
                    m += alpha * d
                    v = beta * (v + alpha * d * d)
            else:
                m += alpha * d
                v = beta * (v + alpha * d * d)
            if not (abs(m) < np.inf and v < np.inf):  # overflow (|x| near 1e308): start afresh from x
                m = x
                v = 0.0
        nseen += 1.0
        signal, epos, ecount, last = _confirm(
            st, eoff, _exceeds(score, threshold, direction), ts[t], epos, ecount, last, k, n, cooldown
        )
        scores[t] = score
        signals[t] = signal
    st[_H_NSEEN] = nseen
    st[_H_LAST_SIGNAL] = last
    st[_H_EPOS] = epos
    st[_H_ECOUNT] = ecount
    st[_H_MEAN] = m
    st[_H_M2] = v


@_jit()
def _run_series(
    st: np.ndarray,
    ts: np.ndarray,
    values: np.ndarray,
    scores: np.ndarray,
    signals: np.ndarray,
    kind: int,
    robust: bool,
    window: int,
    alpha: float,
    threshold: float,
    direction: int,
    warmup: int,
    cooldown: float,
    k: int,
    n: int,
    eoff: int,
    c: float,
    kappa: float,
) -> None:
    """Advance one series' state `st` over `values`, writing `scores` and `signals`."""
    if kind == _KIND_EWMA:
        _run_ewma(st, ts, values, scores, signals, robust, alpha, threshold, direction, warmup, cooldown, k, n, eoff,
                  c, kappa)  # fmt: skip
    elif robust:
        _run_robust_zscore(st, ts, values, scores, signals, window, threshold, direction, warmup, cooldown, k, n, eoff)
    else:
        _run_zscore(st, ts, values, scores, signals, window, threshold, direction, warmup, cooldown, k, n, eoff)


@_jit()
def _batch_serial(
    ts: np.ndarray,
    values: np.ndarray,
    scores: np.ndarray,
    signals: np.ndarray,
    size: int,
    kind: int,
    robust: bool,
    window: int,
    alpha: float,
    threshold: float,
    direction: int,
    warmup: int,
    cooldown: float,
    k: int,
    n: int,
    eoff: int,
    c: float,
    kappa: float,
) -> None:
    st = np.empty(size)
    for s in range(values.shape[0]):
        _init_state(st)
        _run_series(st, ts, values[s], scores[s], signals[s], kind, robust, window, alpha, threshold, direction,
                    warmup, cooldown, k, n, eoff, c, kappa)  # fmt: skip


@_jit(parallel=True)
def _batch_parallel(
    ts: np.ndarray,
    values: np.ndarray,
    scores: np.ndarray,
    signals: np.ndarray,
    size: int,
    kind: int,
    robust: bool,
    window: int,
    alpha: float,
    threshold: float,
    direction: int,
    warmup: int,
    cooldown: float,
    k: int,
    n: int,
    eoff: int,
    c: float,
    kappa: float,
) -> None:
    for s in prange(values.shape[0]):
        st = np.empty(size)
        _init_state(st)
        _run_series(st, ts, values[s], scores[s], signals[s], kind, robust, window, alpha, threshold, direction,
                    warmup, cooldown, k, n, eoff, c, kappa)  # fmt: skip


_PARALLEL_LOCK = threading.Lock()


# --------------------------------------------------------------------------------------------------- batch form


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
    vals = np.ascontiguousarray(np.asarray(values, dtype=np.float64))
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


# --------------------------------------------------------------------------------------------------- streaming


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


def warm_up() -> None:
    """Load (or, the first time, compile) every kernel now rather than on the first real call."""
    ts = np.arange(3, dtype=np.int64)
    vals = np.zeros((1, 3))
    for spec in (DetectorSpec(kind="zscore"), DetectorSpec(kind="ewma")):
        p = _params(spec)
        detect_batch(spec, ts, vals)
        with _PARALLEL_LOCK:
            _batch_parallel(ts, vals, np.empty((1, 3)), np.empty((1, 3), dtype=np.bool_), p.size, *p.args)
        update(spec, None, 0, 0.0)
