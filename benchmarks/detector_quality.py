"""Detector quality, judged like the public streaming-anomaly benchmarks: NAB scores on a labelled corpus.

Corpus: `anomaly_corpus.build_corpus()`: 48 production-like series in 12 families (bursty heavy-tailed counts,
flat then spike, level shifts up and down, slow drifts, variance changes, daily and weekly seasonality, stuck
sensors, gaps and NaNs), sampled every 10 s to 1 h, 1,000 to 20,000 points each, every anomaly with a labelled
window; generated from a fixed seed. Split into a tuning half and a held-out half (two series of each family in
each).

Scoring: `nab_scoring`: NAB's scaled sigmoid reward for the first detection in a window, a flat cost per false
positive, a cost per missed window, 15 % probation, normalised so that never firing scores 0 and a perfect
detector 100; three profiles (standard, reward_low_FP, reward_low_FN).

Detectors, each scored on the held-out half:
  defaults  a minimal entry of each kind (`kind: zscore`, `kind: ewma`, and each with `robust: true`)
  demo      the detectors configured in the demo's ops.yaml
  tuned     for each kind and profile, the best setting of a grid (window or alpha, threshold, cooldown in
            points, adaptive quantile and its window, scale floors; `GRID`) chosen on the tuning half, then
            scored on the held-out half; the overall tuned score is that of the kind best on the tuning half
The shipped defaults were chosen on the tuning half too: the sensitivity table shows, on that half, the score of
the defaults and of each one-parameter change to them (the reasons: docs/configuration.md).

Run:  .venv/bin/python benchmarks/detector_quality.py        (about two minutes)

The last line:
  RESULT name=detector_quality defaults_score=<standard, best default kind> tuned_score=<standard, held-out
  tuned> fraction=<defaults/tuned>
Exit code 1 when the best default scores below 90 % of the held-out tuned score on a profile, or a shipped
default kind (zscore, ewma) scores 0 or less on a profile.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from anomaly_corpus import LabelledSeries, build_corpus, split_halves
from nab_scoring import PROFILES, Profile, Tally, tally_series, total

from ops_pipeline.core.detectors import DetectorSpec, detect_series, warm_up
from ops_pipeline.settings import load_settings

REPO = Path(__file__).resolve().parent.parent
TARGET_FRACTION = 0.9

KINDS: dict[str, dict[str, Any]] = {
    "zscore": {"kind": "zscore"},
    "ewma": {"kind": "ewma"},
    "zscore robust": {"kind": "zscore", "robust": True},
    "ewma robust": {"kind": "ewma", "robust": True},
}
SHIPPED = ("zscore", "ewma")  # the kinds a minimal entry names; robust is an option on top
GRID: dict[str, tuple[Any, ...]] = {
    "window": (30, 60, 120, 240),
    "alpha": (0.2, 0.1, 0.05, 0.02),
    "threshold": (3.0, 3.5, 4.0, 4.5, 5.0, 6.0),
    "cooldown_points": (0, 30, 60, 100, 300),
    "adaptive": (None, (0.995, 2000), (0.999, 2000), (0.9995, 2000), (0.999, 5000)),
    "floors": ((1e-6, 1e-3), (1e-3, 1e-2)),
}
ROBUST_ZSCORE_WINDOWS = (30, 60, 120)  # its cost grows with the window: the grid stops earlier
SHIPPED_VALUE = object()  # the sensitivity table's row of the defaults themselves


@dataclass(frozen=True)
class Candidate:
    label: str
    spec: DetectorSpec


def candidate(kind: str, **options: Any) -> Candidate:
    """A setting of `kind` with `options` in the grid's terms (adaptive and floors as pairs)."""
    fields = dict(KINDS[kind])
    adaptive = options.pop("adaptive", "default")
    floors = options.pop("floors", None)
    if adaptive != "default":
        quantile, window = adaptive if adaptive else (None, 2000)
        fields.update(adaptive_quantile=quantile, adaptive_window=window)
    if floors is not None:
        fields.update(scale_floor=floors[0], scale_floor_rel=floors[1])
    fields.update(options)
    spec = DetectorSpec(**fields)
    shape = f"window={spec.window}" if spec.kind == "zscore" else f"alpha={spec.effective_alpha:g}"
    adaptive_text = f"{spec.adaptive_quantile}@{spec.adaptive_window}" if spec.adaptive_quantile else "off"
    label = (
        f"{shape} threshold={spec.threshold:g} cooldown={spec.cooldown_points} adaptive={adaptive_text} "
        f"floors={spec.scale_floor:g}/{spec.scale_floor_rel:g}"
    )
    return Candidate(label, spec)


