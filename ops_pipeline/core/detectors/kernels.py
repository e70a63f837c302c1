"""The compiled kernels: the per-family loops over a per-series state vector, and the batch drivers.

One compiled loop per detector family (`_run_zscore`, `_run_robust_zscore`, `_run_ewma`) advances one series'
state vector over a chunk of points; `_run_series` dispatches to it. The batch kernels call it once per series
over the whole row, `update` and `update_many` call it over the new points of one series: the same code either
way, hence identical results. Each loop keeps the header in local variables (registers) and writes it back at
the end. The threshold test (`_exceeds`) and the k-of-n confirmation then cooldown (`_confirm`) are inlined into
every loop.

Numerics
    The non-robust zscore keeps the window as a ring buffer plus a running mean and sum of squared deviations,
    updated in O(1) per point with the sliding Welford formulas. To stop floating-point drift (and the
    cancellation after a huge value leaves the window) both are recomputed exactly from the buffer (shifted
    two-pass) every max(window, 1024) points and whenever the sum of squares collapses by more than 10^4 in one
    step: amortised O(1), O(window) on those rare points. A run-length counter of identical consecutive
    values detects an exactly constant window whatever the rounding. The robust zscore keeps the window sorted
    (binary search plus a shift), so it costs O(window) per point. EWMA (plain or robust) is O(1) per point,
    and the k-of-n history is an O(1) ring of ``confirm_n`` flags.

Compilation and threads
    The kernels are ``numba.njit(cache=True)``: compiled once (about 5 s), then loaded from the on-disk cache
    by every later process (about half a second for the whole set). Numba writes the cache to ``__pycache__``
    next to this file (fine for an editable install); when that directory is not writable it falls back to
    the user-wide cache directory (``~/.cache/numba``), and ``NUMBA_CACHE_DIR`` overrides both. Should no
    location be writable, a warning is issued and the kernels are compiled in each process instead. Editing
    this file invalidates the cache. `warm_up()` loads (or compiles) everything up front, e.g. when the code
    location starts.
    Numba checks only the file that defines a cached function, not the files of the functions and constants it
    uses, so every jitted function and every constant the kernels read (the state layout included) lives in
    this one module: moving one of them elsewhere would let a stale cache survive its edit.
    The kernels release the GIL. `_batch_parallel` (``parallel=True``) is called under `_PARALLEL_LOCK`, so that
    concurrent Python threads never enter numba's thread pool at the same time.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit, prange

MAD_TO_STD = 1.4826
HUBER_C = 2.0
# E[min(Z^2, c^2)] for a standard normal Z: keeps the clipped EWMA variance consistent for normal noise.
HUBER_KAPPA = (
    math.erf(HUBER_C / math.sqrt(2.0))
    - 2.0 * HUBER_C * math.exp(-0.5 * HUBER_C**2) / math.sqrt(2.0 * math.pi)
    + HUBER_C**2 * math.erfc(HUBER_C / math.sqrt(2.0))
)
_RECOMPUTE_EVERY = 1024  # zscore: exact recompute of the window moments at least every this many points

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
