"""Detector configuration: `DetectorSpec`, and the exact semantics of each of its fields.

Semantics (identical in the batch and the streaming form)
    Valid points
        A point is valid when its value is finite. NaN and +/-inf are skipped: no score, no signal, no state
        update, and they do not count toward warm-up, the window, k-of-n or a cooldown in points. Gaps in time
        need no special care: the baseline is made of the last valid *points*, whatever their spacing.
    Score
        The score of a valid point x uses the baseline of the valid points BEFORE it (x is never part of its own
        baseline), then x is added to the baseline: score = (x - centre) / scale.

        * zscore: centre and scale are the mean and SAMPLE standard deviation (ddof=1, as pandas'
          ``rolling().std()``) of the last ``window`` valid points.
          robust: median and MAD * 1.4826 (consistent with the std for normal data) of the same points.
        * ewma: exponentially weighted mean m and variance v, updated recursively with
          d = x - m;  m <- m + alpha*d;  v <- (1 - alpha) * (v + alpha*d^2)        (first valid point: m = x, v = 0)
          centre m and scale sqrt(v), with the state before x. These are exactly pandas'
          ``ewm(alpha=alpha, adjust=False).mean()`` and ``.var(bias=True)``.
          robust (Huber-clipped EWMA, after Gelper, Fried & Croux 2010): once scored, the innovation d is clipped
          to +/- 2*scale before it enters m and v, and v is divided by the Huber consistency factor
          kappa = E[min(Z^2, 4)] = 0.9205 so that v stays unbiased for normal noise. An outlier therefore moves
          m by at most 2*alpha scales, where the plain EWMA would let a 50-sigma spike blow v up 250-fold.
          During warm-up the plain update is used.
          Should m or v overflow (values near 1e308), the EWMA restarts from the current point (m = x, v = 0).
        ``halflife`` h (in points) gives alpha = 1 - exp(ln(0.5) / h).
    Scale floor
        The scale used is max(scale, ``scale_floor``, ``scale_floor_rel`` * |centre|). A flat stretch makes the
        raw scale 0 (zscore: every point of the window identical; robust zscore: more than half of them; ewma: v
        decays geometrically towards 0), and without a floor the next point would score NaN (0 / 0) or an
        absurd value (a change of 0.01 after a flat stretch scoring 60,000). With a floor the change is measured
        against a scale the metric can plausibly move by. When the scale used is still 0 (both floors 0) or not
        finite, the point gets no score (NaN) and cannot signal.
    Warm-up
        A point is scored only when at least max(warmup, 2) valid points precede it. A series shorter than that
        gives no score and no signal.
    Threshold and direction
        The point *exceeds* when its exceedance e > threshold, with e = score (up), -score (down), |score| (both).
    Adaptive threshold (``adaptive_quantile`` p, ``adaptive_window`` N)
        An exceeding point exceeds only if it is also above the p-quantile of the exceedances of the last N scored
        points before it: at most (1 - p) * N of them may have exceeded the threshold and lie in its bin or above.
        Exceedances are binned from 1 up, eight bins per doubling (so the comparison is exact to 1/8 of an
        octave; the last bin takes everything from 256 up). Heavy-tailed series, whose normal bursts score high
        all the time, thus signal only on what is unusual for them. With fewer than 1 / (1 - p) scored points the
        point must beat every earlier exceedance. Every scored point counts towards N, whether it exceeded or
        not, and so does one whose signal k of n or a cooldown suppressed.
    k of n confirmation
        A valid point signals only when it exceeds AND at least ``confirm_k`` of the last ``confirm_n`` valid
        points (itself included) exceed. Valid but unscored points (warm-up, zero scale) count as not exceeding.
    Cooldown
        After a signal at time t (the i-th valid point), the same series cannot signal again while
        ts < t + cooldown_s, nor while it is fewer than ``cooldown_points`` valid points after i (so on a regular
        grid ``cooldown_points=30`` at a 1-minute step is ``cooldown_s=1800``). Timestamps are int64 epoch seconds,
        expected non-decreasing. A suppressed point still updates the baseline, the adaptive quantile and the
        k-of-n history, and does not extend the cooldown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Literal

import numpy as np

from ops_pipeline.core import detector_defaults as defaults

Kind = Literal["zscore", "ewma"]
Direction = Literal["up", "down", "both"]

_MAX_WINDOW = 1_000_000
EWMA_MEMORY_TOLERANCE = 1e-6  # the weight below which a point is forgotten by the EWMA (for history_points)


def _is_int(value: object) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _is_real(value: object) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(float(value))


@dataclass(frozen=True)
class DetectorSpec:
    """One detector's configuration. See the module docstring for the exact semantics of each field.

    Fields left at None take their default on construction: ``window`` (zscore), ``cooldown_points`` (the
    default when ``cooldown_s`` is 0, else 0) and ``confirm_n`` (``confirm_k``).
    """

    kind: Kind
    window: int | None = None
    alpha: float | None = None
    halflife: float | None = None
    threshold: float = defaults.THRESHOLD
    direction: Direction = "both"
    warmup: int = defaults.WARMUP
    robust: bool = False
    cooldown_s: float = 0
    cooldown_points: int | None = None
    confirm_k: int = 1
    confirm_n: int | None = None
    scale_floor: float = defaults.SCALE_FLOOR
    scale_floor_rel: float = defaults.SCALE_FLOOR_RELATIVE
    adaptive_quantile: float | None = defaults.ADAPTIVE_QUANTILE
    adaptive_window: int = defaults.ADAPTIVE_WINDOW

    def __post_init__(self) -> None:
        if self.kind not in ("zscore", "ewma"):
            raise ValueError(f"kind must be 'zscore' or 'ewma', got {self.kind!r}")
        if self.kind == "zscore":
            if self.alpha is not None or self.halflife is not None:
                raise ValueError("alpha/halflife apply to kind='ewma' only; zscore uses window")
            if self.window is None:
                object.__setattr__(self, "window", defaults.ZSCORE_WINDOW)
            if not _is_int(self.window) or not 2 <= self.window <= _MAX_WINDOW:  # type: ignore[operator]
                raise ValueError(f"window must be an integer in [2, {_MAX_WINDOW}], got {self.window!r}")
        elif self.window is not None:
            raise ValueError("window applies to kind='zscore' only; ewma uses alpha or halflife")
        if self.alpha is not None and self.halflife is not None:
            raise ValueError("alpha and halflife are exclusive: give at most one of them")
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
        if self.cooldown_points is None:
            default = defaults.COOLDOWN_POINTS if float(self.cooldown_s) == 0.0 else 0
            object.__setattr__(self, "cooldown_points", default)
        if not _is_int(self.cooldown_points) or self.cooldown_points < 0:  # type: ignore[operator]
            raise ValueError(f"cooldown_points must be a non-negative integer, got {self.cooldown_points!r}")
        if not _is_int(self.confirm_k) or self.confirm_k < 1:
            raise ValueError(f"confirm_k must be an integer of at least 1, got {self.confirm_k!r}")
        if self.confirm_n is None:
            object.__setattr__(self, "confirm_n", self.confirm_k)
        if not _is_int(self.confirm_n) or not 1 <= self.confirm_n <= _MAX_WINDOW:  # type: ignore[operator]
            raise ValueError(f"confirm_n must be an integer in [1, {_MAX_WINDOW}], got {self.confirm_n!r}")
        if self.confirm_k > self.confirm_n:  # type: ignore[operator]
            raise ValueError(f"confirm_k must be at most confirm_n ({self.confirm_n}), got {self.confirm_k!r}")
        for name in ("scale_floor", "scale_floor_rel"):
            value = getattr(self, name)
            if not _is_real(value) or float(value) < 0.0:
                raise ValueError(f"{name} must be a non-negative number, got {value!r}")
        if self.adaptive_quantile is not None and (
            not _is_real(self.adaptive_quantile) or not 0.0 < float(self.adaptive_quantile) < 1.0
        ):
            raise ValueError(f"adaptive_quantile must be a number in (0, 1) or None, got {self.adaptive_quantile!r}")
        if not _is_int(self.adaptive_window) or not 1 <= self.adaptive_window <= _MAX_WINDOW:
            raise ValueError(f"adaptive_window must be an integer in [1, {_MAX_WINDOW}], got {self.adaptive_window!r}")

    @property
    def effective_alpha(self) -> float:
        """The EWMA smoothing factor: alpha, or derived from halflife, or the default."""
        if self.alpha is not None:
            return float(self.alpha)
        if self.halflife is not None:
            return 1.0 - math.exp(math.log(0.5) / float(self.halflife))
        return defaults.EWMA_ALPHA

    @property
    def baseline_points(self) -> int:
        """Valid points the baseline depends on: the window, or the points an EWMA still remembers (those whose
        weight is above 1e-6), and at least the warm-up."""
        if self.kind == "zscore":
            memory = int(self.window or 0)
        else:
            memory = math.ceil(math.log(EWMA_MEMORY_TOLERANCE) / math.log1p(-self.effective_alpha))
        return max(memory, self.warmup, 2)

    @property
    def history_points(self) -> int:
        """Points of history after which the detector's decisions no longer depend on what came before: the
        baseline, then the adaptive window of scores, the k-of-n history and a cooldown in points."""
        adaptive = self.adaptive_window if self.adaptive_quantile is not None else 0
        return self.baseline_points + adaptive + int(self.confirm_n or 1) + int(self.cooldown_points or 0)
