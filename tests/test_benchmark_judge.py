"""The quality benchmark's judge: the labelled corpus and the NAB-style scoring it is graded with."""

import numpy as np
import pytest

from benchmarks.anomaly_corpus import FAMILIES, build_corpus, split_halves
from benchmarks.nab_scoring import PROFILES, Tally, sigmoid, tally_series, total


@pytest.fixture(scope="module")
def corpus():
    return build_corpus()


def test_corpus_is_deterministic_varied_and_labelled(corpus) -> None:
    again = build_corpus()
    assert [s.name for s in corpus] == [s.name for s in again]
    assert all(np.array_equal(a.values, b.values, equal_nan=True) for a, b in zip(corpus, again, strict=True))
    assert len(corpus) >= 40 and {s.family for s in corpus} == set(FAMILIES)
    assert min(s.step_s for s in corpus) == 10 and max(s.step_s for s in corpus) == 3600
    assert min(len(s) for s in corpus) >= 1000 and max(len(s) for s in corpus) <= 20_000
    assert sum(np.isnan(s.values).any() for s in corpus) >= 12  # gaps and NaNs
    for series in corpus:
        assert series.windows and np.all(np.diff(series.timestamps) == series.step_s)
        assert series.windows[0][0] >= 0.2 * len(series)  # after the probation period
        for (_, last), (first, _) in zip(series.windows, series.windows[1:], strict=False):
            assert last < first  # windows never overlap
    tuning, held_out = split_halves(corpus)
    assert len(tuning) == len(held_out) == len(corpus) // 2
    assert {s.family for s in tuning} == {s.family for s in held_out} == set(FAMILIES)


def test_never_firing_scores_0_and_a_perfect_detector_100() -> None:
    windows = [(300, 399), (600, 649)]
    never = tally_series(np.array([], dtype=int), windows, 1000)
    perfect = tally_series(np.array([300, 600]), windows, 1000)
    for profile in PROFILES:
        assert never.score(profile) == 0.0
        assert perfect.score(profile) == pytest.approx(100.0)


def test_early_beats_late_and_only_the_first_detection_counts() -> None:
    windows = [(300, 399)]
    early, late = tally_series(np.array([305]), windows, 1000), tally_series(np.array([390]), windows, 1000)
    assert early.reward > late.reward > 0
    assert tally_series(np.array([305, 310, 390]), windows, 1000) == early  # repeats inside a window are free
    assert sigmoid(-1.0) == pytest.approx(0.9866, abs=1e-4) and sigmoid(0.0) == 0.0


def test_false_positives_cost_per_profile_and_probation_is_ignored() -> None:
    windows = [(300, 399)]
    with_fp = tally_series(np.array([100, 300, 500, 501]), windows, 1000)  # 100 is in the 15 % probation
    assert with_fp.false_positives == 2 and with_fp.detected == 1
    both = total([with_fp, Tally()])
    standard, low_fp, _ = PROFILES
    assert both.score(standard) == pytest.approx(100 * (1 + with_fp.reward - 0.22) / (1 + with_fp.best_reward))
    assert both.score(low_fp) == pytest.approx(100 * (1 + with_fp.reward - 0.44) / (1 + with_fp.best_reward))
    assert tally_series(np.array([500] * 50), windows, 1000).score(standard) < 0  # worse than never firing
