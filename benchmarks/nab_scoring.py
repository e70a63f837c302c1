"""Scoring detections against labelled anomaly windows the way the Numenta Anomaly Benchmark (NAB) does.

Per series of n points:

* the first 15 % (``floor(0.15 n)`` points) is a probation period: detections there are ignored;
* the first detection inside a window earns ``A_TP * sigmoid(y)``, with y the detection's position relative to
  the window's end in window lengths (y = -1 at its first point, 0 at its last) and
  ``sigmoid(y) = 2 / (1 + exp(5 y)) - 1`` (0.987 at the first point, 0 at the last): the earlier, the more;
  later detections in the same window count for nothing, good or bad;
* a window without a detection costs ``A_FN``;
* every detection outside all windows is a false positive and costs ``A_FP`` (flat; NAB itself discounts a
  false positive that follows a window closely, this scorer does not).

The raw score of a detector is the sum over the series; it is normalised per profile over the whole set scored,
so that a detector that never fires scores 0 and a perfect one (a detection at the first point of every window
and nowhere else) scores 100: ``100 * (raw - null) / (perfect - null)``. A detector can score below 0.

Profiles (NAB's weights): standard (A_TP 1, A_FP 0.11, A_FN 1), reward_low_FP (A_FP 0.22), reward_low_FN (A_FN 2).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

PROBATION = 0.15


@dataclass(frozen=True)
class Profile:
    name: str
    tp: float
    fp: float
    fn: float


PROFILES = (
    Profile("standard", tp=1.0, fp=0.11, fn=1.0),
    Profile("reward_low_FP", tp=1.0, fp=0.22, fn=1.0),
    Profile("reward_low_FN", tp=1.0, fp=0.11, fn=2.0),
)


def sigmoid(y: float) -> float:
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


@dataclass(frozen=True)
class Tally:
    """What a detector did on some series: the summed sigmoid of its first detection in each detected window,
    the best possible such sum, and the counts of windows, detected windows and false positives."""

    reward: float = 0.0
    best_reward: float = 0.0
    windows: int = 0
    detected: int = 0
    false_positives: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.reward + other.reward,
            self.best_reward + other.best_reward,
            self.windows + other.windows,
            self.detected + other.detected,
            self.false_positives + other.false_positives,
        )

    def score(self, profile: Profile) -> float:
        """Normalised score, 0 = never fires, 100 = perfect."""
        raw = profile.tp * self.reward - profile.fn * (self.windows - self.detected) - profile.fp * self.false_positives
        null = -profile.fn * self.windows
        perfect = profile.tp * self.best_reward
        return 100.0 * (raw - null) / (perfect - null) if perfect > null else 0.0


def _position(index: int, first: int, last: int) -> float:
    return (index - last) / (last - first + 1)


def tally_series(detections: np.ndarray, windows: Sequence[tuple[int, int]], n: int) -> Tally:
    """Score one series: `detections` are the indices of the signals, `windows` (first, last) inclusive."""
    start = int(PROBATION * n)
    found = np.sort(np.asarray(detections, dtype=np.int64))
    found = found[found >= start]
    reward = best = 0.0
    detected = 0
    inside = np.zeros(found.size, dtype=bool)
    scored = [(first, last) for first, last in windows if first >= start]
    for first, last in scored:
        lo, hi = np.searchsorted(found, first, side="left"), np.searchsorted(found, last, side="right")
        inside[lo:hi] = True
        best += sigmoid(_position(first, first, last))
        if hi > lo:
            detected += 1
            reward += sigmoid(_position(int(found[lo]), first, last))
    return Tally(reward, best, len(scored), detected, int((~inside).sum()))


def total(tallies: Iterable[Tally]) -> Tally:
    out = Tally()
    for one in tallies:
        out = out + one
    return out
