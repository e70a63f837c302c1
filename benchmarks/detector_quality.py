"""Detector quality on the labelled synthetic set: precision, recall and F1 per detector.

Data: `ops_pipeline.core.synthetic.labelled_series` (2,000 series x 1,000 points by default, seeded): a quarter
each of plain noise, spikes, level shifts and drifts, on a background of white noise, a slow random walk and a
seasonal wave, with NaN gaps in a third of the series. See that module for the labels.

Scoring: event-tolerant (`score_detections`): an event counts as detected when a signal falls between its first
labelled point and its last labelled point + 10 points; a signal outside every event window is a false
positive. precision = detected / (detected + false positives), recall = detected / events.

Detectors, each plain and robust:
  defaults  the `DetectorSpec` defaults: threshold 3, window 60 / alpha 0.1, warm-up 30, no cooldown
  tuned     threshold 4.5, EWMA alpha 0.05, cooldown one hour (60 points), the settings the tests hold to
            F1 >= 0.7

Timing: our plain z-score (tuned threshold, no cooldown) against the per-series pandas loop computing the
same thing (``s.dropna().rolling(60).mean()/.std()`` shifted: the baseline is the last 60 *valid* points,
as ours); the signals must agree.

Run:  .venv/bin/python benchmarks/detector_quality.py          (about 10 s)

Exit code 1 when a tuned detector has F1 < 0.6 or the pandas check disagrees. The output ends with one line per
detector and the machine-readable line
  RESULT name=detector_quality ours_s=<s> baseline_s=<s> speedup=<baseline/ours>
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace

import numpy as np
import pandas as pd

from ops_pipeline.core.detectors import DetectorSpec, detect_batch, warm_up
from ops_pipeline.core.synthetic import SERIES_KINDS, labelled_series, score_detections, series_kind

TOLERANCE = 10
MIN_F1 = 0.6

DEFAULTS = {
    "zscore": DetectorSpec(kind="zscore"),
    "zscore robust": DetectorSpec(kind="zscore", robust=True),
    "ewma": DetectorSpec(kind="ewma"),
    "ewma robust": DetectorSpec(kind="ewma", robust=True),
}
TUNED = {
    "zscore": DetectorSpec(kind="zscore", threshold=4.5, cooldown_s=3600),
    "zscore robust": DetectorSpec(kind="zscore", threshold=4.5, cooldown_s=3600, robust=True),
    "ewma": DetectorSpec(kind="ewma", alpha=0.05, threshold=4.5, cooldown_s=3600),
    "ewma robust": DetectorSpec(kind="ewma", alpha=0.05, threshold=4.5, cooldown_s=3600, robust=True),
}


def pandas_zscore_signals(values: np.ndarray, spec: DetectorSpec) -> np.ndarray:
    signals = np.zeros(values.shape, dtype=bool)
    for i in range(values.shape[0]):
        s = pd.Series(values[i]).dropna()
        rolling = s.rolling(spec.window, min_periods=max(spec.warmup, 2))
        z = (s - rolling.mean().shift(1)) / rolling.std().shift(1)
        signals[i, s.index.to_numpy()] = (z.abs() > spec.threshold).to_numpy()
    return signals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", type=int, default=2_000)
    parser.add_argument("--points", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    t0 = time.perf_counter()
    timestamps, values, labels = labelled_series(args.series, args.points, args.seed)
    gen_s = time.perf_counter() - t0
    kinds = np.array([series_kind(i) for i in range(args.series)])
    warm_up()
    print(f"data: {args.series:,} series x {args.points:,} points, {int(labels.sum()):,} anomalous points, "
          f"{int(np.isnan(values).sum()):,} NaN, generated in {gen_s:.2f} s")  # fmt: skip
    header = (f"{'set':<9}{'detector':<15}{'events':>7}{'hits':>6}{'FP':>6}{'prec':>7}{'recall':>7}{'F1':>6}"
              + "".join(f"{'R ' + k:>15}" for k in SERIES_KINDS[1:]) + f"{'FP/noise':>10}{'sec':>7}")  # fmt: skip
    print(header)
    print("-" * len(header))
    summary: list[str] = []
    ok = True
    noise_rows = kinds == "noise"
    for set_name, specs in (("defaults", DEFAULTS), ("tuned", TUNED)):
        for name, spec in specs.items():
            t0 = time.perf_counter()
            result = detect_batch(spec, timestamps, values)
            seconds = time.perf_counter() - t0
            score = score_detections(labels, result.signals, tolerance=TOLERANCE)
            by_kind = [
                score_detections(labels[kinds == k], result.signals[kinds == k], tolerance=TOLERANCE).recall
                for k in SERIES_KINDS[1:]
            ]
            fp_noise = int(result.signals[noise_rows].sum()) / max(int(noise_rows.sum()), 1)
            print(f"{set_name:<9}{name:<15}{score.events:>7}{score.detected:>6}{score.false_positives:>6}"
                  f"{score.precision:>7.3f}{score.recall:>7.3f}{score.f1:>6.3f}"
                  + "".join(f"{r:>15.3f}" for r in by_kind) + f"{fp_noise:>10.3f}{seconds:>7.3f}")  # fmt: skip
            if set_name == "tuned":
                summary.append(
                    f"QUALITY detector={name.replace(' ', '_')} precision={score.precision:.3f} "
                    f"recall={score.recall:.3f} f1={score.f1:.3f}"
                )
                ok = ok and score.f1 >= MIN_F1
    print("R <kind>: recall on the series of that kind; FP/noise: signals per plain-noise series (all false).")
    print()

    plain = replace(TUNED["zscore"], cooldown_s=0)
    t0 = time.perf_counter()
    ours = detect_batch(plain, timestamps, values)
    ours_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    loop = pandas_zscore_signals(values, plain)
    baseline_s = time.perf_counter() - t0
    agree = bool(np.array_equal(ours.signals, loop))
    ok = ok and agree
    print(f"zscore (threshold {plain.threshold}, no cooldown): ours {ours_s:.3f} s, per-series pandas loop "
          f"{baseline_s:.3f} s, same signals: {agree}")  # fmt: skip
    for line in summary:
        print(line)
    print(f"RESULT name=detector_quality ours_s={ours_s:.3f} baseline_s={baseline_s:.3f} "
          f"speedup={baseline_s / ours_s:.1f}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
