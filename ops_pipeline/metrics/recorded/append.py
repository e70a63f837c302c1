"""Appending samples to a recorded CSV file.

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
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ops_pipeline.core.metric_selector import LABEL_NAME, METRIC_NAME
from ops_pipeline.metrics.recorded.csv_tail import CHECK_BYTES
from ops_pipeline.metrics.recorded.files import (
    COLUMNS,
    CSV_SUFFIXES,
    FIRST_TIME_S,
    LAST_TIME_S,
    MAX_RECORD_BYTES,
    TIME_RANGE,
)
from ops_pipeline.metrics.recorded.lock import locked
from ops_pipeline.metrics.series import MetricsError


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
        _check_range(raw, repr(raw), where)
        return repr(raw)
    if isinstance(raw, str):
        try:
            raw = datetime.fromisoformat(raw.strip())
        except ValueError:
            raise ValueError(f"{where}: timestamp {raw!r} is not ISO-8601") from None
    if isinstance(raw, datetime):
        if raw.tzinfo is None or raw.utcoffset() is None:
            raise ValueError(f"{where}: timestamp {raw.isoformat()!r} has no timezone (add Z or +00:00)")
        _check_range(raw.timestamp(), repr(raw.isoformat()), where)
        return raw.astimezone(UTC).isoformat().replace("+00:00", "Z")
    raise ValueError(f"{where}: timestamp must be a datetime, epoch seconds or ISO-8601 text, not {type(raw).__name__}")


def _check_range(seconds: float, shown: str, where: str) -> None:
    """Refuse a time the readers cannot represent: once written, it would make every read of the file fail."""
    if not FIRST_TIME_S <= seconds <= LAST_TIME_S:
        raise ValueError(f"{where}: timestamp {shown} is outside {TIME_RANGE}")


def _check_length(row: dict[str, str], where: str) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(row.values())
    length = len(buffer.getvalue().encode("utf-8"))
    if length > MAX_RECORD_BYTES:
        raise ValueError(f"{where}: the line would be {length:,} bytes; a line may hold at most {MAX_RECORD_BYTES:,}")


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
    formatted = {
        "timestamp": _format_timestamp(row["timestamp"], where),
        "metric": metric,
        "labels": json.dumps(dict(sorted(labels.items())), separators=(",", ":"), ensure_ascii=False),
        "value": _format_value(number_value),
    }
    _check_length(formatted, where)
    return formatted


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
    with locked(target):
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
