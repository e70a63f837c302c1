"""Detector configuration: `DetectorSpec`, and the exact semantics of each of its fields.

Semantics (identical in the batch and the streaming form)
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
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Literal

import numpy as np

Kind = Literal["zscore", "ewma"]
Direction = Literal["up", "down", "both"]

_MAX_WINDOW = 1_000_000


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
