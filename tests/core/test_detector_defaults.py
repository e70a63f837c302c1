"""The detectors at their shipped defaults, on the series that exposed each blind spot: one signal per episode,
quiet on noise, scale floors after flat stretches, the adaptive quantile on bursty counts, cooldown in points."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from ops_pipeline.core.detectors import DetectorSpec, detect_series, update, update_many

KINDS = list(itertools.product(("zscore", "ewma"), (False, True)))
NO_FLOOR = {"scale_floor": 0.0, "scale_floor_rel": 0.0}


def ts_of(n: int) -> np.ndarray:
    return 1_700_000_000 + 60 * np.arange(n, dtype=np.int64)


def signals(spec: DetectorSpec, values: np.ndarray) -> list[int]:
    return np.flatnonzero(detect_series(spec, ts_of(values.size), values).signals[0]).tolist()


def defaults(kind: str, robust: bool, **options: Any) -> DetectorSpec:
    return DetectorSpec(kind=kind, robust=robust, **options)  # type: ignore[arg-type]


def noisy(n: int, seed: int, level: float = 100.0, sigma: float = 2.0) -> np.ndarray:
    return level + sigma * np.random.default_rng(seed).standard_normal(n)


# --------------------------------------------------------------------------------------------------- episodes


@pytest.mark.parametrize(("kind", "robust"), KINDS)
def test_one_signal_per_episode_at_the_defaults(kind: str, robust: bool) -> None:
    spike = noisy(1500, 1)
    spike[1000] += 30
    excursion = noisy(1500, 2)
    excursion[1000:1040] += 20  # 40 points at +10 sigma: every one of them exceeds
    shift = noisy(1500, 3)
    shift[1000:] += 20  # a level shift that stays
    dip = noisy(1500, 4)
    dip[1000:1010] -= 20
    spec = defaults(kind, robust)
    for series in (spike, excursion, shift, dip):
        found = signals(spec, series)
        assert [i for i in found if i >= 1000] == [1000]
        if not robust:  # the robust variants, at window 30, also see the odd noise point (see the next test)
            assert found == [1000]
    # The old defaults (threshold 3, no cooldown, no adaptive quantile) fired on most rows of the excursion.
    old = defaults(kind, robust, threshold=3.0, cooldown_points=0, adaptive_quantile=None)
    assert len(signals(old, excursion)) >= 5


@pytest.mark.parametrize(("kind", "robust"), KINDS)
def test_quiet_on_noise_at_the_defaults(kind: str, robust: bool) -> None:
    old = defaults(kind, robust, threshold=3.0, cooldown_points=0, adaptive_quantile=None)
    now, before = 0, 0
    for seed in range(5):
        x = noisy(10_000, seed)
        now += len(signals(defaults(kind, robust), x))
        before += len(signals(old, x))
    per_10k = {("zscore", False): 2, ("ewma", False): 2, ("zscore", True): 7, ("ewma", True): 4}
    assert now <= per_10k[kind, robust] * 5  # over five times 10,000 points of pure noise
    assert before >= 40 * 5


# --------------------------------------------------------------------------------------------------- scale floor


@pytest.mark.parametrize(("kind", "robust"), KINDS)
def test_a_spike_after_a_flat_stretch_is_scored(kind: str, robust: bool) -> None:
    """Exposed: a spike after a flat stretch scored NaN (standard deviation 0), so it never signalled."""
    x = np.concatenate([noisy(300, 5, level=50.0), np.full(200, 50.0), [58.0], np.full(50, 50.0)])
    spike = 500
    unfloored = detect_series(defaults(kind, robust, **NO_FLOOR), ts_of(x.size), x)
    if kind == "zscore":  # the whole window is 50.0: no spread at all
        assert np.isnan(unfloored.scores[0, spike]) and not unfloored.signals[0, spike]
    result = detect_series(defaults(kind, robust), ts_of(x.size), x)
    # Against the floor of 0.1 % of the level (0.05), 8 above is 160 scales: finite, and one signal.
    assert np.isfinite(result.scores[0, spike]) and result.scores[0, spike] == pytest.approx(160.0, rel=0.05)
    assert np.flatnonzero(result.signals[0]).tolist() == [spike]


@pytest.mark.parametrize(("kind", "robust"), KINDS)
def test_a_flat_zero_series_then_a_spike_is_scored(kind: str, robust: bool) -> None:
    x = np.zeros(600)
    x[400] = 3.0
    result = detect_series(defaults(kind, robust), ts_of(x.size), x)
    assert np.isfinite(result.scores[0, 400]) and np.flatnonzero(result.signals[0]).tolist() == [400]
    assert np.isnan(detect_series(defaults(kind, robust, **NO_FLOOR), ts_of(x.size), x).scores[0, 400])


@pytest.mark.parametrize("robust", [False, True])
def test_ewma_variance_collapse_no_longer_blows_up_a_tiny_change(robust: bool) -> None:
    """Exposed: after a flat stretch the EWMA variance decays geometrically, and a change of 0.01 scored 60,000."""
    rng = np.random.default_rng(3)
    x = np.concatenate([100 + rng.standard_normal(300), np.full(300, 100.0), [100.01]])
    change = 600
    unfloored = detect_series(defaults("ewma", robust, **NO_FLOOR), ts_of(x.size), x)
    assert unfloored.scores[0, change] > 50_000 and unfloored.signals[0, change]
    floored = detect_series(defaults("ewma", robust), ts_of(x.size), x)
    assert floored.scores[0, change] == pytest.approx(0.1, rel=1e-6)  # 0.01 against 0.1 % of 100
    assert not floored.signals[0].any()


@pytest.mark.parametrize(("kind", "robust"), KINDS)
def test_floors_leave_ordinary_series_alone(kind: str, robust: bool) -> None:
    x = noisy(3000, 6)
    x[2000] += 25
    a = detect_series(defaults(kind, robust), ts_of(x.size), x)
    b = detect_series(defaults(kind, robust, **NO_FLOOR), ts_of(x.size), x)
    np.testing.assert_array_equal(a.scores, b.scores)  # a scale of ~2 is far above 0.1 % of 100
    np.testing.assert_array_equal(a.signals, b.signals)


# --------------------------------------------------------------------------------------------------- adaptive


def bursty_counts(n: int, seed: int) -> np.ndarray:
    """Mentions per interval: negative-binomial counts whose normal bursts have Pareto (heavy-tailed) heights."""
    rng = np.random.default_rng(seed)
    rate = np.full(n, 20.0)
    for start in np.flatnonzero(rng.random(n) < 1 / 200):
        height = 20 * (rng.pareto(1.5) + 1) * 1.5
        decay = height * np.exp(-np.arange(min(30, n - start)) / 5)
        rate[start : start + decay.size] += decay
    return rng.negative_binomial(5, 5 / (5 + rate)).astype(np.float64)


@pytest.mark.parametrize(("kind", "robust"), KINDS)
def test_the_adaptive_quantile_keeps_normal_bursts_quiet_but_not_a_real_surge(kind: str, robust: bool) -> None:
    x = bursty_counts(12_000, 7)
    surge = 9_000
    x[surge : surge + 100] *= 15  # a viral surge, far beyond the normal bursts
    fixed_only = signals(defaults(kind, robust, adaptive_quantile=None), x)
    adaptive = signals(defaults(kind, robust), x)
    assert len(fixed_only) >= 40  # the fixed threshold alone alerts on the series' normal bursts
    assert len(adaptive) <= len(fixed_only) / 2.5
    assert any(surge <= i < surge + 10 for i in fixed_only)
    if not robust:  # robust scales are narrow on counts, so normal bursts score as high as the surge
        assert any(surge <= i < surge + 10 for i in adaptive)


@pytest.mark.parametrize(("kind", "robust"), KINDS)
def test_batch_equals_streaming_with_the_adaptive_threshold(kind: str, robust: bool) -> None:
    x = bursty_counts(4_000, 8)
    x[3_000:3_050] *= 10
    x[np.random.default_rng(8).random(x.size) < 0.02] = np.nan
    spec = defaults(kind, robust, adaptive_window=500)
    batch = detect_series(spec, ts_of(x.size), x)
    state = None
    streamed = []
    for ts, value in zip(ts_of(x.size).tolist(), x.tolist(), strict=True):
        state, _, signal = update(spec, state, ts, value)
        streamed.append(signal)
    assert batch.signals[0].any()
    np.testing.assert_array_equal(batch.signals[0], np.array(streamed))
    _, scores, chunked = update_many(spec, None, ts_of(x.size), x)
    np.testing.assert_array_equal(batch.signals[0], chunked)
    np.testing.assert_array_equal(batch.scores[0], scores)


def test_the_adaptive_rule_is_a_quantile_of_the_recent_scores() -> None:
    """Checked against the definition, point by point: an exceeding point also needs at most (1 - p) * N of the
    last N scored points to have exceeded the threshold in its bin of exceedance (8 per doubling) or above."""
    x = bursty_counts(3_000, 9)
    p, window = 0.99, 300
    plain = DetectorSpec(kind="zscore", window=30, threshold=3.0, cooldown_points=0, adaptive_quantile=None)
    scores = detect_series(plain, ts_of(x.size), x).scores[0]

    def bin_of(e: float) -> int:
        if not e > 1:
            return 0
        mantissa, exponent = np.frexp(e)
        return min(1 + 8 * (int(exponent) - 1) + int((2 * mantissa - 1) * 8), 63)

    past: list[int] = []
    want = []
    for i, score in enumerate(scores):
        if np.isnan(score):
            continue
        e = abs(score)
        b = bin_of(e) if e > 3.0 else 0
        if e > 3.0 and sum(1 for q in past if q > 0 and q >= max(b, 1)) <= (1 - p) * len(past):
            want.append(i)
        past = [*past, b][-window:]
    adaptive = DetectorSpec(**{**plain.__dict__, "adaptive_quantile": p, "adaptive_window": window})
    assert signals(adaptive, x) == want and want


# --------------------------------------------------------------------------------------------------- cooldown


def test_cooldown_in_points_counts_valid_points_like_time_on_a_regular_grid() -> None:
    x = noisy(1200, 10, sigma=0.5)
    for i in (300, 320, 340, 420, 700):
        x[i] += 20
    common = {"kind": "zscore", "window": 60, "adaptive_quantile": None}
    assert signals(DetectorSpec(**common, cooldown_points=0), x) == [300, 320, 340, 420, 700]
    by_points = signals(DetectorSpec(**common, cooldown_points=50), x)
    by_time = signals(DetectorSpec(**common, cooldown_s=50 * 60), x)
    assert by_points == by_time == [300, 420, 700]  # 320 and 340 are within 50 points (minutes) of 300
    gappy = x.copy()
    gappy[301:331] = np.nan  # 30 missing points: 340 is now 9 valid points after 300 but still 40 minutes
    assert signals(DetectorSpec(**common, cooldown_points=20), gappy) == [300, 420, 700]
    assert signals(DetectorSpec(**common, cooldown_s=20 * 60), gappy) == [300, 340, 420, 700]
