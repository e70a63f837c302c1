"""MetricSeries, MetricsError and `align` onto a shared grid."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ops_pipeline.metrics import MetricSeries, MetricsError, align, format_series_key, parse_selector


def series(timestamps: list[int], values: list[float], metric: str = "m", **labels: str) -> MetricSeries:
    return MetricSeries.from_labels(metric, labels, timestamps, values)


# -- MetricSeries ----------------------------------------------------------------------------------------------


def test_labels_are_sorted_and_arrays_typed_and_read_only() -> None:
    one = MetricSeries("m", (("z", "1"), ("a", "2")), np.array([1, 2]), np.array([1, 2]))
    assert one.labels == (("a", "2"), ("z", "1"))
    assert one.labels_dict == {"a": "2", "z": "1"}
    assert one.timestamps.dtype == np.int64 and one.values.dtype == np.float64
    with pytest.raises(ValueError):
        one.values[0] = 5.0
    assert len(one) == 2


def test_the_series_does_not_share_the_callers_arrays() -> None:
    values = np.array([1.0, 2.0])
    one = series([1, 2], list(values))
    values[0] = 99.0
    assert one.values.tolist() == [1.0, 2.0]


def test_series_key_is_canonical_and_escaped_like_prometheus() -> None:
    one = series([1], [1.0], "http_requests", path='say "hi"\\\n', code="200")
    assert one.series_key == 'http_requests{code="200",path="say \\"hi\\"\\\\\\n"}'
    assert series([1], [1.0], "up").series_key == "up"
    assert series([1], [1.0], "", code="500").series_key == '{code="500"}'


def test_equality_compares_values_with_nan_as_equal() -> None:
    assert series([1, 2], [1.0, np.nan]) == series([1, 2], [1.0, np.nan])
    assert series([1, 2], [1.0, np.nan]) != series([1, 2], [1.0, 2.0])
    assert series([1, 2], [1.0, 2.0]) != series([1, 3], [1.0, 2.0])
    assert len({series([1], [1.0]), series([1], [1.0])}) == 1


@pytest.mark.parametrize(
    ("timestamps", "values", "labels", "message"),
    [
        ([1, 2], [1.0], (), "2 timestamps but 1 values"),
        ([2, 1], [1.0, 2.0], (), "strictly ascending"),
        ([1, 1], [1.0, 2.0], (), "strictly ascending"),
        ([1], [1.0], (("a", "1"), ("a", "2")), "duplicate label"),
        ([1], [1.0], (("__name__", "x"),), "__name__"),
    ],
)
def test_invalid_series_are_refused(
    timestamps: list[int], values: list[float], labels: tuple[tuple[str, str], ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        MetricSeries("m", labels, np.array(timestamps), np.array(values))


label_values = st.text(st.characters(codec="utf-8"), max_size=12)
label_names = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,8}", fullmatch=True).filter(lambda name: name != "__name__")
metric_names = st.from_regex(r"[a-zA-Z_:][a-zA-Z0-9_:]{0,12}", fullmatch=True)


@given(metric_names, st.dictionaries(label_names, label_values, max_size=4))
def test_series_key_is_a_selector_for_exactly_that_series(metric: str, labels: dict[str, str]) -> None:
    key = format_series_key(metric, labels.items())
    selector = parse_selector(key)
    assert selector.matches(metric, labels)
    assert not selector.matches(metric + "_other", labels)
    non_empty = {name: value for name, value in labels.items() if value}
    if non_empty:
        name = next(iter(non_empty))
        assert not selector.matches(metric, {**labels, name: non_empty[name] + "x"})


# -- MetricsError ----------------------------------------------------------------------------------------------


def test_metrics_error_message_names_source_kind_and_detail() -> None:
    error = MetricsError("timeout", "no answer within 2 s", source="Prometheus at http://p:9090")
    assert error.kind == "timeout" and error.detail == "no answer within 2 s"
    assert str(error).startswith("Prometheus at http://p:9090: timeout: no answer within 2 s")
    assert "raise timeout_s" in str(error)
    assert str(MetricsError("http_error", "HTTP 502")) == "http error: HTTP 502"


def test_metrics_error_refuses_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown MetricsError kind"):
        MetricsError("oops", "x")  # type: ignore[arg-type]


# -- align -----------------------------------------------------------------------------------------------------


def test_points_on_the_grid_are_taken_as_they_are() -> None:
    timestamps, matrix = align([series([0, 10, 20], [1.0, 2.0, 3.0])], 0, 20, 10)
    assert timestamps.tolist() == [0, 10, 20]
    assert timestamps.dtype == np.int64
    assert matrix.shape == (1, 3)
    assert matrix.tolist() == [[1.0, 2.0, 3.0]]


def test_a_point_between_grid_timestamps_counts_for_the_next_one_and_the_latest_wins() -> None:
    # grid 0, 10, 20, 30: point 3 -> 10; points 12 and 19 -> 20 (19 wins); 20 exactly -> 20 wins over both
    _, matrix = align([series([3, 12, 19], [1.0, 2.0, 3.0]), series([12, 20], [5.0, 6.0])], 0, 30, 10)
    assert np.array_equal(matrix[0], [np.nan, 1.0, 3.0, np.nan], equal_nan=True)
    assert np.array_equal(matrix[1], [np.nan, np.nan, 6.0, np.nan], equal_nan=True)


def test_a_point_exactly_one_step_before_belongs_to_the_earlier_grid_timestamp() -> None:
    _, matrix = align([series([10], [1.0])], 0, 30, 10)
    assert np.array_equal(matrix[0], [np.nan, 1.0, np.nan, np.nan], equal_nan=True)


def test_nan_points_are_gaps_and_do_not_hide_an_earlier_point_in_the_window() -> None:
    _, matrix = align([series([11, 15, 20], [1.0, np.nan, np.nan])], 10, 20, 10)
    assert np.array_equal(matrix[0], [np.nan, 1.0], equal_nan=True)


def test_points_outside_the_range_are_ignored_and_end_need_not_be_on_the_grid() -> None:
    timestamps, matrix = align([series([-100, 5, 100], [9.0, 1.0, 9.0])], 0, 25, 10)
    assert timestamps.tolist() == [0, 10, 20]
    assert np.array_equal(matrix[0], [np.nan, 1.0, np.nan], equal_nan=True)


def test_align_rows_follow_the_input_order_and_empty_input_gives_an_empty_matrix() -> None:
    inputs = [series([0], [1.0], a="1"), series([], []), series([0], [3.0], a="3")]
    _, matrix = align(inputs, 0, 0, 1)
    assert np.array_equal(matrix[:, 0], [1.0, np.nan, 3.0], equal_nan=True)
    timestamps, empty = align([], 0, 100, 10)
    assert empty.shape == (0, 11) and timestamps.size == 11


def test_align_refuses_a_bad_grid() -> None:
    with pytest.raises(ValueError, match="step must be positive"):
        align([], 0, 10, 0)
    with pytest.raises(ValueError, match="after end"):
        align([], 10, 0, 1)


@given(
    st.lists(st.integers(-50, 150), unique=True, max_size=30).map(sorted),
    st.integers(1, 20),
    st.integers(-20, 20),
)
def test_align_matches_a_point_by_point_reference(points: list[int], step: int, start: int) -> None:
    values = [float(index) for index, _ in enumerate(points)]
    end = start + 100
    timestamps, matrix = align([series(points, values)], start, end, step)
    for column, grid_time in enumerate(timestamps.tolist()):
        window = [value for time, value in zip(points, values, strict=True) if grid_time - step < time <= grid_time]
        expected = window[-1] if window else np.nan
        assert np.array_equal(matrix[0, column], expected, equal_nan=True)
