"""A labelled synthetic set for the anomaly detectors, and the event-tolerant scoring used to grade them.

`labelled_series(n_series, n_points, seed)` is a pure, deterministic function: the same arguments always give
the same arrays. Series ``i`` is of kind ``SERIES_KINDS[i % 4]``:

* ``noise``        no anomaly: level + white noise + a slow random walk + a mild seasonal wave
* ``spike``        the same background with 1 to 3 isolated spikes of 6 to 10 sigma (either sign)
* ``level_shift``  one permanent step of 5 to 8 sigma (either sign)
* ``drift``        one ramp of 8 to 12 sigma over 15 to 40 points, after which the new level persists

sigma is the series' noise standard deviation (0.5 to 20, the level is -100 to 1000, so scale does not matter).
A third of the series also carry gaps: a run of 5 to 20 NaNs and/or about 1% scattered NaNs, never on or right
before an anomaly. Anomalies start after the first ``max(n_points // 5, 100)`` points (capped to fit) so that
every detector has warmed up, and are at least 100 points apart.

Labels (``labels[s, t]``) are True on the anomalous points: the spike point, the first point of a level shift,
every point of a drift ramp. One maximal run of True is one *event*.

Scoring (`score_detections`): an event is detected when at least one signal falls in its window
[first labelled point, last labelled point + tolerance]. A signal inside no event window is a false positive;
extra signals inside a window are neither rewarded nor punished (they are what a cooldown is for).
precision = detected / (detected + false positives), recall = detected / events, F1 their harmonic mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["SERIES_KINDS", "DetectionScore", "labelled_series", "score_detections", "series_kind"]

SERIES_KINDS = ("noise", "spike", "level_shift", "drift")
START_TS = 1_700_000_000
STEP_S = 60
_MIN_GAP = 100  # points between two anomalies of one series


def series_kind(index: int) -> str:
    """The kind of series `index` in a `labelled_series` set."""
    return SERIES_KINDS[index % len(SERIES_KINDS)]


def labelled_series(
    n_series: int, n_points: int, seed: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """(timestamps (T,), values (S, T), labels (S, T)): see the module docstring."""
    if n_series < 0 or n_points < 0:
        raise ValueError("n_series and n_points must be non-negative")
    timestamps = START_TS + STEP_S * np.arange(n_points, dtype=np.int64)
    values = np.empty((n_series, n_points), dtype=np.float64)
    labels = np.zeros((n_series, n_points), dtype=np.bool_)
    lead = min(max(n_points // 5, 100), max(n_points - 50, 0))
    t = np.arange(n_points, dtype=np.float64)
    for i in range(n_series):
        rng = np.random.default_rng([seed, i])
        level = rng.uniform(-100.0, 1000.0)
        sigma = rng.uniform(0.5, 20.0)
        period = rng.uniform(150.0, 400.0)
        phase = rng.uniform(0.0, 2.0 * np.pi)
        y = (
            level
            + sigma * rng.standard_normal(n_points)
            + np.cumsum(rng.normal(0.0, 0.02 * sigma, n_points))
            + 0.5 * sigma * np.sin(2.0 * np.pi * t / period + phase)
        )
        kind = series_kind(i)
        busy = np.zeros(n_points, dtype=np.bool_)  # anomalies and their surroundings: no NaN there
        if kind != "noise" and n_points - lead >= 20:
            count = int(rng.integers(1, 4)) if kind == "spike" else 1
            onsets: list[int] = []
            for _ in range(count):
                for _attempt in range(20):
                    onset = int(rng.integers(lead, n_points - 10))
                    if all(abs(onset - o) >= _MIN_GAP for o in onsets):
                        onsets.append(onset)
                        break
            for onset in sorted(onsets):
                sign = 1.0 if rng.random() < 0.5 else -1.0
                if kind == "spike":
                    y[onset] += sign * rng.uniform(6.0, 10.0) * sigma
                    labels[i, onset] = True
                    end = onset
                elif kind == "level_shift":
                    y[onset:] += sign * rng.uniform(5.0, 8.0) * sigma
                    labels[i, onset] = True
                    end = onset
                else:
                    length = min(int(rng.integers(15, 41)), n_points - onset)
                    delta = sign * rng.uniform(8.0, 12.0) * sigma
                    y[onset : onset + length] += delta * np.arange(1, length + 1) / length
                    y[onset + length :] += delta
                    labels[i, onset : onset + length] = True
                    end = onset + length - 1
                busy[max(onset - 30, 0) : end + 31] = True
        if rng.random() < 1.0 / 3.0:
            gap_len = int(rng.integers(5, 21))
            start = int(rng.integers(0, max(n_points - gap_len, 1)))
            gap = np.zeros(n_points, dtype=np.bool_)
            gap[start : start + gap_len] = True
            if rng.random() < 0.5:
                gap |= rng.random(n_points) < 0.01
            y[gap & ~busy] = np.nan
        values[i] = y
    return timestamps, values, labels


@dataclass(frozen=True)
class DetectionScore:
    events: int
    detected: int
    false_positives: int

    @property
    def precision(self) -> float:
        flagged = self.detected + self.false_positives
        return self.detected / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        return self.detected / self.events if self.events else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2.0 * p * r / (p + r) if p + r else 0.0


def score_detections(
    labels: npt.NDArray[np.bool_], signals: npt.NDArray[np.bool_], tolerance: int = 10
) -> DetectionScore:
    """Event-tolerant precision/recall of `signals` against `labels` (both (S, T) or (T,)); see the module doc."""
    lab = np.atleast_2d(np.asarray(labels, dtype=np.bool_))
    sig = np.atleast_2d(np.asarray(signals, dtype=np.bool_))
    if lab.shape != sig.shape:
        raise ValueError(f"labels {lab.shape} and signals {sig.shape} differ in shape")
    events = detected = false_positives = 0
    n_points = lab.shape[1]
    for row in range(lab.shape[0]):
        covered = np.zeros(n_points, dtype=np.bool_)
        edges = np.diff(np.concatenate(([0], lab[row].astype(np.int8), [0])))
        starts = np.flatnonzero(edges == 1)
        ends = np.flatnonzero(edges == -1) - 1
        for start, end in zip(starts, ends, strict=True):
            stop = min(int(end) + tolerance + 1, n_points)
            covered[start:stop] = True
            events += 1
            detected += bool(sig[row, start:stop].any())
        false_positives += int(np.count_nonzero(sig[row] & ~covered))
    return DetectionScore(events=events, detected=detected, false_positives=false_positives)
