"""`detectors:` in ops.yaml: each option refused where it does not apply, with the key path of the mistake."""

from __future__ import annotations

from typing import Any

import pytest

from ops_pipeline.core import detector_defaults
from ops_pipeline.core.detectors import DetectorSpec
from ops_pipeline.settings import ConfigError, DetectorSettings, parse_settings


def detector(**entry: Any) -> DetectorSettings:
    data = {
        "metrics": {"recorded": {"path": "metrics.csv"}},
        "detectors": [{"name": "d", "source": "recorded", "query": "latency", **entry}],
    }
    return parse_settings(data, "ops.yaml").detectors[0]


def problem(**entry: Any) -> str:
    with pytest.raises(ConfigError) as error:
        detector(**entry)
    return str(error.value)


def test_a_minimal_entry_gets_the_shipped_defaults() -> None:
    for kind in ("zscore", "ewma"):
        minimal = detector(kind=kind)
        assert minimal.spec() == DetectorSpec(kind=kind)
        assert minimal.threshold == detector_defaults.THRESHOLD == DetectorSpec(kind=kind).threshold
        assert minimal.spec().cooldown_points == detector_defaults.COOLDOWN_POINTS > 0  # on by default
        assert minimal.adaptive_quantile == detector_defaults.ADAPTIVE_QUANTILE


def test_ewma_with_a_window_is_refused_like_zscore_with_alpha() -> None:
    assert "ops.yaml: detectors[0].window: applies to kind zscore only" in problem(kind="ewma", window=60)
    assert "ops.yaml: detectors[0].alpha: applies to kind ewma only" in problem(kind="zscore", alpha=0.1)
    assert "ops.yaml: detectors[0].halflife: applies to kind ewma only" in problem(kind="zscore", halflife=5)


def test_confirm_n_defaults_to_k_and_errors_name_confirm_k() -> None:
    assert detector(kind="zscore", confirm={"k": 2}).spec().confirm_n == 2
    assert detector(kind="zscore", confirm={"k": 2, "n": 5}).spec().confirm_n == 5
    assert "detectors[0].confirm.k: must be at most n (2)" in problem(kind="zscore", confirm={"k": 3, "n": 2})
    zero = problem(kind="zscore", confirm={"k": 0})
    assert "detectors[0].confirm.k:" in zero and "confirm.n" not in zero


def test_cooldown_in_points_or_as_a_duration() -> None:
    assert detector(kind="zscore", cooldown=50).spec().cooldown_points == 50
    timed = detector(kind="zscore", cooldown="30m").spec()
    assert (timed.cooldown_s, timed.cooldown_points) == (1800, 0)
    off = detector(kind="ewma", cooldown=0).spec()
    assert (off.cooldown_s, off.cooldown_points) == (0, 0)
    assert "detectors[0].cooldown: '50' is quoted" in problem(kind="zscore", cooldown="50")
    assert "detectors[0].cooldown: must be between 0 (off) and 1,000,000 points" in problem(kind="zscore", cooldown=-1)
    assert "detectors[0].cooldown:" in problem(kind="zscore", cooldown=True)
    assert "detectors[0].cooldown: '5 minutes' is not a duration" in problem(kind="zscore", cooldown="5 minutes")


def test_floors_and_the_adaptive_quantile() -> None:
    spec = detector(kind="zscore", scale_floor=0.5, scale_floor_relative=0.01, adaptive_quantile=0.99).spec()
    assert (spec.scale_floor, spec.scale_floor_rel, spec.adaptive_quantile) == (0.5, 0.01, 0.99)
    assert detector(kind="zscore", adaptive_quantile=None).spec().adaptive_quantile is None
    assert "detectors[0].adaptive_quantile:" in problem(kind="zscore", adaptive_quantile=1.0)
    assert "detectors[0].scale_floor:" in problem(kind="zscore", scale_floor=-1)


def test_the_batch_history_covers_what_the_detector_needs() -> None:
    long = detector(kind="zscore", window=12_000, step="1m")
    assert long.history_s >= (12_000 + detector_defaults.ADAPTIVE_WINDOW) * 60  # extended past the default day
    assert detector(kind="zscore", adaptive_quantile=None).history_s == detector_defaults.LOOKBACK_S
    assert detector(kind="zscore", window=12_000, lookback="10d").history_s == 10 * 86400
    message = problem(kind="zscore", window=12_000, step="1m", lookback="1d")
    assert "ops.yaml: detectors[0].lookback: 1d is shorter than the 9d18h21m of history" in message
    assert "14061 points of 1m" in message
    ewma = problem(kind="ewma", alpha=0.001, adaptive_quantile=None, step="1h", lookback="30d")
    assert "detectors[0].lookback: 30d is shorter" in ewma  # 0.999**13809 < 1e-6: the EWMA remembers ~575 days


def test_a_malformed_selector_is_refused_at_load_naming_the_query() -> None:
    assert "ops.yaml: detectors[0].query:" in problem(kind="zscore", query='latency{job=~"("}')
    assert "ops.yaml: detectors[0].query:" in problem(kind="zscore", query="latency{job=")
    assert detector(kind="zscore", query='latency{service="search"}').query == 'latency{service="search"}'
