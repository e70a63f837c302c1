"""RecordedMetricsSource on real CSV and Parquet files, and append_points."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ops_pipeline.metrics import MetricSeries, MetricsError, RecordedMetricsSource, append_points
from ops_pipeline.metrics import recorded as recorded_module
from ops_pipeline.metrics.recorded import RecordedSeries, csv_tail, load_recorded
from ops_pipeline.metrics.recorded import append as append_module
from ops_pipeline.metrics.recorded import cache as cache_module
from ops_pipeline.metrics.recorded import lock as lock_module

T0 = datetime(2024, 1, 1, tzinfo=UTC)
E0 = int(T0.timestamp())
MINUTE = timedelta(minutes=1)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def write_csv(path: Path, rows: list[tuple[Any, str, Any, Any]], header: tuple[str, ...] | None = None) -> Path:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header or ("timestamp", "metric", "labels", "value"))
        for timestamp, metric, labels, value in rows:
            writer.writerow([timestamp, metric, labels if isinstance(labels, str) else json.dumps(labels), value])
    return path


def query(path: Path, selector: str, start: float, end: float, step_s: int = 60) -> list[MetricSeries]:
    return RecordedMetricsSource(path).query_range(selector, at(start), at(end), timedelta(seconds=step_s))


def values_of(series: list[MetricSeries]) -> dict[str, list[float]]:
    return {one.series_key: one.values.tolist() for one in series}


def same(actual: list[float], expected: list[float]) -> bool:
    return bool(np.array_equal(np.array(actual), np.array(expected), equal_nan=True))


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    recorded_module.clear_cache()


# -- querying ---------------------------------------------------------------------------------------------------

ROWS: list[tuple[Any, str, Any, Any]] = [
    (E0, "cpu", {"host": "a", "dc": "eu"}, 1),
    (E0 + 60, "cpu", {"dc": "eu", "host": "a"}, 2),  # same labels in another order: the same series
    (E0 + 30, "cpu", {"host": "b", "dc": "us"}, 10),
    (E0 + 150, "cpu", {"host": "b", "dc": "us"}, 11),
    (E0 + 60, "mem", {"host": "a"}, 512),
    (E0 + 3600, "cpu", {"host": "c", "dc": "eu"}, 99),  # outside every range below
]


def test_a_selector_returns_matching_series_on_the_step_grid(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", ROWS)
    series = query(path, "cpu", 0, 240)
    assert [one.series_key for one in series] == ['cpu{dc="eu",host="a"}', 'cpu{dc="us",host="b"}']
    for one in series:
        assert one.timestamps.dtype == np.int64
        assert one.timestamps.tolist() == [E0 + 60 * k for k in range(5)]
    got = values_of(series)
    assert got['cpu{dc="eu",host="a"}'] == [1.0, 2.0, 2.0, 2.0, 2.0]
    assert same(got['cpu{dc="us",host="b"}'], [np.nan, 10.0, 10.0, 11.0, 11.0])


@pytest.mark.parametrize(
    ("selector", "keys"),
    [
        ('cpu{host="a"}', ['cpu{dc="eu",host="a"}']),
        ('cpu{host!="a"}', ['cpu{dc="us",host="b"}']),
        ('cpu{dc=~"e."}', ['cpu{dc="eu",host="a"}']),
        ('cpu{dc=~"e"}', []),  # anchored
        ('cpu{dc!~"eu|asia"}', ['cpu{dc="us",host="b"}']),
        ('{host="a"}', ['cpu{dc="eu",host="a"}', 'mem{host="a"}']),
        ('{__name__=~"c.u|mem", dc=""}', ['mem{host="a"}']),
        ('mem{dc!="eu"}', ['mem{host="a"}']),
        ("nothing_here", []),
    ],
)
def test_selector_semantics(tmp_path: Path, selector: str, keys: list[str]) -> None:
    path = write_csv(tmp_path / "m.csv", ROWS)
    assert [one.series_key for one in query(path, selector, 0, 240)] == keys


def test_resampling_takes_the_latest_sample_within_five_minutes(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "m.csv",
        [
            (E0 - 200, "g", {}, 1.0),  # before start, but within 5 min of the first grid timestamps
            (E0 + 10, "g", {}, 2.0),
            (E0 + 20, "g", {}, 3.0),  # two samples in one step: the later one counts
            (E0 + 1000, "g", {}, 4.0),  # after end: never used
        ],
    )
    (series,) = query(path, "g", 0, 600)
    # grid 0, 60, ..., 600: at 0 the sample from -200; 60..300 -> the sample at 20; from 320 on it is > 5 min old
    assert same(series.values.tolist(), [1.0, 3.0, 3.0, 3.0, 3.0, 3.0, np.nan, np.nan, np.nan, np.nan, np.nan])


def test_the_lookback_excludes_a_sample_exactly_five_minutes_old(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", [(E0, "g", {}, 1.0)])
    (series,) = query(path, "g", 299, 300, step_s=1)
    assert same(series.values.tolist(), [1.0, np.nan])


def test_a_series_with_nothing_in_reach_is_left_out(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", [(E0 - 301, "g", {}, 1.0), (E0 + 1000, "g", {"a": "b"}, 2.0)])
    assert query(path, "g", 0, 600) == []


def test_equal_timestamps_keep_the_later_row(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", [(E0, "g", {}, 1.0), (E0, "g", {}, 2.0), (E0 - 5, "g", {}, 0.0)])
    (series,) = query(path, "g", 0, 0)
    assert series.values.tolist() == [2.0]


def test_timestamp_and_value_spellings(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "m.csv",
        [
            ("2024-01-01T00:00:00Z", "g", {"k": "iso_z"}, "1e3"),
            ("2024-01-01T01:00:00+01:00", "g", {"k": "iso_offset"}, "NaN"),
            ("2024-01-01T00:00:00", "g", {"k": "iso_naive_is_utc"}, "+Inf"),
            ("2024-01-01 00:00:00.000Z", "g", {"k": "iso_space"}, "-Inf"),
            (str(E0), "g", {"k": "epoch"}, " 2.5 "),
            (f"{E0}.0", "g", {"k": "epoch_float"}, "-7"),
        ],
    )
    got = {one.labels_dict["k"]: one.values[0] for one in query(path, "g", 0, 0)}
    assert got["iso_z"] == 1000.0
    assert np.isnan(got["iso_offset"])
    assert got["iso_naive_is_utc"] == np.inf
    assert got["iso_space"] == -np.inf
    assert got["epoch"] == 2.5
    assert got["epoch_float"] == -7.0


def test_empty_labels_and_empty_label_values_are_no_labels(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", [(E0, "g", "", 1.0), (E0 + 1, "g", {"a": ""}, 2.0), (E0 + 2, "g", {}, 3.0)])
    (series,) = query(path, "g", 0, 2, step_s=1)
    assert series.series_key == "g"
    assert series.values.tolist() == [1.0, 2.0, 3.0]


def test_label_values_with_quotes_commas_and_newlines(tmp_path: Path) -> None:
    labels = {"path": 'say "hi", then\nleave \\'}
    path = write_csv(tmp_path / "m.csv", [(E0, "g", labels, 1.0)])
    (series,) = query(path, 'g{path=~"say \\"hi\\", then\\nleave.*"}', 0, 0)
    assert series.labels_dict == labels
    assert series.series_key == 'g{path="say \\"hi\\", then\\nleave \\\\"}'


def test_an_empty_file_with_a_header_has_no_series(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", [])
    assert query(path, "g", 0, 60) == []


def test_extra_columns_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text('note,value,labels,metric,timestamp\nhello,4,"{""a"":""b""}",g,1704067200\n')
    (series,) = query(path, "g", 0, 0)
    assert series.series_key == 'g{a="b"}' and series.values.tolist() == [4.0]


# -- Parquet -------------------------------------------------------------------------------------------------


def _parquet_labels(kind: str, labels: list[dict[str, str]]) -> pa.Array:
    if kind == "json":
        return pa.array([json.dumps(one) for one in labels])
    if kind == "struct":
        names = sorted({name for one in labels for name in one})
        return pa.array(
            [{name: one.get(name) for name in names} for one in labels],
            pa.struct([(name, pa.string()) for name in names]),
        )
    return pa.array([list(one.items()) for one in labels], pa.map_(pa.string(), pa.string()))


@pytest.mark.parametrize("labels_kind", ["json", "struct", "map"])
@pytest.mark.parametrize("time_kind", ["timestamp", "epoch", "iso"])
def test_parquet_gives_the_same_answer_as_csv(tmp_path: Path, labels_kind: str, time_kind: str) -> None:
    csv_path = write_csv(tmp_path / "m.csv", ROWS)
    epochs = [row[0] for row in ROWS]
    times: pa.Array
    if time_kind == "timestamp":
        times = pa.array([epoch * 1_000_000 for epoch in epochs], pa.timestamp("us", tz="UTC"))
    elif time_kind == "epoch":
        times = pa.array(epochs, pa.int64())
    else:
        times = pa.array([datetime.fromtimestamp(epoch, UTC).isoformat() for epoch in epochs])
    table = pa.table(
        {
            "timestamp": times,
            "metric": [row[1] for row in ROWS],
            "labels": _parquet_labels(labels_kind, [row[2] for row in ROWS]),
            "value": pa.array([float(row[3]) for row in ROWS]),
        }
    )
    parquet_path = tmp_path / "m.parquet"
    pq.write_table(table, parquet_path, row_group_size=2)  # several row groups: chunked columns
    for selector in ("cpu", '{host="a"}', 'cpu{dc=~"u.*"}'):
        assert query(parquet_path, selector, 0, 240) == query(csv_path, selector, 0, 240)


def test_parquet_struct_nulls_and_null_maps_are_absent_labels(tmp_path: Path) -> None:
    struct = pa.array([{"a": "1", "b": None}, None], pa.struct([("a", pa.string()), ("b", pa.string())]))
    pq.write_table(
        pa.table({"timestamp": [E0, E0], "metric": ["s", "t"], "labels": struct, "value": [1.0, 2.0]}),
        tmp_path / "s.parquet",
    )
    assert [one.series_key for one in query(tmp_path / "s.parquet", '{__name__=~"s|t"}', 0, 0)] == ['s{a="1"}', "t"]
    maps = pa.array([None, [("a", "1")]], pa.map_(pa.string(), pa.string()))
    pq.write_table(
        pa.table({"timestamp": [E0, E0], "metric": ["s", "t"], "labels": maps, "value": [1.0, 2.0]}),
        tmp_path / "m.pq",
    )
    assert [one.series_key for one in query(tmp_path / "m.pq", '{__name__=~"s|t"}', 0, 0)] == ["s", 't{a="1"}']


# -- bad files --------------------------------------------------------------------------------------------------

HEADER = "timestamp,metric,labels,value\n"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("timestamp,metric,value\n1,g,1\n", "missing column 'labels'"),
        ("", "missing columns 'timestamp', 'metric', 'labels', 'value'"),
        (
            HEADER + "1704067200,g,,1\nyesterday,g,,2\n",
            "line 3, column 'timestamp': cannot parse timestamp 'yesterday'",
        ),
        (
            HEADER + "1704067200,g,,1\n1704067200,g,,1\n1704067200,g,,abc\n",
            "line 4, column 'value': 'abc' is not a number",
        ),
        (HEADER + "1704067200,g,,\n", "line 2, column 'value': '' is not a number"),
        (HEADER + "1704067200,,,1\n", "line 2, column 'metric': missing metric name"),
        (HEADER + "1704067200,g,{nope,1\n", "line 2, column 'labels': labels are not valid JSON"),
        (HEADER + '1704067200,g,"[1,2]",1\n', "line 2, column 'labels': labels must be a JSON object"),
        (HEADER + '1704067200,g,"{""a"":1}",1\n', "line 2, column 'labels': label 'a' has a int value"),
        (HEADER + '1704067200,g,"{""1a"":""x""}",1\n', "line 2, column 'labels': invalid label name '1a'"),
        (HEADER + '1704067200,g,"{""__name__"":""x""}",1\n', "line 2, column 'labels': `__name__` goes in the metric"),
        (HEADER + "1704067200,g,,1\n1704067200,g,,1,5\n", "line 3: CSV parse error: Expected 4 columns, got 5"),
        (HEADER + "inf,g,,1\n", "line 2, column 'timestamp': timestamp 'inf' is not a finite number"),
        (
            HEADER + "1704067200,g,,1\n9999-12-31T00:00:00Z,g,,1\n",
            "line 3, column 'timestamp': timestamp '9999-12-31T00:00:00Z' is outside 1677-09-21",
        ),
        (
            HEADER + "0001-01-01T00:00:00Z,g,,1\n",
            "line 2, column 'timestamp': timestamp '0001-01-01T00:00:00Z' is outside",
        ),
        (HEADER + "1e300,g,,1\n", "line 2, column 'timestamp': timestamp '1e300' is outside"),
        (
            HEADER + '1704067200,g,"' + "[" * 50_000 + "]" * 50_000 + '",1\n',
            "line 2, column 'labels': labels are nested too deeply",
        ),
    ],
)
def test_a_bad_csv_names_file_line_and_column(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(MetricsError) as caught:
        query(path, "g", 0, 60)
    assert caught.value.kind == "bad_data"
    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


def test_a_five_megabyte_label_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    big_row = f'1704067260,g,"{{""a"":""{"x" * 5_000_000}""}}",2\n'
    path.write_text(HEADER + "1704067200,g,,1\n" + big_row + "1704067320,g,,3\n")
    with pytest.raises(MetricsError, match=r"big.csv': line 3: a record of 5,000,0\d\d bytes; a line may hold at most"):
        load_recorded(path)
    path.write_text(HEADER + "1704067200,g,,1\n")
    assert load_recorded(path).sample_count == 1
    with open(path, "a") as handle:  # the same line appended: read incrementally, still named by its line
        handle.write("1704067230,g,,1\n" + big_row)
    with pytest.raises(MetricsError, match="line 4: a record of 5,000,0"):
        load_recorded(path)


def test_a_trailing_partial_line_is_read_once_complete(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(HEADER + "1704067200,g,,1\n1704067260,g,{},")  # a writer is half-way through its line
    assert load_recorded(path).sample_count == 1
    with open(path, "a") as handle:
        handle.write("2\n1704067320,g")
    assert load_recorded(path).sample_count == 2
    with open(path, "a") as handle:
        handle.write(",,3\n")
    (series,) = query(path, "g", 0, 120)
    assert series.values.tolist() == [1.0, 2.0, 3.0]


def test_a_bad_line_before_a_partial_one_is_still_an_error(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(HEADER + "1704067200,g,,abc\n1704067260,g,{},")
    with pytest.raises(MetricsError, match="line 2, column 'value': 'abc' is not a number"):
        load_recorded(path)


def test_a_bad_parquet_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    pq.write_table(
        pa.table({"timestamp": [E0, E0, None], "metric": ["g", "g", "g"], "labels": ["", "", ""], "value": [1.0] * 3}),
        path,
    )
    with pytest.raises(MetricsError, match="row 3, column 'timestamp': missing or non-finite epoch seconds"):
        query(path, "g", 0, 60)
    pq.write_table(pa.table({"timestamp": [E0], "metric": ["g"], "labels": [1], "value": [1.0]}), path)
    with pytest.raises(MetricsError, match="column 'labels': expected a JSON object as text, a struct or a map"):
        query(path, "g", 0, 60)
    pq.write_table(pa.table({"timestamp": [E0], "metric": ["g"], "labels": [""], "value": [True]}), path)
    with pytest.raises(MetricsError, match="column 'value': expected text, found bool"):
        query(path, "g", 0, 60)
    path.write_bytes(b"this is not parquet")
    with pytest.raises(MetricsError, match="cannot read it as PARQUET") as caught:
        query(path, "g", 0, 60)
    assert caught.value.kind == "bad_data"


def test_a_missing_file_is_unreachable_and_a_wrong_suffix_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MetricsError) as caught:
        query(tmp_path / "nope.csv", "g", 0, 60)
    assert caught.value.kind == "unreachable" and "does not exist" in str(caught.value)
    with pytest.raises(ValueError, match=r"must end in \.csv, \.parquet or \.pq"):
        RecordedMetricsSource(tmp_path / "m.json")


@pytest.mark.parametrize("selector", ["cpu[5m]", "rate(cpu[5m])", 'cpu{host="a"', "{}"])
def test_a_query_that_is_not_a_selector_is_bad_query(tmp_path: Path, selector: str) -> None:
    path = write_csv(tmp_path / "m.csv", ROWS)
    with pytest.raises(MetricsError) as caught:
        query(path, selector, 0, 60)
    assert caught.value.kind == "bad_query"
    assert "at position" in str(caught.value)


def test_range_arguments_are_checked(tmp_path: Path) -> None:
    source = RecordedMetricsSource(write_csv(tmp_path / "m.csv", ROWS))
    with pytest.raises(ValueError, match="timezone-aware"):
        source.query_range("cpu", datetime(2024, 1, 1), T0, MINUTE)
    with pytest.raises(ValueError, match="after end"):
        source.query_range("cpu", at(60), at(0), MINUTE)
    with pytest.raises(ValueError, match="positive"):
        source.query_range("cpu", T0, T0, -MINUTE)
    with pytest.raises(ValueError, match="non-empty"):
        source.query_range(" ", T0, T0, MINUTE)
    with pytest.raises(MetricsError, match="exceeds the maximum of 11000") as caught:
        source.query_range("cpu", T0, T0 + timedelta(days=1), timedelta(seconds=1))
    assert caught.value.kind == "bad_query"
    other_zone = timezone(timedelta(hours=5))
    assert source.query_range("cpu", T0.astimezone(other_zone), at(60), MINUTE) == source.query_range(
        "cpu", T0, at(60), MINUTE
    )


# -- caching ----------------------------------------------------------------------------------------------------


def count_parses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    parsed: list[Path] = []
    real = cache_module._parse_file

    def counting(path: Path, kind: str) -> Any:
        parsed.append(path)
        return real(path, kind)

    monkeypatch.setattr(cache_module, "_parse_file", counting)
    return parsed


def test_a_file_is_parsed_once_per_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = count_parses(monkeypatch)
    path = write_csv(tmp_path / "m.csv", ROWS)
    assert len(query(path, "cpu", 0, 240)) == 2
    assert len(RecordedMetricsSource(str(path)).query_range("mem", T0, at(240), MINUTE)) == 1
    assert len(parsed) == 1

    append_points(path, [{"timestamp": at(200), "metric": "cpu", "labels": {"host": "z"}, "value": 5}])
    assert len(query(path, "cpu", 0, 240)) == 3
    assert len(parsed) == 1  # the appended row was parsed on its own, not the whole file again
    stats = cache_module._cache_stats(path)
    assert (stats["full_parses"], stats["incremental_parses"]) == (1, 1)


# -- append_points ----------------------------------------------------------------------------------------------


def test_append_points_creates_the_file_and_the_rows_read_back(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "injected.csv"
    rows: list[dict[str, Any]] = [
        {"timestamp": T0, "metric": "g", "labels": {"b": "2", "a": 'q"uote'}, "value": 1},
        {"timestamp": E0 + 60, "metric": "g", "labels": {"b": "2", "a": 'q"uote'}, "value": float("nan")},
        {"timestamp": "2024-01-01T00:02:00+00:00", "metric": "g", "labels": {"b": "2", "a": 'q"uote'}, "value": "+Inf"},
        {"timestamp": at(180).astimezone(timezone(timedelta(hours=-3))), "metric": "h", "value": -1.5},
    ]
    assert append_points(path, rows) == 4
    assert path.read_text().splitlines()[0] == "timestamp,metric,labels,value"
    got = values_of(query(path, '{__name__=~"g|h"}', 0, 180))
    assert same(got['g{a="q\\"uote",b="2"}'], [1.0, np.nan, np.inf, np.inf])
    assert same(got["h"], [np.nan, np.nan, np.nan, -1.5])


def test_append_points_appends_to_an_existing_file_in_its_column_order(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text('value,note,metric,timestamp,labels\n1,x,g,1704067200,"{}"')  # no final newline
    append_points(path, [{"timestamp": at(60), "metric": "g", "value": 2}])
    lines = path.read_text().splitlines()
    assert lines[:2] == ["value,note,metric,timestamp,labels", '1,x,g,1704067200,"{}"']
    assert lines[2] == "2.0,,g,2024-01-01T00:01:00Z,{}"
    (series,) = query(path, "g", 0, 60)
    assert series.values.tolist() == [1.0, 2.0]


def test_append_points_validates_every_row_before_writing(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", ROWS)
    before = path.read_bytes()
    good: dict[str, Any] = {"timestamp": T0, "metric": "g", "labels": {}, "value": 1}
    cases: list[tuple[dict[str, Any], str]] = [
        ({**good, "timestamp": datetime(2024, 1, 1)}, "row 2: timestamp '2024-01-01T00:00:00' has no timezone"),
        ({**good, "timestamp": "2024-01-01T00:00:00"}, "row 2: timestamp '2024-01-01T00:00:00' has no timezone"),
        ({**good, "timestamp": "yesterday"}, "row 2: timestamp 'yesterday' is not ISO-8601"),
        ({**good, "timestamp": float("inf")}, "row 2: timestamp inf is not finite"),
        ({**good, "timestamp": True}, "not a bool"),
        ({**good, "metric": "1bad"}, "row 2: metric '1bad' is not a valid metric name"),
        ({**good, "metric": ""}, "is not a valid metric name"),
        ({**good, "labels": {"1a": "x"}}, "row 2: invalid label name '1a'"),
        ({**good, "labels": {"__name__": "x"}}, "invalid label name '__name__'"),
        ({**good, "labels": {"a": 1}}, "row 2: label 'a' must be text"),
        ({**good, "labels": "a=b"}, "labels must be a mapping"),
        ({**good, "value": "abc"}, "row 2: value 'abc' is not a number"),
        ({**good, "value": True}, "row 2: value must be a number, got bool"),
        ({**good, "value": None}, "value must be a number, got NoneType"),
        ({"timestamp": T0, "metric": "g"}, "row 2: missing 'value'"),
        ({**good, "colour": "red"}, "row 2: unknown field colour"),
        (
            {**good, "timestamp": datetime(9999, 12, 31, tzinfo=UTC)},
            "row 2: timestamp '9999-12-31T00:00:00+00:00' is outside",
        ),
        ({**good, "timestamp": 1e300}, "row 2: timestamp 1e+300 is outside"),
        ({**good, "labels": {"a": "x" * 5_000_000}}, "row 2: the line would be 5,000,0"),
    ]
    for bad, message in cases:
        with pytest.raises(ValueError) as caught:
            append_points(path, [good, bad])
        assert message in str(caught.value)
    assert path.read_bytes() == before
    with pytest.raises(ValueError, match="CSV files only"):
        append_points(tmp_path / "m.parquet", [good])
    assert append_points(path, []) == 0


def test_append_points_refuses_a_csv_without_the_columns(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(MetricsError, match="the header lacks timestamp, metric, labels, value") as caught:
        append_points(path, [{"timestamp": T0, "metric": "g", "value": 1}])
    assert caught.value.kind == "bad_data"
    assert path.read_text() == "a,b\n1,2\n"


def test_concurrent_appends_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            for index in range(10):
                append_points(
                    path, [{"timestamp": E0 + index, "metric": "g", "labels": {"w": str(worker)}, "value": index}]
                )
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    series = query(path, "g", 0, 9, step_s=1)
    assert len(series) == 4
    assert all(one.values.tolist() == [float(k) for k in range(10)] for one in series)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


# -- size --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_large_file_loads_quickly(tmp_path: Path, suffix: str) -> None:
    hosts, samples = 2_000, 150  # 300,000 rows
    frame = pd.DataFrame(
        {
            "timestamp": np.tile(E0 + 15 * np.arange(samples), hosts),
            "metric": np.where(np.arange(hosts * samples) % 2 == 0, "cpu", "mem"),
            "labels": np.repeat([json.dumps({"host": f"h{h}", "dc": f"d{h % 7}"}) for h in range(hosts)], samples),
            "value": np.arange(hosts * samples, dtype=np.float64),
        }
    )
    path = tmp_path / f"big{suffix}"
    writers: dict[str, Callable[[Path], Any]] = {
        ".csv": lambda target: frame.to_csv(target, index=False),
        ".parquet": lambda target: frame.to_parquet(target, index=False),
    }
    writers[suffix](path)
    started = time.perf_counter()
    series = query(path, 'cpu{dc="d3"}', 0, 15 * (samples - 1), step_s=15)
    elapsed = time.perf_counter() - started
    assert len(series) == len([h for h in range(hosts) if h % 7 == 3])
    assert all(len(one) == samples for one in series)
    assert elapsed < 10, f"loading {len(frame)} rows took {elapsed:.1f} s"


def test_parquet_large_string_labels(tmp_path: Path) -> None:
    maps = pa.array([[("b", "2"), ("a", "1")], [("a", "1"), ("b", "2")]], pa.map_(pa.large_string(), pa.large_string()))
    struct = pa.array([{"a": "1", "b": "2"}] * 2, pa.struct([("a", pa.large_string()), ("b", pa.large_string())]))
    for name, labels in (("m.parquet", maps), ("s.parquet", struct)):
        pq.write_table(
            pa.table({"timestamp": [E0, E0 + 60], "metric": ["g", "g"], "labels": labels, "value": [1.0, 2.0]}),
            tmp_path / name,
        )
        (series,) = query(tmp_path / name, 'g{a="1"}', 0, 60)
        assert series.series_key == 'g{a="1",b="2"}' and series.values.tolist() == [1.0, 2.0]


# -- reading a CSV file incrementally ----------------------------------------------------------------------------


def stats(path: Path) -> dict[str, Any]:
    return cache_module._cache_stats(path)


def assert_same_data(actual: RecordedSeries, expected: RecordedSeries) -> None:
    assert actual.metrics == expected.metrics
    assert actual.labels == expected.labels
    assert dict(actual.by_metric) == dict(expected.by_metric)
    assert actual.offsets.tolist() == expected.offsets.tolist()
    assert np.array_equal(actual.timestamps, expected.timestamps)
    assert np.array_equal(actual.values, expected.values, equal_nan=True)


def full_parse(path: Path) -> RecordedSeries:
    recorded_module.clear_cache()
    return load_recorded(path)


def append_raw(path: Path, text: str | bytes) -> None:
    """A foreign writer: appends bytes as they are, without the lock."""
    with open(path, "ab") as handle:
        handle.write(text.encode() if isinstance(text, str) else text)


def csv_lines(rows: list[tuple[Any, str, Any, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for timestamp, metric, labels, value in rows:
        writer.writerow([timestamp, metric, labels if isinstance(labels, str) else json.dumps(labels), value])
    return buffer.getvalue()


def test_appended_rows_are_read_by_parsing_only_the_new_bytes(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", ROWS)
    assert len(query(path, "cpu", 0, 240)) == 2
    size = path.stat().st_size
    assert stats(path) | {"samples": None} == {
        "cached": True,
        "full_parses": 1,
        "incremental_parses": 0,
        "last_parsed_bytes": size,
        "offset": size,
        "rows": len(ROWS),
        "samples": None,
    }
    appended = [
        {"timestamp": at(180), "metric": "cpu", "labels": {"host": "a", "dc": "eu"}, "value": 3},  # after the old
        {"timestamp": at(30), "metric": "cpu", "labels": {"host": "a", "dc": "eu"}, "value": 1.5},  # between them
        {"timestamp": at(60), "metric": "cpu", "labels": {"host": "a", "dc": "eu"}, "value": 2.5},  # same time: wins
        {"timestamp": at(-10), "metric": "mem", "labels": {"host": "a"}, "value": 256},  # before all of its series
        {"timestamp": at(120), "metric": "cpu", "labels": {"host": "z", "dc": "eu"}, "value": 7},  # a new series
        {"timestamp": at(120), "metric": "disk", "value": float("nan")},  # a new metric
    ]
    assert append_points(path, appended) == len(appended)
    got = values_of(query(path, '{__name__=~"cpu|mem|disk"}', 0, 240))
    assert got['cpu{dc="eu",host="a"}'] == [1.0, 2.5, 2.5, 3.0, 3.0]
    assert got['mem{host="a"}'] == [256.0, 512.0, 512.0, 512.0, 512.0]
    assert same(got['cpu{dc="eu",host="z"}'], [np.nan, np.nan, 7.0, 7.0, 7.0])
    assert same(got["disk"], [np.nan] * 5)
    new_size = path.stat().st_size
    after = stats(path)
    assert (after["full_parses"], after["incremental_parses"]) == (1, 1)
    assert after["last_parsed_bytes"] == new_size - size  # the new bytes, and nothing before them
    assert (after["offset"], after["rows"], after["samples"]) == (new_size, len(ROWS) + len(appended), 12)
    incremental = load_recorded(path)
    assert_same_data(incremental, full_parse(path))


def test_incremental_reads_of_random_appends_equal_a_full_parse(tmp_path: Path) -> None:
    """Rows in random order with repeated times, new series late, ISO times, NaN, quoted line breaks in labels;
    appended in pieces cut at arbitrary bytes (inside lines, quotes and UTF-8 characters)."""
    rng = np.random.default_rng(7)
    series = [  # JSON with line breaks between its tokens: quoted line breaks in the CSV
        ("cpu", json.dumps({"host": f"h{i}", "note": 'b, "c" é'}, indent=1 if i % 3 == 0 else None)) for i in range(12)
    ]
    assert "\n" in csv_lines([(E0, *series[0], 1)]).rstrip("\n")
    rows: list[tuple[Any, str, Any, Any]] = []
    for index in range(600):
        metric, labels = series[int(rng.integers(0, min(4 + index // 60, len(series))))]  # more series later
        seconds = int(rng.integers(0, 40)) * 15
        timestamp: Any = at(seconds).isoformat() if rng.random() < 0.2 else E0 + seconds
        value = "NaN" if rng.random() < 0.05 else repr(float(rng.normal()))
        rows.append((timestamp, metric, labels, value))
    path = write_csv(tmp_path / "m.csv", rows[:50])
    load_recorded(path)
    rest = csv_lines(rows[50:]).encode()
    ends = np.cumsum([len(csv_lines([row]).encode()) for row in rows[50:]])  # where each record ends in `rest`
    cuts = sorted({int(c) for c in rng.integers(1, len(rest), 40)} | {len(rest)})
    written = 0
    for cut in cuts:
        append_raw(path, rest[written:cut])
        written = cut
        data = load_recorded(path)
        complete = int(np.searchsorted(ends, written, side="right"))
        assert data.sample_count == 50 + complete, f"after {written} bytes"
    result = stats(path)
    assert result["full_parses"] == 1 and result["incremental_parses"] > 10
    assert_same_data(load_recorded(path), full_parse(path))


def test_a_partial_last_line_is_read_once_complete(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", [(E0, "g", {}, 1.0)])
    assert query(path, "g", 0, 120)[0].values.tolist() == [1.0, 1.0, 1.0]
    offset = stats(path)["offset"]
    append_raw(path, f"{E0 + 60},g,,2")  # no newline yet: the writer is not done (and would read as 2)
    assert query(path, "g", 0, 120)[0].values.tolist() == [1.0, 1.0, 1.0]
    assert stats(path)["offset"] == offset
    append_raw(path, f"5\n{E0 + 120},g,")
    assert query(path, "g", 0, 120)[0].values.tolist() == [1.0, 25.0, 25.0]
    append_raw(path, '"{""path"":""a"",\n')  # a quoted line break: the record is still open
    assert query(path, "g", 0, 120)[0].values.tolist() == [1.0, 25.0, 25.0]
    assert query(path, "g{path=~'.+'}", 0, 120) == []
    append_raw(path, '""q"":""b""}",3\n')
    (series,) = query(path, "g{path=~'.+'}", 0, 120)
    assert series.labels_dict == {"path": "a", "q": "b"} and same(series.values.tolist(), [np.nan, np.nan, 3.0])
    assert stats(path)["full_parses"] == 1
    assert_same_data(load_recorded(path), full_parse(path))


def test_a_stray_quote_in_an_unquoted_field_does_not_hold_rows_back(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(f"timestamp,metric,labels,value,note\n{E0},g,,1,x\n")
    load_recorded(path)
    append_raw(path, f'{E0 + 60},g,,2,say "hi\n{E0 + 120},g,,3,x\n')  # pyarrow reads `say "hi` as it is
    assert query(path, "g", 0, 120)[0].values.tolist() == [1.0, 2.0, 3.0]
    append_raw(path, f"{E0 + 180},g,,4,x\n")
    assert query(path, "g", 0, 180)[0].values.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert (stats(path)["full_parses"], stats(path)["incremental_parses"]) == (1, 2)


def bump_mtime(path: Path) -> None:
    """A later modification time, as a write a moment later would leave (mtime steps are coarse)."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))


