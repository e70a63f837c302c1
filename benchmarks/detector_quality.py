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
            points) chosen on the tuning half, then scored on the held-out half

Run:  .venv/bin/python benchmarks/detector_quality.py        (a minute or two)

The last line:
  RESULT name=detector_quality defaults_score=<standard, best default kind> tuned_score=<standard, held-out
  tuned> fraction=<defaults/tuned>
Exit code 1 when the defaults score below 90 % of the tuned score on a profile, or at or below 0 for a kind.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Callable, Sequence
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
    "zscore robust": {"kind": "zscore", "robust": True},
    "ewma": {"kind": "ewma"},
    "ewma robust": {"kind": "ewma", "robust": True},
}
WINDOWS = (30, 60, 120, 240, 480, 960)
ALPHAS = (0.2, 0.1, 0.05, 0.02, 0.01, 0.005)
THRESHOLDS = (3.0, 3.5, 4.0, 4.5, 5.0, 6.0, 8.0)
COOLDOWN_POINTS = (0, 10, 30, 100, 300, 1000)

# A setting is a function of the series (a cooldown in points is a time that depends on the step).
Setting = Callable[[LabelledSeries], DetectorSpec]


@dataclass(frozen=True)
class Candidate:
    label: str
    setting: Setting


def fixed(spec: DetectorSpec) -> Setting:
    return lambda _series: spec


def grid(kind: str) -> list[Candidate]:
    base = KINDS[kind]
    shapes = [{"window": w} for w in WINDOWS] if base["kind"] == "zscore" else [{"alpha": a} for a in ALPHAS]
    out = []
    for shape, threshold, cooldown in itertools.product(shapes, THRESHOLDS, COOLDOWN_POINTS):
        spec = DetectorSpec(**base, **shape, threshold=threshold)
        label = f"{next(iter(shape))}={next(iter(shape.values()))} threshold={threshold:g} cooldown={cooldown}"

        def setting(series: LabelledSeries, spec: DetectorSpec = spec, cooldown: int = cooldown) -> DetectorSpec:
            return DetectorSpec(**{**spec.__dict__, "cooldown_s": cooldown * series.step_s})

        out.append(Candidate(label, setting))
    return out


def evaluate(setting: Setting, series: Sequence[LabelledSeries]) -> Tally:
    tallies = []
    for one in series:
        result = detect_series(setting(one), one.timestamps, one.values)
        tallies.append(tally_series(np.flatnonzero(result.signals[0]), one.windows, len(one)))
    return total(tallies)


def tune(kind: str, tuning: Sequence[LabelledSeries]) -> dict[str, tuple[Candidate, float]]:
    """For each profile, the candidate with the best score on the tuning half, and that score."""
    best: dict[str, tuple[Candidate, float]] = {}
    for candidate in grid(kind):
        tally = evaluate(candidate.setting, tuning)
        for profile in PROFILES:
            score = tally.score(profile)
            if profile.name not in best or score > best[profile.name][1]:
                best[profile.name] = (candidate, score)
    return best


def demo_detectors() -> dict[str, DetectorSpec]:
    settings = load_settings(REPO / "ops.yaml")
    return {f"demo {d.name}": d.spec() for d in settings.detectors}


def per_family(setting: Setting, corpus: Sequence[LabelledSeries], profile: Profile) -> list[str]:
    lines = []
    for family in dict.fromkeys(s.family for s in corpus):
        tally = evaluate(setting, [s for s in corpus if s.family == family])
        lines.append(
            f"  {family:<20}{tally.windows:>8}{tally.detected:>9}{tally.false_positives:>7}{tally.score(profile):>9.1f}"
        )
    return lines


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

    defaults = {kind: fixed(DetectorSpec(**base)) for kind, base in KINDS.items()}
    demo = {name: fixed(spec) for name, spec in demo_detectors().items()}
    scored_defaults = {kind: evaluate(setting, held_out) for kind, setting in defaults.items()}
    scored_demo = {name: evaluate(setting, held_out) for name, setting in demo.items()}
    tuned = {kind: tune(kind, tuning) for kind in KINDS}

    print()
    print("held-out half, NAB score (0 = never fires, 100 = perfect)")
    header = f"{'profile':<15}{'detector':<30}{'score':>8}{'windows hit':>13}{'FP':>6}   setting"
    print(header)
    print("-" * (len(header) + 40))
    best_default: dict[str, float] = {}
    best_tuned: dict[str, float] = {}
    ok = True
    for profile in PROFILES:
        for kind, tally in scored_defaults.items():
            score = tally.score(profile)
            best_default[profile.name] = max(best_default.get(profile.name, -1e9), score)
            ok = ok and score > 0
            print(f"{profile.name:<15}{'defaults ' + kind:<30}{score:>8.1f}{tally.detected:>8}/{tally.windows:<4}"
                  f"{tally.false_positives:>6}   {DetectorSpec(**KINDS[kind])}")  # fmt: skip
        for name, tally in scored_demo.items():
            print(f"{profile.name:<15}{name:<30}{tally.score(profile):>8.1f}{tally.detected:>8}/{tally.windows:<4}"
                  f"{tally.false_positives:>6}")  # fmt: skip
        chosen: tuple[float, float] | None = None  # (tuning score, held-out score) of the best kind on tuning
        for kind in KINDS:
            candidate, tuning_score = tuned[kind][profile.name]
            tally = evaluate(candidate.setting, held_out)
            score = tally.score(profile)
            if chosen is None or tuning_score > chosen[0]:
                chosen = (tuning_score, score)
            print(f"{profile.name:<15}{'tuned ' + kind:<30}{score:>8.1f}{tally.detected:>8}/{tally.windows:<4}"
                  f"{tally.false_positives:>6}   {candidate.label} (tuning half {tuning_score:.1f})")  # fmt: skip
        assert chosen is not None
        best_tuned[profile.name] = chosen[1]
        fraction = best_default[profile.name] / chosen[1] if chosen[1] > 0 else float("nan")
        ok = ok and fraction >= TARGET_FRACTION
        print(f"{profile.name:<15}{'best default / tuned':<30}{fraction:>8.2f}   (target >= {TARGET_FRACTION})")
        print()

    standard = PROFILES[0]
    print(f"per family, whole corpus, {standard.name} profile: windows, detected, false positives, score")
    for kind in ("zscore", "ewma"):
        print(f" defaults {kind}")
        for line in per_family(defaults[kind], corpus, standard):
            print(line)
    print(f"\n{time.perf_counter() - started:.0f} s")
    fraction = best_default[standard.name] / best_tuned[standard.name]
    print(f"RESULT name=detector_quality defaults_score={best_default[standard.name]:.1f} "
          f"tuned_score={best_tuned[standard.name]:.1f} fraction={fraction:.2f}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