def grid(kind: str) -> list[Candidate]:
    if KINDS[kind]["kind"] == "ewma":
        shapes: Sequence[dict[str, Any]] = [{"alpha": a} for a in GRID["alpha"]]
    else:
        windows = ROBUST_ZSCORE_WINDOWS if KINDS[kind].get("robust") else GRID["window"]
        shapes = [{"window": w} for w in windows]
    rest = itertools.product(GRID["threshold"], GRID["cooldown_points"], GRID["adaptive"], GRID["floors"])
    return [
        candidate(kind, **shape, threshold=t, cooldown_points=c, adaptive=a, floors=f)
        for shape, (t, c, a, f) in itertools.product(shapes, list(rest))
    ]


def evaluate(spec: DetectorSpec, series: Sequence[LabelledSeries]) -> Tally:
    tallies = []
    for one in series:
        result = detect_series(spec, one.timestamps, one.values)
        tallies.append(tally_series(np.flatnonzero(result.signals[0]), one.windows, len(one)))
    return total(tallies)


def tune(kind: str, tuning: Sequence[LabelledSeries]) -> dict[str, tuple[Candidate, float]]:
    """For each profile, the candidate with the best score on the tuning half, and that score."""
    best: dict[str, tuple[Candidate, float]] = {}
    for one in grid(kind):
        tally = evaluate(one.spec, tuning)
        for profile in PROFILES:
            score = tally.score(profile)
            if profile.name not in best or score > best[profile.name][1]:
                best[profile.name] = (one, score)
    return best


def sensitivity(kind: str, tuning: Sequence[LabelledSeries]) -> list[str]:
    """The tuning-half scores of the defaults of `kind` and of each one-parameter change to them."""
    shipped = candidate(kind).label
    changes: list[tuple[str, Any]] = [("", SHIPPED_VALUE)]
    changes += [("window", w) for w in GRID["window"]] if KINDS[kind]["kind"] == "zscore" else []
    changes += [("alpha", a) for a in GRID["alpha"]] if KINDS[kind]["kind"] == "ewma" else []
    changes += [(name, v) for name in ("threshold", "cooldown_points", "adaptive", "floors") for v in GRID[name]]
    lines = []
    for name, value in changes:
        one = candidate(kind) if value is SHIPPED_VALUE else candidate(kind, **{name: value})
        if value is not SHIPPED_VALUE and one.label == shipped:
            continue
        tally = evaluate(one.spec, tuning)
        scores = "".join(f"{tally.score(p):>15.1f}" for p in PROFILES)
        shown = "(shipped defaults)" if value is SHIPPED_VALUE else f"{name}={value}"
        lines.append(f"  {kind:<8}{shown:<34}{scores}{tally.detected:>6}/{tally.windows:<4}{tally.false_positives:>5}")
    return lines


def demo_detectors() -> dict[str, DetectorSpec]:
    settings = load_settings(REPO / "ops.yaml")
    return {f"demo {d.name}": d.spec() for d in settings.detectors}


