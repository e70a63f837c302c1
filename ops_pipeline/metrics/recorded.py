"""Recorded metrics: samples from a CSV or Parquet file, queried with a selector like a Prometheus range query.

The file has the columns `timestamp`, `metric`, `labels` and `value` (others are ignored), one sample a row:

- `timestamp`: epoch seconds (a number) or ISO-8601 text; ISO text without an offset is taken as UTC. In
  Parquet also a timestamp column.
- `metric`: the metric name, not empty.
- `labels`: a JSON object of string label values (`{"job":"api"}`; an empty cell is no labels). In Parquet
  also a struct or a map of strings. A label with an empty value is no label, as in Prometheus.
- `value`: a number; `NaN`, `+Inf` and `-Inf` are accepted.

Which format is chosen by the suffix: `.csv`, or `.parquet`/`.pq`. A file is parsed once per version (path,
modification time, size, inode) with pyarrow and pandas column operations; per-series work is Python, per-row
work is not. A bad file raises MetricsError(kind="bad_data") naming the file, the first bad row and the column:
for CSV the row is its line in the file (the header is line 1; blank lines and quoted line breaks shift it),
for Parquet its 1-based row number. A missing file is `unreachable`.

`query_range(selector, start, end, step)` resamples each matching series onto the step grid the way a
Prometheus range query does: at each grid timestamp t the value is that of the latest sample with
t - 5 min < sample time <= t (the later row of the file wins between samples with the same time), else NaN.
So the first grid timestamps may take a sample from up to 5 minutes before `start`, as in Prometheus, while
every returned timestamp lies within [start, end]. A series with no sample in reach of any grid timestamp is
left out. The query is an instant-vector selector (see `selector.py`); anything else is `bad_query`.

`append_points(path, rows)` appends validated samples to a CSV file by writing a new copy next to it and
renaming it over the old one, under a lock file, so readers never see half a row.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from ops_pipeline.metrics.selector import LABEL_NAME, METRIC_NAME, SelectorError, parse_selector
from ops_pipeline.metrics.series import MetricSeries, MetricsError, grid
from ops_pipeline.metrics.source import MetricsSource

COLUMNS = ("timestamp", "metric", "labels", "value")
LOOKBACK_S = 300
CSV_SUFFIXES = (".csv",)
PARQUET_SUFFIXES = (".parquet", ".pq")
CACHE_SIZE = 8
NAN_SPELLINGS = frozenset({"nan", "+nan", "-nan"})


@dataclass(frozen=True)
class RecordedSeries:
    """All samples of a file, grouped: series i owns timestamps/values[offsets[i]:offsets[i+1]], time-sorted."""

    metrics: tuple[str, ...]
    labels: tuple[tuple[tuple[str, str], ...], ...]
    offsets: np.ndarray
    timestamps: np.ndarray  # float64 epoch seconds
    values: np.ndarray  # float64
    by_metric: Mapping[str, tuple[int, ...]]

    @property
    def series_count(self) -> int:
        return len(self.metrics)

    @property
    def sample_count(self) -> int:
        return int(self.timestamps.size)


_cache: OrderedDict[str, tuple[tuple[int, int, int], RecordedSeries]] = OrderedDict()
_cache_lock = threading.Lock()


def _file_kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    raise ValueError(f"recorded metrics file {str(path)!r} must end in .csv, .parquet or .pq")


def load_recorded(path: str | Path) -> RecordedSeries:
    """The parsed file, from the cache when the file has not changed since it was last parsed."""
    resolved = Path(path).expanduser().resolve()
    kind = _file_kind(resolved)
    try:
        stat = resolved.stat()
    except FileNotFoundError:
        raise MetricsError("unreachable", f"recorded metrics file {str(resolved)!r} does not exist") from None
    except OSError as error:
        raise MetricsError("unreachable", f"cannot read recorded metrics file {str(resolved)!r}: {error}") from None
    version = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    key = str(resolved)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] == version:
            _cache.move_to_end(key)
            return cached[1]
        loaded = _parse_file(resolved, kind)
        _cache[key] = (version, loaded)
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
        return loaded


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


class _FileReader:
    """Turns the four columns of one file into arrays, raising bad_data that names file, row and column."""

    def __init__(self, path: Path, kind: str) -> None:
        self.path = path
        self.kind = kind

    def bad(self, detail: str, row: int | None = None, column: str | None = None) -> MetricsError:
        where = []
        if row is not None:
            where.append(f"line {row + 2}" if self.kind == "csv" else f"row {row + 1}")
        if column is not None:
            where.append(f"column {column!r}")
        location = (", ".join(where) + ": ") if where else ""
        return MetricsError("bad_data", f"{str(self.path)!r}: {location}{detail}")

    def read_table(self) -> pa.Table:
        try:
            if self.kind == "csv":
                with open(self.path, newline="", encoding="utf-8-sig") as handle:
                    self.check_columns(next(csv.reader(handle), []))
                try:
                    return self.read_csv(use_threads=True)
                except pa.ArrowInvalid:
                    self.read_csv(use_threads=False)  # slower, but its errors carry the row number
                    raise
            self.check_columns(pq.read_schema(self.path).names)
            return pq.read_table(self.path, columns=list(COLUMNS))
        except MetricsError:
            raise
        except (pa.ArrowException, OSError, ValueError, csv.Error) as error:
            message = str(error)
            found = re.search(r"Row #(\d+): ", message)
            if found:
                where = "line" if self.kind == "csv" else "row"
                raise self.bad(f"{where} {found.group(1)}: {message.replace(found.group(0), '')}") from None
            raise self.bad(f"cannot read it as {self.kind.upper()}: {message}") from None

    def read_csv(self, *, use_threads: bool) -> pa.Table:
        """The four columns as text. Parse errors read `CSV parse error: Row #N: ...` when single-threaded,
        N counting the header as 1 like the line numbers in this module's messages."""
        return pa_csv.read_csv(
            self.path,
            read_options=pa_csv.ReadOptions(use_threads=use_threads),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                include_columns=list(COLUMNS),
                column_types={name: pa.string() for name in COLUMNS},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )

    def check_columns(self, names: list[str]) -> None:
        missing = [name for name in COLUMNS if name not in names]
        if missing:
            raise self.bad(
                f"missing column{'s' if len(missing) > 1 else ''} {', '.join(repr(m) for m in missing)} "
                f"(the file has {', '.join(repr(n) for n in names) or 'no columns'}; "
                f"expected {', '.join(COLUMNS)})"
            )

    def first(self, mask: np.ndarray) -> int:
        return int(np.flatnonzero(mask)[0])

    def strings(self, column: pa.ChunkedArray, name: str) -> pd.Series:
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            raise self.bad(f"expected text, found {column.type}", column=name)
        return column.to_pandas()

    def timestamps(self, column: pa.ChunkedArray) -> np.ndarray:
        name = "timestamp"
        kind = column.type
        if pa.types.is_timestamp(kind):
            nulls = column.is_null().to_numpy(zero_copy_only=False)
            if nulls.any():
                raise self.bad("missing timestamp", self.first(nulls), name)
            scale = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}[kind.unit]
            raw = pc.cast(column, pa.timestamp(kind.unit)).cast(pa.int64()).to_numpy()
            return np.asarray(raw, dtype=np.float64) / scale
        if pa.types.is_integer(kind) or pa.types.is_floating(kind):
            seconds = np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
            bad = ~np.isfinite(seconds)
            if bad.any():
                raise self.bad("missing or non-finite epoch seconds", self.first(bad), name)
            return seconds
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            raise self.bad(f"expected epoch seconds, ISO-8601 text or a timestamp type, found {kind}", column=name)
        text = column.to_pandas().fillna("")
        seconds = np.array(pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan))
        textual = np.isnan(seconds)
        if textual.any():
            parsed = pd.to_datetime(text[textual], format="ISO8601", utc=True, errors="coerce")
            unparsable = parsed.isna().to_numpy()
            if unparsable.any():
                row = int(np.flatnonzero(textual)[self.first(unparsable)])
                raise self.bad(
                    f"cannot parse timestamp {text.iloc[row]!r} (expected epoch seconds or ISO-8601)", row, name
                )
            nanos = parsed.dt.as_unit("ns").astype("int64").to_numpy()
            seconds[textual] = nanos / 1e9
        bad = ~np.isfinite(seconds)
        if bad.any():
            row = self.first(bad)
            raise self.bad(f"timestamp {text.iloc[row]!r} is not a finite number", row, name)
        return seconds

    def values(self, column: pa.ChunkedArray) -> np.ndarray:
        name = "value"
        kind = column.type
        if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
            nulls = column.is_null().to_numpy(zero_copy_only=False)
            if nulls.any():
                raise self.bad("missing value", self.first(nulls), name)
            return np.asarray(pc.cast(column, pa.float64()).to_numpy(), dtype=np.float64)
        text = self.strings(column, name).fillna("")
        numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        maybe_bad = np.isnan(numbers)
        if maybe_bad.any():
            spelled = text[maybe_bad].str.strip().str.lower().isin(NAN_SPELLINGS).to_numpy()
            if not spelled.all():
                row = int(np.flatnonzero(maybe_bad)[self.first(~spelled)])
                raise self.bad(f"{text.iloc[row]!r} is not a number", row, name)
        return numbers

    def metrics(self, column: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
        name = "metric"
        text = self.strings(column, name).fillna("")
        empty = (text.str.strip() == "").to_numpy()
        if empty.any():
            raise self.bad("missing metric name", self.first(empty), name)
        codes, uniques = pd.factorize(text, sort=False)
        return np.asarray(codes, dtype=np.int64), [str(u) for u in uniques]

    def labels(self, column: pa.ChunkedArray) -> tuple[np.ndarray, list[tuple[tuple[str, str], ...]]]:
        """Per row a code, and per code the canonical sorted labels; equal label sets share one code."""
        name = "labels"
        kind = column.type
        array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        representative: Callable[[str, int], Any]
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            keys = pc.fill_null(array, "")
            representative = self.json_labels
        elif pa.types.is_struct(kind):
            keys = self.struct_keys(array)
            representative = self.struct_labels(array)
        elif pa.types.is_map(kind):
            keys = self.map_keys(array)
            representative = self.map_labels(array)
        else:
            raise self.bad(f"expected a JSON object as text, a struct or a map, found {kind}", column=name)
        encoded = pc.dictionary_encode(keys)
        raw_codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        dictionary = encoded.dictionary.to_pylist()
        _, first_rows = np.unique(raw_codes, return_index=True)
        canonical: dict[tuple[tuple[str, str], ...], int] = {}
        remap = np.empty(len(dictionary), dtype=np.int64)
        for code, row in enumerate(first_rows):
            labels = self.check_labels(representative(dictionary[code], int(row)), int(row))
            remap[code] = canonical.setdefault(labels, len(canonical))
        codes = remap[raw_codes] if raw_codes.size else raw_codes
        return codes, list(canonical)

    def check_labels(self, raw: Any, row: int) -> tuple[tuple[str, str], ...]:
        name = "labels"
        if not isinstance(raw, dict):
            raise self.bad(f"labels must be a JSON object, got {type(raw).__name__}", row, name)
        labels: list[tuple[str, str]] = []
        for label, value in raw.items():
            if not isinstance(label, str) or not LABEL_NAME.fullmatch(label):
                raise self.bad(f"invalid label name {label!r}", row, name)
            if label == "__name__":
                raise self.bad("`__name__` goes in the metric column, not in the labels", row, name)
            if value is None:
                continue
            if not isinstance(value, str):
                raise self.bad(f"label {label!r} has a {type(value).__name__} value; label values are text", row, name)
            if value:
                labels.append((label, value))
        return tuple(sorted(labels))

    def json_labels(self, text: str, row: int) -> Any:
        if not text.strip():
            return {}
        try:
            return json.loads(text)
        except ValueError as error:
            raise self.bad(f"labels are not valid JSON ({error}): {text[:120]!r}", row, "labels") from None

    def struct_keys(self, array: pa.StructArray) -> pa.Array:
        parts = []
        children = array.flatten()  # unlike .field(i), honours slicing and the struct's own nulls
        for index in range(array.type.num_fields):
            field = array.type.field(index)
            child = pc.cast(children[index], pa.string()) if pa.types.is_large_string(field.type) else children[index]
            if not (pa.types.is_string(field.type) or pa.types.is_large_string(field.type)):
                raise self.bad(f"label {field.name!r} is {field.type}; label values are text", column="labels")
            pair = pc.binary_join_element_wise(field.name, child, "\x01", null_handling="emit_null")
            parts.append(pc.fill_null(pair, ""))  # fixed field order: empty parts keep the key canonical
        if not parts:
            return pa.array([""] * len(array), type=pa.string())
        joined = pc.binary_join_element_wise(*parts, "\x00")
        return pc.if_else(array.is_null(), "", joined)

    def struct_labels(self, array: pa.StructArray) -> Callable[[str, int], Any]:
        return lambda _key, row: array[row].as_py() or {}

    def map_keys(self, array: pa.MapArray) -> pa.Array:
        map_type = array.type
        for what, part in (("keys", map_type.key_type), ("values", map_type.item_type)):
            if not (pa.types.is_string(part) or pa.types.is_large_string(part)):
                raise self.bad(f"label map {what} are {part}; expected text", column="labels")
        # As a list of (key, value) structs: list kernels understand that, and it honours slicing.
        as_lists = array.cast(pa.list_(pa.struct([("key", pa.string()), ("value", pa.string())])))
        keys, items = pc.list_flatten(as_lists).flatten()
        pairs = pc.binary_join_element_wise(keys, pc.fill_null(items, ""), "\x01")
        parents = np.asarray(pc.list_parent_indices(as_lists).to_numpy(zero_copy_only=False), dtype=np.int64)
        counts = np.bincount(parents, minlength=len(array))
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
        lists = pa.ListArray.from_arrays(pa.array(offsets, type=pa.int32()), pairs)
        return pc.binary_join(lists, "\x00")

    def map_labels(self, array: pa.MapArray) -> Callable[[str, int], Any]:
        def parse(_key: str, row: int) -> Any:
            pairs = array[row].as_py() or []
            labels: dict[str, Any] = {}
            for label, value in pairs:
                if label in labels:
                    raise self.bad(f"label {label!r} appears twice", row, "labels")
                labels[label] = value
            return labels

        return parse


def _parse_file(path: Path, kind: str) -> RecordedSeries:
    reader = _FileReader(path, kind)
    table = reader.read_table()
    timestamps = reader.timestamps(table.column("timestamp"))
    values = reader.values(table.column("value"))
    metric_codes, metric_names = reader.metrics(table.column("metric"))
    label_codes, label_sets = reader.labels(table.column("labels"))
    combined = metric_codes * max(len(label_sets), 1) + label_codes
    series_codes, uniques = pd.factorize(combined, sort=False)
    series_codes = np.asarray(series_codes, dtype=np.int64)
    order = np.lexsort((timestamps, series_codes))  # stable: equal times keep file order
    counts = np.bincount(series_codes, minlength=len(uniques))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    metrics: list[str] = []
    labels: list[tuple[tuple[str, str], ...]] = []
    by_metric: dict[str, list[int]] = {}
    divisor = max(len(label_sets), 1)
    for index, code in enumerate(np.asarray(uniques, dtype=np.int64)):
        metric = metric_names[int(code) // divisor]
        metrics.append(metric)
        labels.append(label_sets[int(code) % divisor])
        by_metric.setdefault(metric, []).append(index)
    sorted_times = timestamps[order]
    sorted_values = values[order]
    for array in (offsets, sorted_times, sorted_values):
        array.setflags(write=False)
    return RecordedSeries(
        metrics=tuple(metrics),
        labels=tuple(labels),
        offsets=offsets,
        timestamps=sorted_times,
        values=sorted_values,
        by_metric={metric: tuple(ids) for metric, ids in by_metric.items()},
    )


def resample(
    times: np.ndarray, values: np.ndarray, grid_times: np.ndarray, lookback_s: float = LOOKBACK_S
) -> tuple[np.ndarray, np.ndarray]:
    """Prometheus-style instant values at `grid_times` from time-sorted samples: (values, which grid points had one).

    At t: the latest sample with t - lookback < time <= t; NaN and False where there is none.
    """
    index = np.searchsorted(times, grid_times, side="right") - 1
    safe = np.clip(index, 0, None)
    hit = (index >= 0) & (grid_times - times[safe] < lookback_s) if times.size else np.zeros(grid_times.size, bool)
    out = np.full(grid_times.size, np.nan, dtype=np.float64)
    if times.size:
        out[hit] = values[safe[hit]]
    return out, hit


class RecordedMetricsSource(MetricsSource):
    """Samples recorded in a CSV or Parquet file (see the module docstring for the format and the semantics)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        _file_kind(self.path)

    def describe(self) -> str:
        return f"recorded metrics {str(self.path)!r}"

    def __repr__(self) -> str:
        return f"RecordedMetricsSource({str(self.path)!r})"

    def load(self) -> RecordedSeries:
        return load_recorded(self.path)

    def _query_range(self, query: str, start: int, end: int, step: int) -> list[MetricSeries]:
        try:
            selector = parse_selector(query)
        except SelectorError as error:
            raise MetricsError("bad_query", str(error), source=self.describe()) from None
        data = self.load()
        candidates: Iterable[int] = (
            data.by_metric.get(selector.metric, ()) if selector.metric is not None else range(data.series_count)
        )
        grid_times = grid(start, end, step)
        result: list[MetricSeries] = []
        for index in candidates:
            metric, labels = data.metrics[index], data.labels[index]
            if not selector.matches(metric, dict(labels)):
                continue
            low, high = int(data.offsets[index]), int(data.offsets[index + 1])
            times = data.timestamps[low:high]
            first = int(np.searchsorted(times, start - LOOKBACK_S, side="right"))
            last = int(np.searchsorted(times, end, side="right"))
            values, hit = resample(times[first:last], data.values[low:high][first:last], grid_times)
            if hit.any():
                result.append(MetricSeries(metric, labels, grid_times, values))
        result.sort(key=lambda series: series.series_key)
        return result


# -- appending ----------------------------------------------------------------------------------------------


def _format_value(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _format_timestamp(raw: Any, where: str) -> str:
    if isinstance(raw, bool):
        raise ValueError(f"{where}: timestamp must be a datetime, epoch seconds or ISO-8601 text, not a bool")
    if isinstance(raw, int | float):
        if not math.isfinite(raw):
            raise ValueError(f"{where}: timestamp {raw!r} is not finite")
        return repr(raw)
    if isinstance(raw, str):
        try:
            raw = datetime.fromisoformat(raw.strip())
        except ValueError:
            raise ValueError(f"{where}: timestamp {raw!r} is not ISO-8601") from None
    if isinstance(raw, datetime):
        if raw.tzinfo is None or raw.utcoffset() is None:
            raise ValueError(f"{where}: timestamp {raw.isoformat()!r} has no timezone (add Z or +00:00)")
        return raw.astimezone(UTC).isoformat().replace("+00:00", "Z")
    raise ValueError(f"{where}: timestamp must be a datetime, epoch seconds or ISO-8601 text, not {type(raw).__name__}")


def _format_row(row: Mapping[str, Any], number: int) -> dict[str, str]:
    where = f"row {number}"
    if not isinstance(row, Mapping):
        raise ValueError(f"{where}: expected a mapping with timestamp, metric, labels, value; got {type(row).__name__}")
    unknown = sorted(set(row) - set(COLUMNS))
    if unknown:
        raise ValueError(f"{where}: unknown field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}")
    for required in ("timestamp", "metric", "value"):
        if required not in row:
            raise ValueError(f"{where}: missing {required!r}")
    metric = row["metric"]
    if not isinstance(metric, str) or not METRIC_NAME.fullmatch(metric):
        raise ValueError(f"{where}: metric {metric!r} is not a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)")
    labels = row.get("labels") or {}
    if not isinstance(labels, Mapping):
        raise ValueError(f"{where}: labels must be a mapping of label name to text, got {type(labels).__name__}")
    for label, label_value in labels.items():
        if not isinstance(label, str) or not LABEL_NAME.fullmatch(label) or label == "__name__":
            raise ValueError(f"{where}: invalid label name {label!r}")
        if not isinstance(label_value, str):
            raise ValueError(f"{where}: label {label!r} must be text, got {type(label_value).__name__}")
    value = row["value"]
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{where}: value must be a number, got {type(value).__name__}")
    try:
        number_value = float(value)
    except ValueError:
        raise ValueError(f"{where}: value {value!r} is not a number") from None
    return {
        "timestamp": _format_timestamp(row["timestamp"], where),
        "metric": metric,
        "labels": json.dumps(dict(sorted(labels.items())), separators=(",", ":"), ensure_ascii=False),
        "value": _format_value(number_value),
    }


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    import fcntl

    lock_path = path.with_name(f".{path.name}.lock")
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def append_points(path: str | Path, rows: Iterable[Mapping[str, Any]]) -> int:
    """Append samples to the CSV file at `path` (created with a header when missing); return how many.

    Each row is a mapping with `timestamp` (an aware datetime, epoch seconds, or ISO-8601 text with an offset),
    `metric` (a valid metric name), `labels` (a mapping of label name to text; optional) and `value` (a number
    or numeric text such as "NaN"). All rows are validated before anything is written (ValueError naming the
    1-based row and the field); the file is then rewritten to a temporary file beside it and renamed over it.
    """
    target = Path(path)
    if target.suffix.lower() not in CSV_SUFFIXES:
        raise ValueError(f"append_points writes CSV files only; {str(target)!r} does not end in .csv")
    formatted = [_format_row(row, number) for number, row in enumerate(rows, start=1)]
    if not formatted:
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target):
        existing = target.read_bytes() if target.exists() else b""
        header: list[str] = list(COLUMNS)
        if existing.strip():
            first_line = existing.decode("utf-8", errors="replace").splitlines()[0]
            header = next(csv.reader([first_line]))
            missing = [name for name in COLUMNS if name not in header]
            if missing:
                raise MetricsError(
                    "bad_data", f"{str(target)!r}: line 1: the header lacks {', '.join(missing)}; not appending"
                )
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=header, restval="", lineterminator="\n")
        if not existing.strip():
            existing = b""
            writer.writeheader()
        elif not existing.endswith(b"\n"):
            existing += b"\n"
        writer.writerows(formatted)
        descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(existing)
                handle.write(buffer.getvalue().encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
            if target.exists():
                os.chmod(temporary, target.stat().st_mode & 0o7777)
            else:
                os.chmod(temporary, 0o644)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return len(formatted)
