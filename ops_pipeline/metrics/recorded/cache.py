"""Loading recorded metrics files, through an in-process cache.

Parsed files are cached by path with their version (device, inode, size, modification time). A Parquet file
that changed is parsed again. A CSV file is read incrementally: the cache remembers the byte offset just past
the last complete record it parsed, and when the file has grown under the same inode only the bytes from there
up to the last complete record are parsed, and their samples merged into the cached ones with the same
ordering as a full parse (so also the same "later row wins" rule and the same error line numbers); `csv_tail`
finds the record boundaries. Growth is trusted to be an append only if the first 64 KiB of the file and the
64 KiB before the offset are byte for byte what they were; any other change (another inode, a file that shrank
or kept its size but has a new modification time, changed bytes in those regions) re-parses the whole file. A
writer that rewrites the file in place, grows it and leaves both regions untouched would go unnoticed: writers
must append, or replace the file (rename a new one over it).

A CSV file's last line without its newline is read when it can be; when it cannot, it is taken for a record
another writer has not finished, and left for the next read. A missing file is `unreachable`.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ops_pipeline.metrics.recorded.csv_tail import CsvResume, check_regions, complete_records, resume_after_full_parse
from ops_pipeline.metrics.recorded.files import Version, file_kind
from ops_pipeline.metrics.recorded.lock import locked
from ops_pipeline.metrics.recorded.reader import FileReader, columns
from ops_pipeline.metrics.recorded.series import Columns, RecordedSeries, SeriesKey, group, merge, series_ids
from ops_pipeline.metrics.series import MetricsError

CACHE_SIZE = 8


@dataclass(frozen=True)
class _Entry:
    """A parsed file as cached: its version when read, the samples, and for CSV how to continue."""

    version: Version
    data: RecordedSeries
    resume: CsvResume | None = None  # None: Parquet, or a CSV a change of which is re-parsed in full
    series_ids: dict[SeriesKey, int] | None = field(default=None, compare=False)  # built on the first extension


@dataclass
class _Stats:
    full_parses: int = 0
    incremental_parses: int = 0  # reads that parsed new records (not those that found none)
    last_parsed_bytes: int = 0  # file bytes handed to the parser by the last parse (the header prefix not counted)


_cache: OrderedDict[str, _Entry] = OrderedDict()
_stats: dict[str, _Stats] = {}
_cache_lock = threading.Lock()


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
    kind = file_kind(resolved)
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


def _parse_file(path: Path, kind: str) -> _Entry:
    """A full parse. CSV bytes are read in one go under the shared lock (see `append_points`), then parsed."""
    if kind == "parquet":
        try:
            version = _version(path.stat())
        except OSError as error:
            raise _unreachable(path, error) from None
        reader = FileReader(path, kind)
        return _Entry(version, group(columns(reader, reader.read_table())))
    try:
        with locked(path, shared=True), open(path, "rb") as handle:
            stat = os.fstat(handle.fileno())
            text = handle.read()
    except OSError as error:
        raise _unreachable(path, error) from None
    rows, parsed = _complete_columns(FileReader(path, kind), text)
    version = _version(stat)
    return _Entry(version, group(parsed), resume_after_full_parse(text, rows, version))


def _complete_columns(reader: FileReader, text: bytes) -> tuple[int, Columns]:
    """The rows of the whole CSV `text` and their columns. A last line without its newline that cannot be read
    is a record another writer has not finished: it is left out, and read by the next parse of the file."""
    try:
        table = reader.read_table(text)
        return table.num_rows, columns(reader, table)
    except MetricsError:
        complete = complete_records(text)
        if complete in (0, len(text)):
            raise
    table = reader.read_table(text[:complete])
    return table.num_rows, columns(reader, table)


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
        with locked(path, shared=True), open(path, "rb") as handle:
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
            length = complete_records(added)
            offset = resume.offset + length
            checks = check_regions(lambda at, size: _pread(descriptor, at, size), offset)
    except OSError:
        return None  # the full parse names the problem
    version = _version(stat)
    if length == 0:
        return replace(entry, version=version, resume=replace(resume, checks=checks))
    reader = FileReader(path, "csv", row_base=resume.rows)
    table = reader.read_table(resume.header + added[:length], check_header=False)
    ids = entry.series_ids if entry.series_ids is not None else series_ids(entry.data)
    data, ids = merge(entry.data, ids, columns(reader, table))
    stats.incremental_parses += 1
    stats.last_parsed_bytes = length
    return _Entry(version, data, CsvResume(offset, resume.rows + table.num_rows, resume.header, checks), ids)
