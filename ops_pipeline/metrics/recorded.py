"""Recorded metrics: samples from a CSV or Parquet file, queried with a selector like a Prometheus range query.

The file has the columns `timestamp`, `metric`, `labels` and `value` (others are ignored), one sample a row:

- `timestamp`: epoch seconds (a number) or ISO-8601 text; ISO text without an offset is taken as UTC. In
  Parquet also a timestamp column.
- `metric`: the metric name, not empty.
- `labels`: a JSON object of string label values (`{"job":"api"}`; an empty cell is no labels). In Parquet
  also a struct or a map of strings. A label with an empty value is no label, as in Prometheus.
- `value`: a number; `NaN`, `+Inf` and `-Inf` are accepted.

Which format is chosen by the suffix: `.csv`, or `.parquet`/`.pq`. A file is parsed with pyarrow and pandas
column operations (numbers through Arrow's parser first, pandas only for text it refuses such as ISO
timestamps); per-series work is Python, per-row work is not. A bad file raises MetricsError(kind="bad_data")
naming the file, the first bad row and the column: for CSV the row is its line in the file (the header is line
1; blank lines and quoted line breaks shift it), for Parquet its 1-based row number. A missing file is
`unreachable`.

Parsed files are cached by path with their version (device, inode, size, modification time). A Parquet file
that changed is parsed again. A CSV file is read incrementally: the cache remembers the byte offset just past
the last complete record it parsed, and when the file has grown under the same inode only the bytes from there
up to the last complete record are parsed, and their samples merged into the cached ones with the same
ordering as a full parse (so also the same "later row wins" rule and the same error line numbers). A trailing
line without its newline (or a record whose quoted value is still open) is left for a later read. Growth is
trusted to be an append only if the first 64 KiB of the file and the 64 KiB before the offset are byte for byte
what they were; any other change (another inode, a file that shrank or kept its size but has a new
modification time, changed bytes in those regions) re-parses the whole file. A writer that rewrites the file in
place, grows it and leaves both regions untouched would go unnoticed: writers must append, or replace the file
(rename a new one over it). A full parse of a file whose last record has no newline is not continued
incrementally: its next change re-parses it all.

`query_range(selector, start, end, step)` resamples each matching series onto the step grid the way a
Prometheus range query does: at each grid timestamp t the value is that of the latest sample with
t - 5 min < sample time <= t (the later row of the file wins between samples with the same time), else NaN.
So the first grid timestamps may take a sample from up to 5 minutes before `start`, as in Prometheus, while
every returned timestamp lies within [start, end]. A series with no sample in reach of any grid timestamp is
left out. The query is an instant-vector selector (see `selector.py`); anything else is `bad_query`.

`append_points(path, rows)` appends validated samples to a CSV file: whole lines in one append (O_APPEND),
fsync'ed, under an exclusive lock on a lock file beside it (`.<name>.lock`). Readers hold that lock shared while
they read the file's bytes, so they never see half a row from it.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
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
CHECK_BYTES = 64 * 1024  # how much of the head of a CSV file, and of what precedes its offset, must be unchanged
THREADED_CSV_BYTES = 1 << 20  # smaller CSV text is parsed on one thread

Version = tuple[int, int, int, int]  # st_dev, st_ino, st_size, st_mtime_ns


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


SeriesKey = tuple[str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class _CsvResume:
    """Where an incremental read of a CSV file resumes, and what must be unchanged before it."""

    offset: int  # the byte just past the last complete record parsed
    rows: int  # the records (not counting the header) before `offset`
    header: bytes  # the header record with its newline: put before each new part so pyarrow names columns alike
    checks: tuple[tuple[int, bytes], ...]  # (position, bytes) regions before `offset` that must not change


@dataclass(frozen=True)
class _Entry:
    """A parsed file as cached: its version when read, the samples, and for CSV how to continue."""

    version: Version
    data: RecordedSeries
    resume: _CsvResume | None = None  # None: Parquet, or a CSV a change of which is re-parsed in full
    series_ids: dict[SeriesKey, int] | None = field(default=None, compare=False)  # built on the first extension


@dataclass
class _Stats:
    full_parses: int = 0
    incremental_parses: int = 0  # reads that parsed new records (not those that found none)
    last_parsed_bytes: int = 0  # file bytes handed to the parser by the last parse (the header prefix not counted)


_cache: OrderedDict[str, _Entry] = OrderedDict()
_stats: dict[str, _Stats] = {}
_cache_lock = threading.Lock()


def _file_kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    raise ValueError(f"recorded metrics file {str(path)!r} must end in .csv, .parquet or .pq")


def _unreachable(path: Path, error: OSError) -> MetricsError:
    if isinstance(error, FileNotFoundError):
        return MetricsError("unreachable", f"recorded metrics file {str(path)!r} does not exist")
    return MetricsError("unreachable", f"cannot read recorded metrics file {str(path)!r}: {error}")


def _version(stat: os.stat_result) -> Version:
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


def load_recorded(path: str | Path) -> RecordedSeries:
    """The parsed file: from the cache when the file has not changed since it was last read, extended with the
    new records when a CSV file was appended to, else parsed in full (see the module docstring)."""
    resolved = Path(path).expanduser().resolve()
    kind = _file_kind(resolved)
    try:
        version = _version(resolved.stat())
    except OSError as error:
        raise _unreachable(resolved, error) from None
    key = str(resolved)
    with _cache_lock:
        cached = _cache.get(key)
        stats = _stats.setdefault(key, _Stats())
        if cached is not None and cached.version == version:
            _cache.move_to_end(key)
            return cached.data
        entry: _Entry | None = None
        if cached is not None and cached.resume is not None and _may_be_appended(cached.version, version):
            entry = _extend(resolved, cached, stats)
        if entry is None:
            entry = _parse_file(resolved, kind)
            stats.full_parses += 1
            stats.last_parsed_bytes = entry.version[2] if kind == "csv" else 0
        _cache[key] = entry
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            evicted, _ = _cache.popitem(last=False)
            _stats.pop(evicted, None)
        return entry.data


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()
        _stats.clear()


def _cache_stats(path: str | Path) -> dict[str, Any]:
    """For tests and diagnostics: how the cached `path` was read (parse counts since it entered the cache, the
    bytes the last parse handed to the parser) and, for a CSV file that can be continued, its offset and rows."""
    key = str(Path(path).expanduser().resolve())
    with _cache_lock:
        entry = _cache.get(key)
        stats = _stats.get(key, _Stats())
        resume = entry.resume if entry is not None else None
        return {
            "cached": entry is not None,
            "full_parses": stats.full_parses,
            "incremental_parses": stats.incremental_parses,
            "last_parsed_bytes": stats.last_parsed_bytes,
            "offset": resume.offset if resume is not None else None,
            "rows": resume.rows if resume is not None else None,
            "samples": entry.data.sample_count if entry is not None else None,
        }


class _FileReader:
    """Turns the four columns of one file into arrays, raising bad_data that names file, row and column.

    For CSV the text may be a later part of the file (after the header put before it): `row_base` is the number
    of records before that part, so rows are still named by their line in the whole file.
    """

    def __init__(self, path: Path, kind: str, row_base: int = 0) -> None:
        self.path = path
        self.kind = kind
        self.row_base = row_base

    def bad(self, detail: str, row: int | None = None, column: str | None = None) -> MetricsError:
        where = []
        if row is not None:
            row += self.row_base
            where.append(f"line {row + 2}" if self.kind == "csv" else f"row {row + 1}")
        if column is not None:
            where.append(f"column {column!r}")
        location = (", ".join(where) + ": ") if where else ""
        return MetricsError("bad_data", f"{str(self.path)!r}: {location}{detail}")

    def read_table(self, text: bytes | None = None, *, check_header: bool = True) -> pa.Table:
        """The four columns: of the Parquet file, or of the CSV `text` (the file's bytes, or its header and a
        later part of it)."""
        try:
            if self.kind == "csv":
                if text is None:
                    raise ValueError("CSV is read from its bytes")
                if check_header:
                    self.check_columns(_header_names(text))
                source = pa.py_buffer(text)
                try:
                    return self.read_csv(source, use_threads=len(text) >= THREADED_CSV_BYTES)
                except pa.ArrowInvalid:
                    self.read_csv(source, use_threads=False)  # slower, but its errors carry the row number
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
                number = int(found.group(1)) + self.row_base
                raise self.bad(f"{where} {number}: {message.replace(found.group(0), '')}") from None
            raise self.bad(f"cannot read it as {self.kind.upper()}: {message}") from None

    def read_csv(self, source: pa.Buffer, *, use_threads: bool) -> pa.Table:
        """The four columns as text. Parse errors read `CSV parse error: Row #N: ...` when single-threaded,
        N counting the header as 1 like the line numbers in this module's messages."""
        return pa_csv.read_csv(
            pa.BufferReader(source),
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
        self.check_text(column, name)
        return column.to_pandas()

    def check_text(self, column: pa.ChunkedArray, name: str) -> None:
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            raise self.bad(f"expected text, found {column.type}", column=name)

    def fast_numbers(self, column: pa.ChunkedArray) -> np.ndarray | None:
        """Text cells as float64 through Arrow's (correctly rounded) parser, several times faster than pandas;
        None when a cell is missing or is not a plain number (surrounding blanks, ISO text, an empty cell...):
        then the caller's pandas path decides, and names the bad row."""
        if column.null_count:
            return None
        try:
            cast = pc.cast(column, pa.float64())
        except pa.ArrowInvalid:
            return None
        return np.asarray(cast.to_numpy(), dtype=np.float64)

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
        fast = self.fast_numbers(column)
        if fast is not None and np.isfinite(fast).all():
            return fast
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
        self.check_text(column, name)
        fast = self.fast_numbers(column)
        if fast is not None:
            nan = np.isnan(fast)
            if not nan.any():
                return fast
            # Arrow reads more than the NaN spellings this module accepts (e.g. "nan(1)"): check those cells.
            spelled = pc.utf8_lower(pc.utf8_trim_whitespace(column.take(pa.array(np.flatnonzero(nan)))))
            if pc.all(pc.is_in(spelled, value_set=pa.array(sorted(NAN_SPELLINGS)))).as_py():
                return fast
        text = self.strings(column, name).fillna("")
        numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        maybe_bad = np.isnan(numbers)
        if maybe_bad.any():
            spelled_nan = text[maybe_bad].str.strip().str.lower().isin(NAN_SPELLINGS).to_numpy()
            if not spelled_nan.all():
                row = int(np.flatnonzero(maybe_bad)[self.first(~spelled_nan)])
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


# -- parsing a whole file, and continuing a CSV file ----------------------------------------------------------


@dataclass(frozen=True)
class _Columns:
    """The rows of a table as arrays: per row its time, value and series code; per code its (metric, labels)."""

    timestamps: np.ndarray
    values: np.ndarray
    series_codes: np.ndarray  # int64, numbered in order of first appearance
    keys: list[SeriesKey]


def _columns(reader: _FileReader, table: pa.Table) -> _Columns:
    timestamps = reader.timestamps(table.column("timestamp"))
    values = reader.values(table.column("value"))
    metric_codes, metric_names = reader.metrics(table.column("metric"))
    label_codes, label_sets = reader.labels(table.column("labels"))
    divisor = max(len(label_sets), 1)
    series_codes, uniques = pd.factorize(metric_codes * divisor + label_codes, sort=False)
    keys = [
        (metric_names[int(code) // divisor], label_sets[int(code) % divisor])
        for code in np.asarray(uniques, dtype=np.int64)
    ]
    return _Columns(timestamps, values, np.asarray(series_codes, dtype=np.int64), keys)


def _frozen(*arrays: np.ndarray) -> None:
    for array in arrays:
        array.setflags(write=False)


def _group(columns: _Columns) -> RecordedSeries:
    order = np.lexsort((columns.timestamps, columns.series_codes))  # stable: equal times keep file order
    counts = np.bincount(columns.series_codes, minlength=len(columns.keys))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    by_metric: dict[str, list[int]] = {}
    for index, (metric, _) in enumerate(columns.keys):
        by_metric.setdefault(metric, []).append(index)
    sorted_times = columns.timestamps[order]
    sorted_values = columns.values[order]
    _frozen(offsets, sorted_times, sorted_values)
    return RecordedSeries(
        metrics=tuple(metric for metric, _ in columns.keys),
        labels=tuple(labels for _, labels in columns.keys),
        offsets=offsets,
        timestamps=sorted_times,
        values=sorted_values,
        by_metric={metric: tuple(ids) for metric, ids in by_metric.items()},
    )


def _parse_file(path: Path, kind: str) -> _Entry:
    """A full parse. CSV bytes are read in one go under the shared lock (see `append_points`), then parsed."""
    if kind == "parquet":
        try:
            version = _version(path.stat())
        except OSError as error:
            raise _unreachable(path, error) from None
        reader = _FileReader(path, kind)
        return _Entry(version, _group(_columns(reader, reader.read_table())))
    try:
        with _locked(path, shared=True), open(path, "rb") as handle:
            stat = os.fstat(handle.fileno())
            text = handle.read()
    except OSError as error:
        raise _unreachable(path, error) from None
    reader = _FileReader(path, kind)
    table = reader.read_table(text)
    data = _group(_columns(reader, table))
    version = _version(stat)
    return _Entry(version, data, _resume_after_full_parse(text, table.num_rows, version))


def _resume_after_full_parse(text: bytes, rows: int, version: Version) -> _CsvResume | None:
    """Where to continue `text` (a whole file), if its end is the end of a record; else None."""
    if len(text) != version[2] or not text.endswith(b"\n") or text.count(b'"') % 2:
        return None  # no final newline, an open quote (half a record?), or the file changed while read
    header_end = _first_record_end(text)
    if header_end is None:
        return None
    return _CsvResume(len(text), rows, text[:header_end], _checks(lambda at, size: text[at : at + size], len(text)))


def _checks(read: Callable[[int, int], bytes], offset: int) -> tuple[tuple[int, bytes], ...]:
    """The regions before `offset` an extension verifies: the head of the file and what precedes `offset`.
    `read(position, size)` gives the file's bytes."""
    if offset <= CHECK_BYTES:
        return ((0, read(0, offset)),)
    return ((0, read(0, CHECK_BYTES)), (offset - CHECK_BYTES, read(offset - CHECK_BYTES, CHECK_BYTES)))


def _header_names(text: bytes) -> list[str]:
    """The names in the first record of CSV `text` (with a UTF-8 byte order mark or not)."""
    end = _first_record_end(text)
    head = text[:end] if end is not None else text[: 1 << 20]
    return next(csv.reader(io.StringIO(head.decode("utf-8-sig", errors="strict" if end else "replace"))), [])


def _first_record_end(text: bytes) -> int | None:
    """Just past the newline ending the first record of `text` (quoted newlines are inside it), or None."""
    start, quotes = 0, 0
    while True:
        newline = text.find(b"\n", start)
        if newline < 0:
            return None
        quotes += text.count(b'"', start, newline)
        if quotes % 2 == 0:
            return newline + 1
        start = newline + 1


# A CSV record as pyarrow's parser reads it (comma, double quote, doubled quotes inside quotes, a quote only
# opening a quoted field at the start of a field), ended by a newline. Possessive: a quote pair never closes.
_FIELD = rb'(?:"[^"]*+(?:""[^"]*+)*+"[^,\r\n]*+|(?!")[^,\r\n]*+)'
_RECORD = re.compile(_FIELD + rb"(?:," + _FIELD + rb")*(?:\r\n|\n|\r)")


def _complete_records(text: bytes) -> int:
    """How many bytes at the start of `text` (which starts at a record boundary) are complete records: up to
    the last newline that is not inside a quoted field. Bytes after it (a line still without its newline, a
    quoted value still open) are left for a later read."""
    end = text.rfind(b"\n") + 1
    if end == 0 or text.count(b'"', 0, end) % 2 == 0:
        return end  # with quotes paired the last newline ends a record (the usual case, and cheap)
    # An open quote: half a record with a quoted line break, or a stray quote inside an unquoted field (which
    # pyarrow reads as a character). Walk the records as pyarrow does to tell them apart.
    position, complete = 0, 0
    while position < end:
        found = _RECORD.match(text, position)
        if found is None or found.end() > end:
            break
        position = found.end()
        if text[position - 1 : position] == b"\n":
            complete = position
    return complete


def _pread(descriptor: int, offset: int, size: int) -> bytes:
    parts: list[bytes] = []
    while size > 0:
        chunk = os.pread(descriptor, size, offset)
        if not chunk:
            break
        parts.append(chunk)
        offset += len(chunk)
        size -= len(chunk)
    return b"".join(parts)


def _may_be_appended(old: Version, new: Version) -> bool:
    """Whether the change from `old` to `new` can be an append: same file, and it grew."""
    return new[:2] == old[:2] and new[2] > old[2]


def _extend(path: Path, entry: _Entry, stats: _Stats) -> _Entry | None:
    """`entry` continued with the records appended to its CSV file since; None when the file was not (only)
    appended to, and must be parsed in full."""
    resume = entry.resume
    if resume is None:
        return None
    try:
        with _locked(path, shared=True), open(path, "rb") as handle:
            descriptor = handle.fileno()
            stat = os.fstat(descriptor)
            if not _may_be_appended(entry.version, _version(stat)):
                return None
            for position, expected in resume.checks:
                if _pread(descriptor, position, len(expected)) != expected:
                    return None
            added = _pread(descriptor, resume.offset, stat.st_size - resume.offset)
            if len(added) != stat.st_size - resume.offset:
                return None  # truncated while read
            length = _complete_records(added)
            offset = resume.offset + length
            checks = _checks(lambda at, size: _pread(descriptor, at, size), offset)
    except OSError:
        return None  # the full parse names the problem
    version = _version(stat)
    if length == 0:
        return replace(entry, version=version, resume=replace(resume, checks=checks))
    reader = _FileReader(path, "csv", row_base=resume.rows)
    table = reader.read_table(resume.header + added[:length], check_header=False)
    ids = entry.series_ids if entry.series_ids is not None else _series_ids(entry.data)
    data, ids = _merge(entry.data, ids, _columns(reader, table))
    stats.incremental_parses += 1
    stats.last_parsed_bytes = length
    return _Entry(version, data, _CsvResume(offset, resume.rows + table.num_rows, resume.header, checks), ids)


def _series_ids(data: RecordedSeries) -> dict[SeriesKey, int]:
    return {key: index for index, key in enumerate(zip(data.metrics, data.labels, strict=True))}


def _merge(
    old: RecordedSeries, ids: dict[SeriesKey, int], new: _Columns
) -> tuple[RecordedSeries, dict[SeriesKey, int]]:
    """`old` with the samples of `new` (rows that follow `old`'s in the file), as one parse of both would
    group them: series numbered by first appearance, each time-sorted with the later row after at equal times."""
    added_keys = [key for key in dict.fromkeys(new.keys) if key not in ids]
    if added_keys:
        ids = {**ids, **{key: len(ids) + index for index, key in enumerate(added_keys)}}
    to_series = np.array([ids[key] for key in new.keys], dtype=np.int64)
    codes = to_series[new.series_codes] if new.series_codes.size else new.series_codes
    series_count = old.series_count + len(added_keys)
    old_counts = np.zeros(series_count, dtype=np.int64)
    old_counts[: old.series_count] = np.diff(old.offsets)
    new_counts = np.bincount(codes, minlength=series_count)
    offsets = np.concatenate([[0], np.cumsum(old_counts + new_counts)]).astype(np.int64)

    order = np.lexsort((new.timestamps, codes))  # by series, then time; equal times keep file order
    codes, times, values = codes[order], new.timestamps[order], new.values[order]
    new_starts = np.concatenate([[0], np.cumsum(new_counts)])[:-1]
    rank = np.arange(codes.size, dtype=np.int64) - new_starts[codes]  # among the series' new samples
    # Where each new sample goes among its series' old ones: after those with a time <= its own (the later row
    # wins). Usually after all of them; a series with an earlier new sample is searched.
    position = old_counts[codes].copy()
    old_last = np.full(series_count, -np.inf)
    nonempty = np.flatnonzero(old_counts > 0)
    old_last[nonempty] = old.timestamps[old.offsets[nonempty + 1] - 1]
    for series in np.unique(codes[times < old_last[codes]]).tolist():
        low, high = int(old.offsets[series]), int(old.offsets[series + 1])
        first, last = int(new_starts[series]), int(new_starts[series] + new_counts[series])
        position[first:last] = np.searchsorted(old.timestamps[low:high], times[first:last], side="right")
    destination = offsets[codes] + position + rank
    total = int(offsets[-1])
    keep_old = np.ones(total, dtype=bool)
    keep_old[destination] = False
    merged_times = np.empty(total, dtype=np.float64)
    merged_values = np.empty(total, dtype=np.float64)
    merged_times[keep_old], merged_times[destination] = old.timestamps, times
    merged_values[keep_old], merged_values[destination] = old.values, values
    _frozen(offsets, merged_times, merged_values)
    by_metric = dict(old.by_metric)
    for offset, (metric, _) in enumerate(added_keys):
        by_metric[metric] = (*by_metric.get(metric, ()), old.series_count + offset)
    merged = RecordedSeries(
        metrics=old.metrics + tuple(metric for metric, _ in added_keys),
        labels=old.labels + tuple(labels for _, labels in added_keys),
        offsets=offsets,
        timestamps=merged_times,
        values=merged_values,
        by_metric=by_metric,
    )
    return merged, ids


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
def _locked(path: Path, *, shared: bool = False) -> Iterator[None]:
    """The lock file beside `path` held exclusively (writers) or shared (readers). A reader that can neither
    create nor open the lock file (a read-only directory, no fcntl) reads without it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        if shared:
            yield
            return
        raise
    lock_path = path.with_name(f".{path.name}.lock")
    try:
        descriptor = os.open(lock_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o666)
    except OSError:
        if not shared:
            raise
        try:
            descriptor = os.open(lock_path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            yield
            return
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def _first_line(descriptor: int) -> bytes | None:
    """The first line of the open file (without its line break), or None when the file holds only blanks."""
    head, position = b"", 0
    while True:
        chunk = os.pread(descriptor, CHECK_BYTES, position)
        if not chunk:
            break
        head += chunk
        position += len(chunk)
        if b"\n" in head:
            break
    line = head.split(b"\n", 1)[0].rstrip(b"\r")
    if line.strip():
        return line
    while chunk:  # a blank first line: only blanks in the whole file make it an empty file
        if head.strip():
            return line
        head = chunk = os.pread(descriptor, CHECK_BYTES, position)
        position += len(chunk)
    return None


def _write_all(descriptor: int, payload: bytes) -> None:
    view = memoryview(payload)
    while view:
        written = os.write(descriptor, view)
        view = view[written:]


def append_points(path: str | Path, rows: Iterable[Mapping[str, Any]]) -> int:
    """Append samples to the CSV file at `path` (created with a header when missing or blank); return how many.

    Each row is a mapping with `timestamp` (an aware datetime, epoch seconds, or ISO-8601 text with an offset),
    `metric` (a valid metric name), `labels` (a mapping of label name to text; optional) and `value` (a number
    or numeric text such as "NaN"). All rows are validated before anything is written (ValueError naming the
    1-based row and the field); they are then appended as whole lines in the file's column order (after a line
    break if the file lacks its last one) with one O_APPEND write and an fsync, under the exclusive lock, so the
    readers here see all of them or none, and continue their parse from where they were. A failed write is cut
    off again.
    """
    target = Path(path)
    if target.suffix.lower() not in CSV_SUFFIXES:
        raise ValueError(f"append_points writes CSV files only; {str(target)!r} does not end in .csv")
    formatted = [_format_row(row, number) for number, row in enumerate(rows, start=1)]
    if not formatted:
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target):
        descriptor = os.open(target, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            size = os.fstat(descriptor).st_size
            first_line = _first_line(descriptor) if size else None
            header: list[str] = list(COLUMNS)
            if first_line is not None:
                header = next(csv.reader([first_line.decode("utf-8-sig", errors="replace")]), [])
                missing = [name for name in COLUMNS if name not in header]
                if missing:
                    raise MetricsError(
                        "bad_data", f"{str(target)!r}: line 1: the header lacks {', '.join(missing)}; not appending"
                    )
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=header, restval="", lineterminator="\n")
            if first_line is None:
                writer.writeheader()
            writer.writerows(formatted)
            payload = buffer.getvalue().encode("utf-8")
            if first_line is None and size:
                os.ftruncate(descriptor, 0)  # only blanks: the file starts afresh with its header
                size = 0
            elif size and os.pread(descriptor, 1, size - 1) != b"\n":
                payload = b"\n" + payload
            try:
                _write_all(descriptor, payload)
                os.fsync(descriptor)
            except BaseException:
                os.ftruncate(descriptor, size)  # no half row left behind
                raise
        finally:
            os.close(descriptor)
    return len(formatted)