def test_a_file_rewritten_in_place_with_the_same_size_is_parsed_again(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", [(E0, "g", {}, 1.0), (E0 + 60, "g", {}, 2.0), (E0 + 120, "g", {}, 3.0)])
    assert query(path, "g", 0, 120)[0].values.tolist() == [1.0, 2.0, 3.0]
    text = path.read_bytes()
    inode = path.stat().st_ino
    with open(path, "r+b") as handle:  # another writer, in place: same inode, same size
        handle.write(text.replace(b",1.0\r\n", b",9.0\r\n"))
    bump_mtime(path)
    assert path.stat().st_ino == inode and path.stat().st_size == len(text)
    assert query(path, "g", 0, 120)[0].values.tolist() == [9.0, 2.0, 3.0]
    assert (stats(path)["full_parses"], stats(path)["incremental_parses"]) == (2, 0)


@pytest.mark.parametrize("where", ["head", "before the offset"])
def test_a_file_rewritten_in_place_and_grown_is_parsed_again(tmp_path: Path, where: str) -> None:
    rows: list[tuple[Any, str, Any, Any]] = [
        (E0 + 60 * k, "g", {}, float(k)) for k in range(8000)
    ]  # > 2 x 64 KiB: head and tail are apart
    path = write_csv(tmp_path / "m.csv", rows)
    load_recorded(path)
    text = path.read_bytes()
    assert len(text) > 2 * csv_tail.CHECK_BYTES
    if where == "head":
        changed = text.replace(f"{E0},g,{{}},0.0\r\n".encode(), f"{E0},g,{{}},7.0\r\n".encode(), 1)
    else:
        changed = text[:-8] + text[-8:].replace(b"7999.0", b"7998.0")
    assert changed != text and len(changed) == len(text)
    with open(path, "r+b") as handle:
        handle.write(changed + csv_lines([(E0 + 60 * 8000, "g", {}, 8000.0)]).encode())
    data = load_recorded(path)
    assert stats(path)["full_parses"] == 2 and stats(path)["incremental_parses"] == 0
    assert data.sample_count == 8001
    assert_same_data(data, full_parse(path))
    assert data.values[0] == (7.0 if where == "head" else 0.0)
    assert data.values[7999] == (7998.0 if where != "head" else 7999.0)


def test_a_replaced_or_truncated_file_is_parsed_again(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", [(E0, "g", {}, 1.0), (E0 + 60, "g", {}, 2.0)])
    load_recorded(path)
    replacement = write_csv(tmp_path / "new.csv", [(E0, "g", {}, 5.0), (E0 + 60, "g", {}, 6.0), (E0 + 120, "h", {}, 1)])
    os.replace(replacement, path)  # a new inode, grown
    assert query(path, "g", 0, 60)[0].values.tolist() == [5.0, 6.0]
    assert stats(path)["incremental_parses"] == 0
    with open(path, "r+b") as handle:  # shrunk in place
        handle.truncate(len(HEADER) + len(csv_lines([(E0, "g", {}, 5.0)])))
    assert query(path, "g", 0, 60)[0].values.tolist() == [5.0, 5.0]
    assert load_recorded(path).sample_count == 1


def test_a_file_without_a_final_newline_is_read_whole_and_parsed_again_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(f"{HEADER}{E0},g,,1\n{E0 + 60},g,,2")
    assert query(path, "g", 0, 60)[0].values.tolist() == [1.0, 2.0]
    assert stats(path)["offset"] is None
    append_points(path, [{"timestamp": E0 + 120, "metric": "g", "value": 3}])
    assert query(path, "g", 0, 120)[0].values.tolist() == [1.0, 2.0, 3.0]
    assert stats(path)["offset"] == path.stat().st_size  # ends in a newline now: continued from here on
    append_points(path, [{"timestamp": E0 + 180, "metric": "g", "value": 4}])
    assert query(path, "g", 0, 180)[0].values.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert stats(path)["incremental_parses"] == 1


@pytest.mark.parametrize(
    ("appended", "expected"),
    [
        (f"{E0 + 60},g,,2\n{E0 + 120},g,,abc\n", "line 5, column 'value': 'abc' is not a number"),
        (f"{E0 + 60},g,,2\nyesterday,g,,3\n", "line 5, column 'timestamp': cannot parse timestamp 'yesterday'"),
        (f"{E0 + 60},g,,2\n{E0},g,{{nope,1\n", "line 5, column 'labels': labels are not valid JSON"),
        (f"{E0 + 60},,,2\n", "line 4, column 'metric': missing metric name"),
        (f"{E0 + 60},g,,2\n{E0 + 60},g,,2,5\n", "line 5: CSV parse error: Expected 4 columns, got 5"),
        (f"{E0 + 60},g,,2\n{E0 + 60},g,,nan(1)\n", "line 5, column 'value': 'nan(1)' is not a number"),
    ],
)
def test_bad_appended_rows_are_named_by_their_line_in_the_file(tmp_path: Path, appended: str, expected: str) -> None:
    path = write_csv(tmp_path / "m.csv", [(E0, "g", {}, 1.0), (E0 + 30, "g", {"a": "b"}, 1.0)])
    load_recorded(path)
    append_raw(path, appended)
    with pytest.raises(MetricsError) as incremental:
        load_recorded(path)
    assert incremental.value.kind == "bad_data"
    assert expected in str(incremental.value)
    assert stats(path)["full_parses"] == 1  # reported by the parse of the new part alone
    with pytest.raises(MetricsError) as whole:
        full_parse(path)
    assert str(whole.value) == str(incremental.value)


def test_readers_wait_for_a_writer_holding_the_lock(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", [(E0, "g", {}, 1.0)])
    load_recorded(path)
    done: list[int] = []
    reader = threading.Thread(target=lambda: done.append(load_recorded(path).sample_count))
    with lock_module.locked(path):  # as append_points holds it while writing
        append_raw(path, f"{E0 + 60},g,,2\n{E0 + 120},g,")  # half written
        reader.start()
        reader.join(0.3)
        assert reader.is_alive() and done == []
        append_raw(path, ",3\n")
    reader.join(10)
    assert done == [3]


WRITER = """
import sys
from ops_pipeline.metrics.recorded import append_points
path, worker = sys.argv[1], int(sys.argv[2])
for batch in range(25):
    append_points(path, [
        {"timestamp": 1704067200 + batch * 100 + row, "metric": "g",
         "labels": {"w": str(worker), "b": str(batch), "pad": "x" * 150}, "value": row}
        for row in range(60)
    ])
"""


def test_appends_from_several_processes_do_not_interleave(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(HEADER)
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(worker)], stderr=subprocess.PIPE)
        for worker in range(3)
    ]
    seen = []
    while any(writer.poll() is None for writer in writers):
        seen.append(load_recorded(path).sample_count)  # never half a batch (nor a parse error) meanwhile
    for writer in writers:
        _, error = writer.communicate()
        assert writer.returncode == 0, error.decode()
    assert all(count % 60 == 0 for count in seen)
    lines = path.read_text().splitlines()
    assert lines[0] == HEADER.strip() and len(lines) == 1 + 3 * 25 * 60
    batches = [(row["labels"], row["value"]) for row in csv.DictReader(io.StringIO("\n".join(lines)))]
    for start in range(0, len(batches), 60):  # each batch is 60 adjacent lines of one worker, in order
        chunk = batches[start : start + 60]
        assert len({labels for labels, _ in chunk}) == 1
        assert [float(value) for _, value in chunk] == [float(k) for k in range(60)]
    data = load_recorded(path)
    assert data.sample_count == 3 * 25 * 60 and data.series_count == 3 * 25
    assert_same_data(data, full_parse(path))


def test_a_failed_append_leaves_the_file_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_csv(tmp_path / "m.csv", ROWS)
    before = path.read_bytes()

    def half_then_fail(descriptor: int, payload: bytes) -> None:
        os.write(descriptor, payload[: len(payload) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(append_module, "_write_all", half_then_fail)
    with pytest.raises(OSError, match="No space left"):
        append_points(path, [{"timestamp": T0, "metric": "g", "labels": {"a": "b" * 100}, "value": 1}] * 5)
    assert path.read_bytes() == before


def test_append_points_gives_a_blank_file_its_header(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("\n  \n")
    append_points(path, [{"timestamp": T0, "metric": "g", "value": 1}])
    assert path.read_text() == "timestamp,metric,labels,value\n2024-01-01T00:00:00Z,g,{},1.0\n"


def test_parquet_files_are_parsed_again_when_they_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = count_parses(monkeypatch)
    path = tmp_path / "m.parquet"
    columns: dict[str, list[Any]] = {"timestamp": [E0, E0 + 60], "metric": ["g", "g"], "labels": ["", ""]}
    pq.write_table(pa.table({**columns, "value": [1.0, 2.0]}), path)
    assert query(path, "g", 0, 60)[0].values.tolist() == [1.0, 2.0]
    assert query(path, "g", 0, 60)[0].values.tolist() == [1.0, 2.0]
    assert stats(path)["offset"] is None
    pq.write_table(
        pa.table({name: [*column, column[-1]] for name, column in columns.items()} | {"value": [1, 2, 3.0]}), path
    )
    bump_mtime(path)
    assert query(path, "g", 0, 60)[0].values.tolist() == [1.0, 3.0]
    assert len(parsed) == 2 and stats(path)["incremental_parses"] == 0


def test_text_numbers_read_by_arrow_or_pandas_agree(tmp_path: Path) -> None:
    spellings = ["1", "-2.5", "1e3", "+7", ".5", "5.", "0.1", "1e400", "NaN", "-nan", "+Inf", "-inf", "Infinity"]
    rows = [(E0 + k, "g", {"k": str(k)}, v) for k, v in enumerate(spellings)]
    arrow = write_csv(tmp_path / "arrow.csv", rows)
    pandas = write_csv(tmp_path / "pandas.csv", [*rows, (E0, "g", {"k": "x"}, " 1 ")])  # Arrow refuses blanks
    fast, slow = load_recorded(arrow), load_recorded(pandas)
    assert np.array_equal(fast.values, slow.values[: len(spellings)], equal_nan=True)
    assert np.array_equal(fast.values, np.array([float(v) for v in spellings]), equal_nan=True)
    assert np.array_equal(fast.timestamps, slow.timestamps[: len(spellings)])
