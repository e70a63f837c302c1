"""Anomaly detectors: each option, the awkward inputs, batch == streaming, state persistence, synthetic quality."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ops_pipeline.core import detectors
from ops_pipeline.core.detectors import (
    BatchResult,
    DetectorSpec,
    Signal,
    StreamState,
    detect_batch,
    detect_series,
    signals_of,
    update,
    update_many,
    warm_up,
)
from ops_pipeline.core.synthetic import (
    SERIES_KINDS,
    DetectionScore,
    labelled_series,
    score_detections,
    series_kind,
)

STEP = 60
KINDS = ("zscore", "ewma")
DIRECTIONS = ("up", "down", "both")
COMBOS = list(itertools.product(KINDS, (False, True), DIRECTIONS))


# The definitions themselves: no cooldown, no adaptive quantile, no scale floor, threshold 3 and a zscore window
# of 60 (the shipped defaults differ; tests/core/test_detector_defaults.py covers them).
PLAIN: dict[str, Any] = {
    "threshold": 3.0,
    "cooldown_points": 0,
    "adaptive_quantile": None,
    "scale_floor": 0.0,
    "scale_floor_rel": 0.0,
}


def plain(**options: Any) -> DetectorSpec:
    window = {"window": 60} if options.get("kind") == "zscore" and "window" not in options else {}
    return DetectorSpec(**{**PLAIN, **window, **options})


def ts_of(n: int, step: int = STEP) -> np.ndarray:
    return 1_700_000_000 + step * np.arange(n, dtype=np.int64)


def noise(n: int, seed: int = 0, sigma: float = 1.0, level: float = 0.0) -> np.ndarray:
    return level + sigma * np.random.default_rng(seed).standard_normal(n)


def run(spec: DetectorSpec, values: np.ndarray, timestamps: np.ndarray | None = None) -> BatchResult:
    values = np.asarray(values, dtype=np.float64)
    return detect_series(spec, ts_of(len(values)) if timestamps is None else timestamps, values)


def signal_idx(spec: DetectorSpec, values: np.ndarray, timestamps: np.ndarray | None = None) -> list[int]:
    return np.flatnonzero(run(spec, values, timestamps).signals[0]).tolist()


def stream(spec: DetectorSpec, timestamps: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    state: StreamState | None = None
    scores, signals = [], []
    for ts, x in zip(timestamps.tolist(), values.tolist(), strict=True):
        state, score, signal = update(spec, state, ts, x)
        scores.append(score)
        signals.append(signal)
    return np.array(scores, dtype=np.float64), np.array(signals, dtype=np.bool_)


def assert_same(scores_a: np.ndarray, signals_a: np.ndarray, scores_b: np.ndarray, signals_b: np.ndarray) -> None:
    np.testing.assert_array_equal(signals_a, signals_b)
    np.testing.assert_array_equal(np.isnan(scores_a), np.isnan(scores_b))
    np.testing.assert_allclose(scores_a, scores_b, rtol=1e-9, atol=1e-12, equal_nan=True)


def exact_zscores(values: np.ndarray, window: int, warmup: int, robust: bool = False) -> np.ndarray:
    """The definition, point by point: the baseline is the last `window` valid points before t."""
    out = np.full(len(values), np.nan)
    seen: list[float] = []
    for t, x in enumerate(values):
        if not np.isfinite(x):
            continue
        base = np.array(seen[-window:])
        if len(seen) >= max(warmup, 2):
            if robust:
                med = np.median(base)
                scale = 1.4826 * np.median(np.abs(base - med))
                center = med
            else:
                center, scale = base.mean(), base.std(ddof=1)
            if scale > 0:
                out[t] = (x - center) / scale
        seen.append(float(x))
    return out


# --------------------------------------------------------------------------------------------------- spec


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "median"}, "kind"),
        ({"kind": "zscore", "window": 1}, "window"),
        ({"kind": "zscore", "window": 2.5}, "window"),
        ({"kind": "ewma", "alpha": 0.0}, "alpha"),
        ({"kind": "ewma", "alpha": 1.0}, "alpha"),
        ({"kind": "ewma", "alpha": float("nan")}, "alpha"),
        ({"kind": "ewma", "halflife": 0}, "halflife"),
        ({"kind": "ewma", "alpha": 0.1, "halflife": 5}, "halflife"),
        ({"kind": "zscore", "alpha": 0.1}, "alpha"),
        ({"kind": "zscore", "threshold": 0}, "threshold"),
        ({"kind": "zscore", "threshold": float("inf")}, "threshold"),
        ({"kind": "zscore", "direction": "sideways"}, "direction"),
        ({"kind": "zscore", "warmup": -1}, "warmup"),
        ({"kind": "zscore", "robust": "yes"}, "robust"),
        ({"kind": "zscore", "cooldown_s": -1}, "cooldown_s"),
        ({"kind": "zscore", "confirm_n": 0}, "confirm_n"),
        ({"kind": "zscore", "confirm_k": 3, "confirm_n": 2}, "confirm_k"),
        ({"kind": "zscore", "confirm_k": 0}, "confirm_k"),
        ({"kind": "zscore", "confirm_k": True}, "confirm_k"),
        ({"kind": "ewma", "window": 60}, "window"),
        ({"kind": "zscore", "cooldown_points": -1}, "cooldown_points"),
        ({"kind": "zscore", "cooldown_points": 1.5}, "cooldown_points"),
        ({"kind": "zscore", "scale_floor": -1e-6}, "scale_floor"),
        ({"kind": "zscore", "scale_floor_rel": float("nan")}, "scale_floor_rel"),
        ({"kind": "zscore", "adaptive_quantile": 1.0}, "adaptive_quantile"),
        ({"kind": "zscore", "adaptive_quantile": 0.0}, "adaptive_quantile"),
        ({"kind": "zscore", "adaptive_window": 0}, "adaptive_window"),
    ],
)
def test_invalid_spec_names_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        DetectorSpec(**kwargs)


def test_fields_left_out_take_their_defaults() -> None:
    assert DetectorSpec(kind="zscore") == DetectorSpec(kind="zscore", window=30, cooldown_points=60)
    assert DetectorSpec(kind="ewma").window is None
    assert DetectorSpec(kind="zscore", cooldown_s=600).cooldown_points == 0  # a cooldown in time replaces the default
    assert DetectorSpec(kind="zscore", confirm_k=2).confirm_n == 2
    assert DetectorSpec(kind="zscore", adaptive_quantile=None).history_points == 30 + 1 + 60
    assert DetectorSpec(kind="zscore", window=12_000).history_points == 12_000 + 2000 + 1 + 60
    assert DetectorSpec(kind="ewma", alpha=0.1).baseline_points == 132  # 0.9 ** 132 < 1e-6


def test_alpha_defaults_and_halflife() -> None:
    assert DetectorSpec(kind="ewma").effective_alpha == pytest.approx(0.1)
    assert DetectorSpec(kind="ewma", alpha=0.3).effective_alpha == pytest.approx(0.3)
    assert DetectorSpec(kind="ewma", halflife=10).effective_alpha == pytest.approx(1 - 0.5 ** (1 / 10))
    assert DetectorSpec(kind="ewma", halflife=1).effective_alpha == pytest.approx(0.5)


# --------------------------------------------------------------------------------------------------- options


@pytest.mark.parametrize("window", [5, 20, 60])
def test_zscore_window_is_the_last_valid_points_before_t(window: int) -> None:
    x = noise(300, seed=window)
    x[[40, 41, 150]] = np.nan
    got = run(plain(kind="zscore", window=window, warmup=3), x).scores[0]
    np.testing.assert_allclose(got, exact_zscores(x, window, 3), rtol=1e-9, atol=1e-12, equal_nan=True)


def test_zscore_matches_pandas_rolling_with_sample_std() -> None:
    x = noise(500, seed=3, sigma=4.0, level=100.0)
    got = run(plain(kind="zscore", window=60, warmup=30), x).scores[0]
    s = pd.Series(x)
    r = s.rolling(60, min_periods=30)
    want = ((s - r.mean().shift()) / r.std().shift()).to_numpy()
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("window", [4, 7, 30])
def test_robust_zscore_is_median_and_scaled_mad(window: int) -> None:
    x = np.round(noise(250, seed=11) * 3) / 3  # ties exercise the sorted window
    x[[10, 99]] = np.nan
    got = run(plain(kind="zscore", window=window, warmup=2, robust=True), x).scores[0]
    np.testing.assert_allclose(got, exact_zscores(x, window, 2, robust=True), rtol=1e-9, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize(("alpha", "halflife"), [(0.1, None), (0.3, None), (None, 7.0)])
def test_ewma_matches_pandas_adjust_false(alpha: float | None, halflife: float | None) -> None:
    x = noise(400, seed=5, sigma=2.0, level=50.0)
    got = run(plain(kind="ewma", alpha=alpha, halflife=halflife, warmup=20), x).scores[0]
    e = pd.Series(x).ewm(alpha=alpha, halflife=halflife, adjust=False, min_periods=20)
    want = ((x - e.mean().shift()) / np.sqrt(e.var(bias=True).shift())).to_numpy()
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12, equal_nan=True)


def test_halflife_is_the_same_detector_as_its_alpha() -> None:
    x = noise(300, seed=8)
    by_halflife = plain(kind="ewma", halflife=12.0)
    by_alpha = plain(kind="ewma", alpha=by_halflife.effective_alpha)
    a, b = run(by_halflife, x), run(by_alpha, x)
    assert_same(a.scores, a.signals, b.scores, b.signals)
    c = run(plain(kind="ewma", alpha=0.5), x)
    assert not np.allclose(a.scores, c.scores, equal_nan=True)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("robust", [False, True])
def test_threshold_is_strict_and_in_standard_deviations(kind: str, robust: bool) -> None:
    x = noise(400, seed=21)
    counts = []
    for threshold in (1.0, 2.0, 3.0):
        res = run(plain(kind=kind, robust=robust, threshold=threshold), x)
        np.testing.assert_array_equal(res.signals[0], np.abs(np.nan_to_num(res.scores[0])) > threshold)
        counts.append(int(res.signals.sum()))
    assert counts[0] > counts[1] > counts[2]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("robust", [False, True])
def test_direction(kind: str, robust: bool) -> None:
    x = noise(250, seed=2, sigma=0.5)
    x[100] += 8.0
    x[180] -= 8.0
    spec: dict[str, Any] = {"kind": kind, "robust": robust, "threshold": 4.0}
    assert signal_idx(plain(**spec, direction="up"), x) == [100]
    assert signal_idx(plain(**spec, direction="down"), x) == [180]
    assert signal_idx(plain(**spec, direction="both"), x) == [100, 180]


@pytest.mark.parametrize("kind", KINDS)
def test_warmup_counts_valid_points(kind: str) -> None:
    x = noise(100, seed=4)
    scores = run(plain(kind=kind, warmup=10), x).scores[0]
    assert np.isnan(scores[:10]).all() and np.isfinite(scores[10:]).all()
    x[:5] = np.nan  # NaNs do not count: the first score moves 5 points later
    scores = run(plain(kind=kind, warmup=10), x).scores[0]
    assert np.isnan(scores[:15]).all() and np.isfinite(scores[15:]).all()
    scores = run(plain(kind=kind, warmup=0), noise(10)).scores[0]
    assert np.isnan(scores[:2]).all() and np.isfinite(scores[2:]).all()  # two points at least
    x = noise(100, seed=4)
    x[50] += 100.0
    assert signal_idx(plain(kind=kind, warmup=60), x) == []
    assert 50 in signal_idx(plain(kind=kind, warmup=40), x)


@pytest.mark.parametrize("kind", KINDS)
def test_robust_resists_an_outlier_polluted_baseline(kind: str) -> None:
    x = noise(200, seed=9)
    x[100] += 50.0  # pollutes the plain baseline (std / EW variance blow up)
    x[106] += 6.0  # a second, real anomaly shortly after
    non_robust = signal_idx(plain(kind=kind, threshold=4.0), x)
    robust = signal_idx(plain(kind=kind, threshold=4.0, robust=True), x)
    assert non_robust == [100]
    assert robust == [100, 106]


def greedy_cooldown(signals: list[int], ts: np.ndarray, cooldown: float) -> list[int]:
    kept: list[int] = []
    for i in signals:
        if not kept or ts[i] - ts[kept[-1]] >= cooldown:
            kept.append(i)
    return kept


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("robust", [False, True])
def test_cooldown_suppresses_repeats_by_time(kind: str, robust: bool) -> None:
    x = noise(300, seed=12, sigma=0.5)
    for i in (100, 103, 130, 200, 205):
        x[i] += 12.0
    spec: dict[str, Any] = {"kind": kind, "robust": robust, "threshold": 5.0}
    ts = ts_of(300)
    irregular = ts.copy()
    irregular[103:] += 600
    for times in (ts, irregular):
        free = signal_idx(plain(**spec), x, times)
        assert {100, 130, 200} <= set(free)
        # A suppressed point still feeds the baseline, so a cooldown only filters the free signals, by time.
        for cooldown in (60, 600, 30 * STEP, 100 * STEP):
            got = signal_idx(plain(**spec, cooldown_s=cooldown), x, times)
            assert got == greedy_cooldown(free, times, cooldown)
    if robust:  # the robust baselines see all five
        assert signal_idx(plain(**spec), x) == [100, 103, 130, 200, 205]
        # 10 minutes at one point a minute: 103 and 205 fall in the cooldown of 100 and 200.
        assert signal_idx(plain(**spec, cooldown_s=600), x) == [100, 130, 200]
        # Time, not points: 3 points but 13 minutes after 100 is allowed.
        assert signal_idx(plain(**spec, cooldown_s=600), x, irregular) == [100, 103, 130, 200]
        # A cooldown starts at a signal only: the suppressed 103 does not extend the one of 100.
        assert signal_idx(plain(**spec, cooldown_s=30 * STEP), x) == [100, 130, 200]


def k_of_n(exceed: np.ndarray, valid: np.ndarray, k: int, n: int) -> list[int]:
    """The definition: an exceeding point with at least k exceedances among the last n valid points."""
    out: list[int] = []
    recent: list[bool] = []
    for t in range(len(exceed)):
        if not valid[t]:
            continue
        recent = [*recent, bool(exceed[t])][-n:]
        if exceed[t] and sum(recent) >= k:
            out.append(t)
    return out


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("robust", [False, True])
def test_k_of_n_confirmation(kind: str, robust: bool) -> None:
    spec: dict[str, Any] = {"kind": kind, "robust": robust, "threshold": 5.0}
    x = noise(300, seed=13, sigma=0.5)
    x[100] += 10.0  # a lone exceedance
    x[[200, 202]] += 10.0  # two within three points
    x[[150, 151]] = np.nan
    valid = np.isfinite(x)
    exceed = run(plain(**spec), x).signals[0]
    for k, n in ((1, 2), (2, 2), (2, 3), (3, 3), (2, 5), (4, 5)):
        assert signal_idx(plain(**spec, confirm_k=k, confirm_n=n), x) == k_of_n(exceed, valid, k, n)
    if kind == "zscore":
        assert exceed.nonzero()[0].tolist() == [100, 200, 202]
        assert signal_idx(plain(**spec, confirm_k=2, confirm_n=3), x) == [202]
        assert signal_idx(plain(**spec, confirm_k=2, confirm_n=2), x) == []
        # NaN points are not points: 200 and 203 with NaNs between are two of three valid points.
        y = noise(300, seed=13, sigma=0.5)
        y[[200, 203]] += 10.0
        y[[201, 202]] = np.nan
        assert signal_idx(plain(**spec, confirm_k=2, confirm_n=3), y) == [203]


def test_k_of_n_counts_up_and_down_for_both_but_only_its_side_otherwise() -> None:
    x = noise(300, seed=14, sigma=0.5)
    x[200] += 10.0
    x[201] -= 10.0
    spec: dict[str, Any] = {"kind": "zscore", "robust": True, "threshold": 4.0, "confirm_k": 2, "confirm_n": 2}
    assert signal_idx(plain(**spec), x) == [201]
    assert signal_idx(plain(**spec, direction="down"), x) == []


# --------------------------------------------------------------------------------------------------- awkward inputs


@pytest.mark.parametrize(("kind", "robust", "direction"), COMBOS)
@pytest.mark.parametrize("level", [0.0, 5.0, 0.1, -3.3, 1e9, 1e-300])
def test_constant_series_never_signal(kind: str, robust: bool, direction: str, level: float) -> None:
    x = np.full(500, level)
    x[[7, 8, 300]] = np.nan
    for k, n in ((1, 1), (1, 3)):
        spec = plain(kind=kind, robust=robust, direction=direction, confirm_k=k, confirm_n=n)
        res = run(spec, x)
        assert not res.signals.any()
        assert np.isnan(res.scores).all()


@pytest.mark.parametrize(("kind", "robust"), list(itertools.product(KINDS, (False, True))))
def test_constant_then_spike_gives_no_score(kind: str, robust: bool) -> None:
    """Documented: with a zero baseline scale a point is not scored, so the spike does not signal."""
    x = np.full(200, 5.0)
    x[150] = 50.0
    res = run(plain(kind=kind, robust=robust), x)
    assert not res.signals.any() and np.isnan(res.scores[0, 150])
    # Once the baseline has spread, points are scored again (robust zscore: once the MAD is no longer 0).
    assert np.isfinite(res.scores[0, 151]) != (kind == "zscore" and robust)


@pytest.mark.parametrize("robust", [False, True])
@pytest.mark.parametrize("level", [0.0, 1e6, 123.456])
def test_zscore_constant_stretch_after_noise_is_exactly_zero_scale(robust: bool, level: float) -> None:
    x = noise(400, seed=15, level=level, sigma=3.0)
    x[150:] = x[149]  # 250 identical points: rounding must not leave a tiny non-zero std behind
    x[300] += 1e-6 * max(abs(level), 1.0)
    res = run(plain(kind="zscore", robust=robust, window=60), x)
    assert np.isnan(res.scores[0, 210:301]).all() and not res.signals[0, 150:].any()


def test_nan_and_inf_points_are_skipped() -> None:
    x = noise(300, seed=16)
    x[100] += 10
    holes = np.zeros(300, dtype=bool)
    holes[[5, 50, 51, 52, 99, 101, 250]] = True
    y = x.copy()
    y[holes] = np.nan
    y[[50, 250]] = [np.inf, -np.inf]
    ts = ts_of(300)
    for kind, robust, direction in COMBOS:
        spec = plain(kind=kind, robust=robust, direction=direction, confirm_k=2, confirm_n=3, cooldown_s=120)
        with_holes = run(spec, y, ts)
        compact = run(spec, x[~holes], ts[~holes])
        assert np.isnan(with_holes.scores[0, holes]).all() and not with_holes.signals[0, holes].any()
        assert_same(with_holes.scores[0, ~holes], with_holes.signals[0, ~holes], compact.scores[0], compact.signals[0])


@pytest.mark.parametrize(("kind", "robust", "direction"), COMBOS)
@pytest.mark.parametrize("length", [0, 1, 2, 5, 29, 30])
def test_series_shorter_than_warmup(kind: str, robust: bool, direction: str, length: int) -> None:
    x = noise(length, seed=length) * 100
    spec = plain(kind=kind, robust=robust, direction=direction, warmup=30)
    res = run(spec, x)
    assert res.scores.shape == (1, length) and not res.signals.any() and np.isnan(res.scores).all()
    state, _, _ = update(spec, None, 0, 1.0)
    for i, v in enumerate(x.tolist()):
        state, _score, signal = update(spec, state, i, v)
        assert not signal


def test_all_nan_and_extreme_values_do_not_crash() -> None:
    ts = ts_of(200)
    xs = [
        np.full(200, np.nan),
        np.where(np.arange(200) % 2 == 0, 1e308, -1e308),
        np.where(np.arange(200) % 3 == 0, 1e-320, 0.0),
        np.concatenate([noise(100), np.full(100, 1e300)]),
    ]
    for x in xs:
        for kind, robust, direction in COMBOS:
            res = run(plain(kind=kind, robust=robust, direction=direction), x, ts)
            assert res.scores.shape == (1, 200)
    assert not run(plain(kind="zscore"), xs[0], ts).signals.any()


def test_a_huge_value_leaving_the_window_does_not_poison_the_std() -> None:
    x = noise(400, seed=17, level=10.0)
    x[100] = 1e12
    got = run(plain(kind="zscore", window=20, warmup=20, threshold=4.0), x).scores[0]
    want = exact_zscores(x, 20, 20)
    np.testing.assert_allclose(got[121:], want[121:], rtol=1e-9)


def test_long_series_with_a_large_offset_stays_exact() -> None:
    x = noise(30_000, seed=18, level=1e6, sigma=0.1) + np.linspace(0, 1e5, 30_000)
    got = run(plain(kind="zscore", window=50), x).scores[0]
    idx = np.arange(1000, 30_000, 97)
    want = np.array([(x[i] - x[i - 50 : i].mean()) / x[i - 50 : i].std(ddof=1) for i in idx])
    np.testing.assert_allclose(got[idx], want, rtol=1e-6, atol=1e-6)


def test_inputs_are_validated() -> None:
    spec = plain(kind="zscore")
    with pytest.raises(ValueError, match="timestamps"):
        detect_batch(spec, ts_of(10), np.zeros((2, 11)))
    with pytest.raises(ValueError, match="shape"):
        detect_batch(spec, ts_of(10), np.zeros(10))
    with pytest.raises(TypeError, match="timestamps"):
        detect_batch(spec, np.arange(10.0), np.zeros((1, 10)))
    times = np.datetime64("2024-01-01T00:00:00") + np.arange(10) * np.timedelta64(1, "m")
    assert detect_batch(spec, times, np.zeros((1, 10))).timestamps[1] - 60 == 1704067200
    assert detect_batch(spec, ts_of(0), np.zeros((0, 0))).signals.shape == (0, 0)


# --------------------------------------------------------------------------------------------------- batch == stream

values_strategy = st.lists(
    st.one_of(
        st.floats(-10, 10),
        st.sampled_from([0.0, 1.0, 2.5, float("nan"), 40.0, -40.0]),
        st.floats(allow_nan=True, allow_infinity=True),
    ),
    max_size=150,
)


@pytest.mark.parametrize(("kind", "robust", "direction"), COMBOS)
@settings(max_examples=30, deadline=None)
@given(
    data=st.data(),
    raw=values_strategy,
    seed=st.integers(0, 2**16),
)
def test_batch_equals_streaming(kind: str, robust: bool, direction: str, data: st.DataObject, raw: list[float],
                                seed: int) -> None:  # fmt: skip
    n = data.draw(st.integers(1, 4))
    floors = data.draw(st.sampled_from([(0.0, 0.0), (1e-6, 1e-3), (0.5, 0.1)]))
    spec = plain(
        kind=kind,
        robust=robust,
        direction=direction,
        window=data.draw(st.integers(2, 25)) if kind == "zscore" else None,
        alpha=data.draw(st.sampled_from([0.05, 0.2, 0.5])) if kind == "ewma" else None,
        threshold=data.draw(st.sampled_from([0.5, 1.5, 3.0])),
        warmup=data.draw(st.integers(0, 12)),
        cooldown_s=data.draw(st.sampled_from([0, 60, 300])),
        cooldown_points=data.draw(st.sampled_from([0, 3, 10])),
        confirm_n=n,
        confirm_k=data.draw(st.integers(1, n)),
        scale_floor=floors[0],
        scale_floor_rel=floors[1],
        adaptive_quantile=data.draw(st.sampled_from([None, 0.9, 0.99])),
        adaptive_window=data.draw(st.sampled_from([5, 50])),
    )
    rng = np.random.default_rng(seed)
    # Half random draws, half a noisy series with hypothesis' values as anomalies, so that signals happen.
    x = np.array(raw, dtype=np.float64)
    if seed % 2:
        x = rng.standard_normal(len(raw)) + np.where(np.abs(x) < 50, x, 0.0) * (rng.random(len(raw)) < 0.1)
    ts = 1_700_000_000 + np.cumsum(rng.integers(1, 120, len(x)))
    batch = detect_series(spec, ts, x)
    scores, signals = stream(spec, ts, x)
    assert_same(batch.scores[0], batch.signals[0], scores, signals)
    _, chunk_scores, chunk_signals = update_many(spec, None, ts, x)
    assert_same(batch.scores[0], batch.signals[0], chunk_scores, chunk_signals)


@pytest.mark.parametrize(("kind", "robust", "direction"), COMBOS)
def test_batch_rows_equal_streaming_on_noisy_series(kind: str, robust: bool, direction: str) -> None:
    spec = plain(kind=kind, robust=robust, direction=direction, window=30 if kind == "zscore" else None,
                 warmup=10, confirm_k=1, confirm_n=2, cooldown_s=300, threshold=2.5, cooldown_points=5,
                 adaptive_quantile=0.95, adaptive_window=100, scale_floor=1e-6, scale_floor_rel=1e-3)  # fmt: skip
    ts, values, _ = labelled_series(8, 400, seed=1)
    batch = detect_batch(spec, ts, values)
    assert batch.signals.any()
    for row in range(values.shape[0]):
        scores, signals = stream(spec, ts, values[row])
        assert_same(batch.scores[row], batch.signals[row], scores, signals)


def test_parallel_batch_equals_single_series() -> None:
    ts, values, _ = labelled_series(256, 800, seed=2)  # 204,800 points: takes the multi-threaded path
    for spec in (plain(kind="zscore"), plain(kind="ewma", robust=True, confirm_k=2, confirm_n=2)):
        batch = detect_batch(spec, ts, values)
        for row in (0, 1, 77, 255):
            one = detect_series(spec, ts, values[row])
            assert_same(batch.scores[row], batch.signals[row], one.scores[0], one.signals[0])


# --------------------------------------------------------------------------------------------------- helpers


def test_signals_of_and_detect_series() -> None:
    x = noise(200, seed=19, sigma=0.5)
    x[120] += 9.0
    ts = ts_of(200)
    res = detect_series(plain(kind="zscore", threshold=5.0), ts, x)
    assert res.scores.shape == res.signals.shape == (1, 200)
    (sig,) = signals_of(res, 0)
    assert sig == Signal(index=120, ts=int(ts[120]), value=float(x[120]), score=float(res.scores[0, 120]))
    assert sig.score > 5.0
    batch = detect_batch(plain(kind="zscore", threshold=5.0), ts, np.stack([noise(200, seed=1), x]))
    assert signals_of(batch, 0) == [] and signals_of(batch, 1) == [sig]


def test_warm_up_runs() -> None:
    warm_up()


# --------------------------------------------------------------------------------------------------- synthetic set


def test_labelled_series_is_deterministic_and_well_formed() -> None:
    ts, values, labels = labelled_series(40, 600, seed=5)
    ts2, values2, labels2 = labelled_series(40, 600, seed=5)
    np.testing.assert_array_equal(ts, ts2)
    np.testing.assert_array_equal(values, values2)
    np.testing.assert_array_equal(labels, labels2)
    assert not np.array_equal(values, labelled_series(40, 600, seed=6)[1], equal_nan=True)
    assert ts.dtype == np.int64 and values.shape == labels.shape == (40, 600)
    assert np.isfinite(values[labels]).all()  # anomalies are never hidden by gaps
    assert np.isnan(values).any()
    for i in range(40):
        kind = series_kind(i)
        assert kind == SERIES_KINDS[i % 4]
        assert labels[i].any() == (kind != "noise")
        if kind == "drift":
            assert labels[i].sum() >= 15


def test_score_detections() -> None:
    labels = np.zeros((1, 100), dtype=bool)
    labels[0, [10, 50, 51, 52]] = True
    signals = np.zeros((1, 100), dtype=bool)
    signals[0, [12, 13, 80]] = True  # event 1 hit twice, event 2 missed, one false positive
    score = score_detections(labels, signals, tolerance=5)
    assert score == DetectionScore(events=2, detected=1, false_positives=1)
    assert score.precision == 0.5 and score.recall == 0.5 and score.f1 == 0.5
    signals[0, 62] = True  # 52 + 10: outside tolerance 5, inside 10
    assert score_detections(labels, signals, tolerance=5).detected == 1
    assert score_detections(labels, signals, tolerance=10).detected == 2


QUALITY_SPECS = {
    "zscore": plain(kind="zscore", threshold=4.5, cooldown_s=3600),
    "zscore_robust": plain(kind="zscore", threshold=4.5, cooldown_s=3600, robust=True),
    "ewma": plain(kind="ewma", alpha=0.05, threshold=4.5, cooldown_s=3600),
    "ewma_robust": plain(kind="ewma", alpha=0.05, threshold=4.5, cooldown_s=3600, robust=True),
}


@pytest.mark.parametrize("name", list(QUALITY_SPECS))
def test_quality_on_the_labelled_synthetic_set(name: str) -> None:
    ts, values, labels = labelled_series(200, 600, seed=1)
    result = detect_batch(QUALITY_SPECS[name], ts, values)
    score = score_detections(labels, result.signals, tolerance=10)
    assert score.events > 150
    assert score.f1 >= 0.7, (name, score, score.precision, score.recall)
    noise_rows = [i for i in range(200) if series_kind(i) == "noise"]
    assert result.signals[noise_rows].sum() <= 10  # few false alarms on plain noise


def test_out_buffers_are_filled_and_validated() -> None:
    ts, values, _ = labelled_series(5, 300, seed=3)
    spec = plain(kind="zscore", threshold=3.0)
    fresh = detect_batch(spec, ts, values)
    scores = np.full(values.shape, 123.0)
    signals = np.ones(values.shape, dtype=bool)
    reused = detect_batch(spec, ts, values, out=(scores, signals))
    assert reused.scores is scores and reused.signals is signals
    assert_same(fresh.scores, fresh.signals, scores, signals)
    with pytest.raises(ValueError, match="scores"):
        detect_batch(spec, ts, values, out=(np.empty((5, 299)), signals))
    with pytest.raises(ValueError, match="signals"):
        detect_batch(spec, ts, values, out=(scores, np.empty(values.shape)))
    with pytest.raises(ValueError, match="contiguous"):
        detect_batch(spec, ts, values, out=(np.empty((300, 5)).T, signals))


def test_kernels_compile_without_a_writable_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    from numba.core import caching

    impl = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl", None)
    if impl is None or not hasattr(impl, "_locator_classes"):
        pytest.skip("numba internals changed")
    monkeypatch.setattr(impl, "_locator_classes", [])  # no cache location at all, as on a read-only system

    def double(x: float) -> float:
        return 2.0 * x

    with pytest.warns(UserWarning, match="cannot cache double"):
        jitted = detectors._jit()(double)
    assert jitted(2.5) == 5.0


def test_ewma_recovers_from_an_overflow() -> None:
    x = noise(200, seed=20)
    x[[50, 51]] = [1e308, -1e308]  # m and v overflow: the EWMA starts again from the next point
    x[150] += 10
    for robust in (False, True):
        res = run(plain(kind="ewma", robust=robust, threshold=5.0), x)
        assert np.isfinite(res.scores[0, 60:]).all()
        assert signal_idx(plain(kind="ewma", robust=robust, threshold=5.0), x)[-1] == 150
