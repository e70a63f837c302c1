"""The compiled kernels: the per-family loops over a per-series state vector, and the batch drivers.

This module is over 400 lines on purpose: numba caches compiled code per file and notices edits only to the file
that defines a function, so every kernel that calls another lives here, in one file.

`_run_series` advances one series' state vector over a chunk of points in passes: one compiled scoring loop per
detector family (`_score_zscore`, `_score_plain_ewma`, `_score_robust_zscore`, `_score_robust_ewma`) writes the
scores (the plain ones write each point's numerator, variance and floor, and `_divide_by_scale` then divides in
a loop without recurrence, which the compiler vectorises), then `_decide`
turns them into signals (threshold and direction, the adaptive quantile, k of n, cooldown). The batch kernels
call it once per series over the whole row, `update` and `update_many` call it over the new points of one
series: the same code either way, hence identical results. Each loop keeps its part of the header in local
variables (registers) and writes it back at the end. Splitting the passes keeps the scoring loops tight, and
`_decide` without adaptive quantile, k of n or cooldown is a plain comparison the compiler vectorises.

State vector
    header (`_H_*` slots) | k-of-n flags (confirm_n) | adaptive histogram (`ADAPTIVE_BINS`, when adaptive) |
    adaptive ring (one byte per scored point, adaptive_window bytes packed into float64 slots) |
    value ring (window, zscore) | sorted window (window, robust zscore).
    Everything before the value ring is small; the value ring and the sorted window grow with the window. The
    streaming form may run on a state whose value ring is only partly loaded (the pages the new points touch,
    see `pages`); the plain zscore then reports `NEEDS_WHOLE_STATE` instead of reading the rest, and the caller
    loads it and runs again from the saved state.

Numerics
    The non-robust zscore keeps the window as a ring buffer plus a running mean and sum of squared deviations,
    updated in O(1) per point with the sliding Welford formulas. To stop floating-point drift (and the
    cancellation after a huge value leaves the window) both are recomputed exactly from the buffer (shifted
    two-pass) every max(window, 1024) points and whenever the sum of squares collapses by more than 10^4 in one
    step: amortised O(1), O(window) on those rare points. A run-length counter of identical consecutive
    values detects an exactly constant window whatever the rounding. The robust zscore keeps the window sorted
    (binary search plus a shift), so it costs O(window) per point. EWMA (plain or robust) is O(1) per point,
    the k-of-n history is an O(1) ring of ``confirm_n`` flags, and the adaptive quantile is O(1) per point (a
    histogram updated as the ring of bins turns) plus a sum over the bins above an exceeding point.

Compilation and threads
    The kernels are ``numba.njit(cache=True)``: compiled once (about 10 s), then loaded from the on-disk cache
    by every later process (about half a second for the whole set). Numba writes the cache to ``__pycache__``
    next to this file (fine for an editable install); when that directory is not writable it falls back to
    the user-wide cache directory (``~/.cache/numba``), and ``NUMBA_CACHE_DIR`` overrides both. Should no
    location be writable, a warning is issued and the kernels are compiled in each process instead. Editing
    this file invalidates the cache. `warm_up()` loads (or compiles) everything up front, e.g. when the code
    location starts. The callers hand the kernels read-only views of their inputs, so one compiled signature
    serves both the writable arrays numpy makes and the read-only ones pandas 3 hands out.
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
ADAPTIVE_BINS = 64  # bin 0: exceedance <= 1; then 8 bins per doubling; the last bin takes everything above
ADAPTIVE_BINS_PER_OCTAVE = 8

# Per-series state vector: header slots, then the sections listed in the module docstring. Counters are stored
# as float64 (exact below 2**53).
_H_NSEEN = 0  # valid points seen
_H_LAST_SIGNAL = 1  # timestamp of the last signal, NaN = never
_H_LAST_SIGNAL_N = 2  # valid points seen before the last signal, NaN = never
_H_EPOS = 3  # next slot of the k-of-n ring
_H_ECOUNT = 4  # exceeding points in the k-of-n ring
_H_COUNT = 5  # zscore: points in the window
_H_POS = 6  # zscore: next slot of the value ring
_H_MEAN = 7  # zscore: window mean / ewma: m
_H_M2 = 8  # zscore: sum of squared deviations / ewma: v
_H_SINCE = 9  # zscore: sliding updates since the last exact recompute
_H_LASTX = 10  # zscore: previous valid value
_H_RUN = 11  # zscore: run length of identical consecutive valid values
_H_ACOUNT = 12  # adaptive: scored points in the ring of bins
_H_APOS = 13  # adaptive: next slot of the ring of bins
_HEADER = 14

_KIND_ZSCORE = 0
_KIND_EWMA = 1
_DIR_BOTH = 0
_DIR_UP = 1
_DIR_DOWN = 2
NEEDS_WHOLE_STATE = 1  # returned by a loop that needed the part of the value ring that was not loaded


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
    st[_H_LAST_SIGNAL_N] = np.nan


@_jit(inline="always")
def _adaptive_bin(e: float) -> int:
    """0 for e <= 1 (and NaN), then ADAPTIVE_BINS_PER_OCTAVE bins per doubling of e, capped at the last bin:
    1 + 8 * floor(log2 e) + floor(8 * (e / 2**floor(log2 e) - 1)), computed without a call into libm."""
    if not e > 1.0:
        return 0
    if e >= 256.0:  # 2**8: past the last octave (and infinite scores)
        return ADAPTIVE_BINS - 1
    octave = 0
    power = 1.0
    while e >= 2.0 * power and octave < 7:
        power *= 2.0
        octave += 1
    b = 1 + ADAPTIVE_BINS_PER_OCTAVE * octave + int((e / power - 1.0) * ADAPTIVE_BINS_PER_OCTAVE)
    return min(b, ADAPTIVE_BINS - 1)


@_jit()
def _decide(
    st: np.ndarray,
    ts: np.ndarray,
    values: np.ndarray,
    scores: np.ndarray,
    signals: np.ndarray,
    first_index: int,
    threshold: float,
    direction: int,
    cooldown_s: float,
    cooldown_n: int,
    k: int,
    n: int,
    eoff: int,
    adaptive_n: int,
    adaptive_tail: float,
    hoff: int,
    boff: int,
) -> None:
    """The second pass over a chunk: threshold and direction, adaptive quantile, k of n, then cooldown, from the
    scores the first pass wrote. `first_index` is the number of valid points seen before the chunk."""
    if adaptive_n == 0 and n == 1 and cooldown_s == 0.0 and cooldown_n == 0:
        for t in range(values.shape[0]):  # no state at all: a plain comparison (NaN scores compare False)
            score = scores[t]
            if direction == _DIR_BOTH:
                signals[t] = abs(score) > threshold
            elif direction == _DIR_UP:
                signals[t] = score > threshold
            else:
                signals[t] = -score > threshold
        return
    st8 = st.view(np.uint8)
    bbyte = boff * 8
    last = st[_H_LAST_SIGNAL]
    last_n = st[_H_LAST_SIGNAL_N]
    epos = int(st[_H_EPOS])
    ecount = st[_H_ECOUNT]
    acount = int(st[_H_ACOUNT])
    apos = int(st[_H_APOS])
    index = first_index
    for t in range(values.shape[0]):
        if not math.isfinite(values[t]):
            signals[t] = False
            continue
        score = scores[t]
        exceed = False
        if score == score:  # scored (not NaN)
            if direction == _DIR_BOTH:
                e = abs(score)
            elif direction == _DIR_UP:
                e = score
            else:
                e = -score
            exceed = e > threshold
            if adaptive_n > 0:
                # Only exceeding points get a bin (and count in the histogram): the bins of the others never
                # matter, and keeping them at 0 leaves this loop without unpredictable branches.
                b = 0
                if exceed:
                    b = _adaptive_bin(e)
                    tail = 0.0
                    for j in range(max(b, 1), ADAPTIVE_BINS):
                        tail += st[hoff + j]
                    exceed = tail <= adaptive_tail * acount
                if acount == adaptive_n:
                    old = st8[bbyte + apos]
                    if old != 0:
                        st[hoff + min(old, ADAPTIVE_BINS - 1)] -= 1.0
                else:
                    acount += 1
                st8[bbyte + apos] = b
                if b != 0:
                    st[hoff + b] += 1.0
                apos += 1
                if apos == adaptive_n:
                    apos = 0
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
        if signal and cooldown_s > 0.0 and float(ts[t]) - last < cooldown_s:
            signal = False
        if signal and cooldown_n > 0 and float(index) - last_n < cooldown_n:
            signal = False
        if signal:
            last = float(ts[t])
            last_n = float(index)
        signals[t] = signal
        index += 1
    st[_H_LAST_SIGNAL] = last
    st[_H_LAST_SIGNAL_N] = last_n
    st[_H_EPOS] = epos
    st[_H_ECOUNT] = ecount
    st[_H_ACOUNT] = acount
    st[_H_APOS] = apos


@_jit(inline="always")
def _floor_of(centre: float, floor_abs: float, floor_rel: float) -> float:
    """max(floor_abs, floor_rel * |centre|), written as comparisons (cheaper than max() in the loops)."""
    floor = floor_rel * abs(centre)
    if floor < floor_abs:
        floor = floor_abs
    return floor


@_jit(inline="always")
def _floored(scale: float, centre: float, floor_abs: float, floor_rel: float) -> float:
    """max(scale, floor_abs, floor_rel * |centre|)."""
    floor = _floor_of(centre, floor_abs, floor_rel)
    if scale < floor:
        scale = floor
    return scale


@_jit(inline="always")
def _divide_by_scale(scores: np.ndarray, variances: np.ndarray, floors: np.ndarray) -> None:
    """scores[t] (the numerator x - centre, or NaN) / max(sqrt(variances[t]), floors[t]); NaN where that scale is
    0 or not finite. No recurrence runs through it, so the compiler vectorises the square roots and divisions
    the scoring loops would otherwise queue one after the other."""
    for t in range(scores.shape[0]):
        var = variances[t]
        scale = math.sqrt(var) if var > 0.0 else 0.0
        floor = floors[t]
        if scale < floor:
            scale = floor
        score = scores[t] / scale
        scores[t] = score if (scale > 0.0) & (scale < np.inf) else np.nan


@_jit(inline="always")
def _ring_moments(st: np.ndarray, voff: int, cnt: int) -> tuple[float, float]:
    """Exact (shifted two-pass) mean and sum of squared deviations of the value ring st[voff:voff+cnt]."""
    shift = st[voff]
    acc = 0.0
    for i in range(cnt):
        acc += st[voff + i] - shift
    mean = shift + acc / cnt
    m2 = 0.0
    for i in range(cnt):
        d = st[voff + i] - mean
        m2 += d * d
    return mean, m2


@_jit()
def _score_zscore(
    st: np.ndarray,
    values: np.ndarray,
    scores: np.ndarray,
    variances: np.ndarray,
    floors: np.ndarray,
    ring_loaded: bool,
    window: int,
    warmup: int,
    floor_abs: float,
    floor_rel: float,
    voff: int,
) -> int:
    nseen = int(st[_H_NSEEN])
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
        variances[t] = 0.0
        floors[t] = 1.0
        if not math.isfinite(x):
            scores[t] = np.nan
            continue
        if nseen >= warmup and cnt >= 2:
            if run < cnt:
                variances[t] = m2 * inv_dof
                centre = mean
            else:  # every value of the window is lastx: exactly no spread, whatever the rounding
                centre = lastx
            floors[t] = _floor_of(centre, floor_abs, floor_rel)
            scores[t] = x - centre  # divided by the scale in _divide_by_scale
        else:
            scores[t] = np.nan
        if cnt > 0 and x == lastx:
            run += 1
        else:
            run = 1
        lastx = x
        if cnt < window:
            st[voff + pos] = x
            cnt += 1
            d = x - mean
            mean += d / cnt
            m2 += d * (x - mean)
            inv_dof = 1.0 / (cnt - 1) if cnt > 1 else 0.0
        else:
            y = st[voff + pos]
            st[voff + pos] = x
            dxy = x - y
            new_mean = mean + dxy * inv_window
            new_m2 = m2 + dxy * ((x - new_mean) + (y - mean))
            since += 1
            if since >= recompute_every or new_m2 < 1e-4 * m2 or not new_m2 < np.inf:
                if not ring_loaded:
                    return NEEDS_WHOLE_STATE
                mean, m2 = _ring_moments(st, voff, cnt)
                since = 0
            else:
                mean = new_mean
                m2 = new_m2
        pos += 1
        if pos == window:
            pos = 0
        nseen += 1
    st[_H_NSEEN] = nseen
    st[_H_COUNT] = cnt
    st[_H_POS] = pos
    st[_H_MEAN] = mean
    st[_H_M2] = m2
    st[_H_SINCE] = since
    st[_H_LASTX] = lastx
    st[_H_RUN] = run
    return 0


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
def _score_robust_zscore(
    st: np.ndarray,
    values: np.ndarray,
    scores: np.ndarray,
    window: int,
    warmup: int,
    floor_abs: float,
    floor_rel: float,
    voff: int,
    soff: int,
) -> int:
    nseen = int(st[_H_NSEEN])
    cnt = int(st[_H_COUNT])
    pos = int(st[_H_POS])
    for t in range(values.shape[0]):
        x = values[t]
        if not math.isfinite(x):
            scores[t] = np.nan
            continue
        score = np.nan
        if nseen >= warmup and cnt >= 2:
            med, mad = _median_mad(st, soff, cnt)
            scale = _floored(MAD_TO_STD * mad, med, floor_abs, floor_rel)
            if scale > 0.0 and scale < np.inf:
                score = (x - med) / scale
        scores[t] = score
        if cnt == window:  # evict the oldest value from the sorted window
            y = st[voff + pos]
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
        st[voff + pos] = x
        pos += 1
        if pos == window:
            pos = 0
        nseen += 1
    st[_H_NSEEN] = nseen
    st[_H_COUNT] = cnt
    st[_H_POS] = pos
    return 0


@_jit()
def _score_plain_ewma(
    st: np.ndarray,
    values: np.ndarray,
    scores: np.ndarray,
    variances: np.ndarray,
    floors: np.ndarray,
    alpha: float,
    warmup: int,
    floor_abs: float,
    floor_rel: float,
) -> int:
    nseen = int(st[_H_NSEEN])
    m = st[_H_MEAN]
    v = st[_H_M2]
    beta = 1.0 - alpha
    for t in range(values.shape[0]):
        x = values[t]
        variances[t] = 0.0
        floors[t] = 1.0
        if not math.isfinite(x):
            scores[t] = np.nan
            continue
        scores[t] = np.nan
        if nseen == 0:
            m = x
            v = 0.0
        else:
            d = x - m
            if nseen >= warmup:
                variances[t] = v
                floors[t] = _floor_of(m, floor_abs, floor_rel)
                scores[t] = d  # divided by the scale in _divide_by_scale
            m += alpha * d
            v = beta * (v + alpha * d * d)
            if not v < np.inf:  # overflow (|x| near 1e308; an infinite m makes v infinite too): restart from x
                m = x
                v = 0.0
        nseen += 1
    st[_H_NSEEN] = nseen
    st[_H_MEAN] = m
    st[_H_M2] = v
    return 0


@_jit()
def _score_robust_ewma(
    st: np.ndarray,
    values: np.ndarray,
    scores: np.ndarray,
    alpha: float,
    warmup: int,
    floor_abs: float,
    floor_rel: float,
    c: float,
    kappa: float,
) -> int:
    nseen = int(st[_H_NSEEN])
    m = st[_H_MEAN]
    v = st[_H_M2]
    beta = 1.0 - alpha
    robust_gain = alpha / kappa
    for t in range(values.shape[0]):
        x = values[t]
        if not math.isfinite(x):
            scores[t] = np.nan
            continue
        score = np.nan
        if nseen == 0:
            m = x
            v = 0.0
        else:
            d = x - m
            scale = _floored(math.sqrt(v), m, floor_abs, floor_rel)
            if nseen >= warmup and scale > 0.0 and scale < np.inf:
                score = d / scale
                lim = c * scale
                d = min(max(d, -lim), lim)
                m += alpha * d
                v = beta * (v + robust_gain * d * d)
            else:  # warm-up: the plain recursion
                m += alpha * d
                v = beta * (v + alpha * d * d)
            if not v < np.inf:  # overflow (|x| near 1e308; an infinite m makes v infinite too): restart from x
                m = x
                v = 0.0
        scores[t] = score
        nseen += 1
    st[_H_NSEEN] = nseen
    st[_H_MEAN] = m
    st[_H_M2] = v
    return 0


@_jit()
def _run_series(
    st: np.ndarray,
    ts: np.ndarray,
    values: np.ndarray,
    scores: np.ndarray,
    signals: np.ndarray,
    ring_loaded: bool,
    kind: int,
    robust: bool,
    window: int,
    alpha: float,
    threshold: float,
    direction: int,
    warmup: int,
    cooldown_s: float,
    cooldown_n: int,
    k: int,
    n: int,
    floor_abs: float,
    floor_rel: float,
    adaptive_n: int,
    adaptive_tail: float,
    eoff: int,
    hoff: int,
    boff: int,
    voff: int,
    soff: int,
    c: float,
    kappa: float,
) -> int:
    """Advance one series' state `st` over `values`, writing `scores` and `signals`: a scoring pass, then the
    decisions. Returns 0, or NEEDS_WHOLE_STATE when `ring_loaded` is False and the value ring had to be read in
    full (the state is then half-updated and must be discarded)."""
    first_index = int(st[_H_NSEEN])
    if robust:  # the scale enters the robust recursions: they divide as they go
        if kind == _KIND_EWMA:
            status = _score_robust_ewma(st, values, scores, alpha, warmup, floor_abs, floor_rel, c, kappa)
        else:
            status = _score_robust_zscore(st, values, scores, window, warmup, floor_abs, floor_rel, voff, soff)
    else:
        variances = np.empty(values.shape[0])
        floors = np.empty(values.shape[0])
        if kind == _KIND_EWMA:
            status = _score_plain_ewma(st, values, scores, variances, floors, alpha, warmup, floor_abs, floor_rel)
        else:
            status = _score_zscore(st, values, scores, variances, floors, ring_loaded, window, warmup, floor_abs,
                                   floor_rel, voff)  # fmt: skip
        if status == 0:
            _divide_by_scale(scores, variances, floors)
    if status != 0:
        return status
    _decide(st, ts, values, scores, signals, first_index, threshold, direction, cooldown_s, cooldown_n, k, n, eoff,
            adaptive_n, adaptive_tail, hoff, boff)  # fmt: skip
    return 0


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
    cooldown_s: float,
    cooldown_n: int,
    k: int,
    n: int,
    floor_abs: float,
    floor_rel: float,
    adaptive_n: int,
    adaptive_tail: float,
    eoff: int,
    hoff: int,
    boff: int,
    voff: int,
    soff: int,
    c: float,
    kappa: float,
) -> None:
    st = np.empty(size)
    for s in range(values.shape[0]):
        _init_state(st)
        _run_series(st, ts, values[s], scores[s], signals[s], True, kind, robust, window, alpha, threshold,
                    direction, warmup, cooldown_s, cooldown_n, k, n, floor_abs, floor_rel, adaptive_n,
                    adaptive_tail, eoff, hoff, boff, voff, soff, c, kappa)  # fmt: skip


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
    cooldown_s: float,
    cooldown_n: int,
    k: int,
    n: int,
    floor_abs: float,
    floor_rel: float,
    adaptive_n: int,
    adaptive_tail: float,
    eoff: int,
    hoff: int,
    boff: int,
    voff: int,
    soff: int,
    c: float,
    kappa: float,
) -> None:
    for s in prange(values.shape[0]):
        st = np.empty(size)
        _init_state(st)
        _run_series(st, ts, values[s], scores[s], signals[s], True, kind, robust, window, alpha, threshold,
                    direction, warmup, cooldown_s, cooldown_n, k, n, floor_abs, floor_rel, adaptive_n,
                    adaptive_tail, eoff, hoff, boff, voff, soff, c, kappa)  # fmt: skip


_PARALLEL_LOCK = threading.Lock()
