"""The shipped defaults of the anomaly detectors, in a module of its own so that the configuration models can
show them without importing the compiled detectors (numba). Chosen with `benchmarks/detector_quality.py`; the
reasons are in docs/configuration.md."""

from __future__ import annotations

ZSCORE_WINDOW = 30  # zscore: valid points in the baseline
EWMA_ALPHA = 0.1  # ewma: smoothing factor
THRESHOLD = 4.5  # standard deviations
WARMUP = 30  # valid points before the first score
COOLDOWN_POINTS = 60  # after a signal, no other one for this many valid points
SCALE_FLOOR = 1e-6  # the scale never goes below this (in the metric's unit) ...
SCALE_FLOOR_RELATIVE = 1e-3  # ... nor below this fraction of the baseline level's magnitude
ADAPTIVE_QUANTILE: float | None = 0.999  # signal only above this quantile of the series' recent scores
ADAPTIVE_WINDOW = 2000  # scored points that quantile is taken over
LOOKBACK_S = 86_400  # the least history the batch reads before a day