def per_family(spec: DetectorSpec, corpus: Sequence[LabelledSeries], profile: Profile) -> list[str]:
    lines = []
    for family in dict.fromkeys(s.family for s in corpus):
        tally = evaluate(spec, [s for s in corpus if s.family == family])
        lines.append(
            f"  {family:<20}{tally.windows:>8}{tally.detected:>9}{tally.false_positives:>7}{tally.score(profile):>9.1f}"
        )
    return lines


def row(profile: Profile, name: str, tally: Tally, note: str = "") -> str:
    return (f"{profile.name:<15}{name:<28}{tally.score(profile):>7.1f}{tally.detected:>6}/{tally.windows:<4}"
            f"{tally.false_positives:>5}   {note}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args()
    started = time.perf_counter()
    corpus = build_corpus()
    tuning, held_out = split_halves(corpus)
    warm_up()
    points = sum(len(s) for s in corpus)
    windows = sum(len(s.windows) for s in corpus)
    print(f"corpus: {len(corpus)} series, {points:,} points, {windows} anomaly windows; "
          f"tuning half {len(tuning)} series, held-out half {len(held_out)} series")  # fmt: skip
    for kind in SHIPPED:
        print(f"shipped defaults, {kind}: {candidate(kind).label}")

    defaults = {kind: evaluate(DetectorSpec(**base), held_out) for kind, base in KINDS.items()}
    demo = {name: evaluate(spec, held_out) for name, spec in demo_detectors().items()}
    tuned = {kind: tune(kind, tuning) for kind in KINDS}

    print()
    print("held-out half, NAB score (0 = never fires, 100 = perfect); hits = windows detected, FP = false positives")
    header = f"{'profile':<15}{'detector':<28}{'score':>7}{'hits':>8}{'FP':>7}   setting"
    print(header)
    print("-" * 150)
    best_default: dict[str, float] = {}
    best_tuned: dict[str, float] = {}
    ok = True
    for profile in PROFILES:
        for kind, tally in defaults.items():
            print(row(profile, f"defaults {kind}", tally))
            if kind in SHIPPED:
                best_default[profile.name] = max(best_default.get(profile.name, -1e9), tally.score(profile))
                ok = ok and tally.score(profile) > 0
        for name, tally in demo.items():
            print(row(profile, name, tally))
        chosen: tuple[float, float] | None = None  # (tuning score, held-out score) of the kind best on tuning
        for kind in KINDS:
            one, tuning_score = tuned[kind][profile.name]
            tally = evaluate(one.spec, held_out)
            if chosen is None or tuning_score > chosen[0]:
                chosen = (tuning_score, tally.score(profile))
            print(row(profile, f"tuned {kind}", tally, f"{one.label} (tuning half {tuning_score:.1f})"))
        assert chosen is not None
        best_tuned[profile.name] = chosen[1]
        fraction = best_default[profile.name] / chosen[1] if chosen[1] > 0 else float("nan")
        ok = ok and fraction >= TARGET_FRACTION
        print(f"{profile.name:<15}{'best default / tuned':<28}{fraction:>7.2f}   (target >= {TARGET_FRACTION})")
        print()

    print("sensitivity, tuning half: the shipped defaults and one change at a time")
    print(f"  {'kind':<8}{'change':<34}" + "".join(f"{p.name:>15}" for p in PROFILES) + "  hits     FP")
    for kind in SHIPPED:
        for line in sensitivity(kind, tuning):
            print(line)
    print()
    standard = PROFILES[0]
    print(f"per family, whole corpus, shipped defaults, {standard.name} profile: windows, detected, FP, score")
    for kind in SHIPPED:
        print(f" {kind}")
        for line in per_family(DetectorSpec(**KINDS[kind]), corpus, standard):
            print(line)
    print(f"\n{time.perf_counter() - started:.0f} s")
    fraction = best_default[standard.name] / best_tuned[standard.name]
    print(f"RESULT name=detector_quality defaults_score={best_default[standard.name]:.1f} "
          f"tuned_score={best_tuned[standard.name]:.1f} fraction={fraction:.2f}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
