"""Reading the columns of a recorded metrics file into arrays.

A file is parsed with pyarrow and pandas column operations (numbers through Arrow's parser first, pandas only
for text it refuses such as ISO timestamps); per-series work is Python, per-row work is not. A bad file raises
MetricsError(kind="bad_data") naming the file, the first bad row and the column: for CSV the row is its line in
the file (the header is line 1; blank lines and quoted line breaks shift it), for Parquet its 1-based row number.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from ops_pipeline.core.metric_selector import LABEL_NAME
from ops_pipeline.metrics.recorded.csv_tail import header_names, longest_record
from ops_pipeline.metrics.recorded.files import COLUMNS, FIRST_TIME_S, LAST_TIME_S, MAX_RECORD_BYTES, TIME_RANGE
from ops_pipeline.metrics.recorded.series import Columns
from ops_pipeline.metrics.series import MetricsError

NAN_SPELLINGS = frozenset({"nan", "+nan", "-nan"})
THREADED_CSV_BYTES = 1 << 20  # smaller CSV text is parsed on one thread


class FileReader:
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
                    self.check_columns(header_names(text))
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
            if text is not None and "straddl" in message:  # a record longer than pyarrow's block
                raise self.oversized_record(text) from None
            found = re.search(r"Row #(\d+): ", message)
            if found:
                where = "line" if self.kind == "csv" else "row"
                number = int(found.group(1)) + self.row_base
                raise self.bad(f"{where} {number}: {message.replace(found.group(0), '')}") from None
            raise self.bad(f"cannot read it as {self.kind.upper()}: {message}") from None

    def oversized_record(self, text: bytes) -> MetricsError:
        index, length = longest_record(text)
        return self.bad(f"a record of {length:,} bytes; a line may hold at most {MAX_RECORD_BYTES:,}", index - 1)

    def read_csv(self, source: pa.Buffer, *, use_threads: bool) -> pa.Table:
        """The four columns as text. Parse errors read `CSV parse error: Row #N: ...` when single-threaded,
        N counting the header as 1 like the line numbers in this module's messages."""
        return pa_csv.read_csv(
            pa.BufferReader(source),
            read_options=pa_csv.ReadOptions(use_threads=use_threads, block_size=MAX_RECORD_BYTES),
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
        """Epoch seconds of every row; a missing, unparsable, non-finite or out-of-range time names its row."""
        seconds = self.epoch_seconds(column)
        outside = (seconds < FIRST_TIME_S) | (seconds > LAST_TIME_S)
        if outside.any():
            row = self.first(outside)
            textual = pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
            shown = repr(column[row].as_py()) if textual else f"{seconds[row]!r} (epoch seconds)"
            raise self.bad(f"timestamp {shown} is outside {TIME_RANGE}", row, "timestamp")
        return seconds

    def epoch_seconds(self, column: pa.ChunkedArray) -> np.ndarray:
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
            # Microseconds reach years 1 to 9999, so a time outside the range is told apart from a typo.
            micros = parsed.dt.as_unit("us").astype("int64").to_numpy()
            seconds[textual] = micros / 1e6
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
        except RecursionError:
            raise self.bad(f"labels are nested too deeply: {text[:120]!r}", row, "labels") from None

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


def columns(reader: FileReader, table: pa.Table) -> Columns:
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
    return Columns(timestamps, values, np.asarray(series_codes, dtype=np.int64), keys)
