"""The recorded metrics file format: its columns, and the suffix that chooses CSV or Parquet.

The file has the columns `timestamp`, `metric`, `labels` and `value` (others are ignored), one sample a row:

- `timestamp`: epoch seconds (a number) or ISO-8601 text; ISO text without an offset is taken as UTC. In
  Parquet also a timestamp column. Within 1677-09-21 00:12:44 to 2262-04-11 23:47:16 UTC (what a nanosecond
  timestamp holds, so every consumer of the samples can represent it).
- `metric`: the metric name, not empty.
- `labels`: a JSON object of string label values (`{"job":"api"}`; an empty cell is no labels). In Parquet
  also a struct or a map of strings. A label with an empty value is no label, as in Prometheus.
- `value`: a number; `NaN`, `+Inf` and `-Inf` are accepted.

Which format is chosen by the suffix: `.csv`, or `.parquet`/`.pq`. A CSV record holds at most 1 MiB (the block
pyarrow parses at a time).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

COLUMNS = ("timestamp", "metric", "labels", "value")
CSV_SUFFIXES = (".csv",)
PARQUET_SUFFIXES = (".parquet", ".pq")

FIRST_TIME_S = pd.Timestamp.min.ceil("s").value / 1e9
LAST_TIME_S = pd.Timestamp.max.floor("s").value / 1e9
TIME_RANGE = f"{pd.Timestamp(FIRST_TIME_S, unit='s')} to {pd.Timestamp(LAST_TIME_S, unit='s')} UTC"
MAX_RECORD_BYTES = 1 << 20

Version = tuple[int, int, int, int]  # st_dev, st_ino, st_size, st_mtime_ns


def file_kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    raise ValueError(f"recorded metrics file {str(path)!r} must end in .csv, .parquet or .pq")
