"""Moving one time window from source to destination, idempotently: in one destination transaction, which holds
the window's lock so that two runs of one partition take turns, the window's rows are deleted, the source's
rows are written and the written rows checksummed, so a rerun (or a rerun after a killed run, or a run beside
another) leaves exactly the source's rows. Memory stays bounded: rows travel in chunks, or by a database's direct path.

When the destination database has a direct path from the source's (PostgreSQL to PostgreSQL: a COPY pipe with
one row-hash query on each side), the window takes it. Otherwise rows stream in chunks from the source and
are written by the destination database's bulk write (COPY into PostgreSQL, executemany into SQLite) and
checksummed in Python; then the destination window is read back to checksum what was written.
"""

from __future__ import annotations

import time
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ops_pipeline.backfill.deadline import window_deadline
from ops_pipeline.core.checksum import Checksum, checksum_rows
from ops_pipeline.sources.sql import DirectPath, Session, Transfer, WindowLoad


@dataclass(frozen=True)
class LoadResult:
    rows_read: int
    rows_written: int
    source_checksum: str
    destination_checksum: str
    duration_s: float

    @property
    def reconciled(self) -> bool:
        return self.rows_read == self.rows_written and self.source_checksum == self.destination_checksum


def load_window(
    src: Session, dst: Session, transfer: Transfer, start: datetime, end: datetime, direct: DirectPath | None = None
) -> LoadResult:
    """The window's rows into the destination, by `direct` when given, else in chunks through Python."""
    started = time.perf_counter()
    try:
        with window_deadline(src, dst, transfer.window_timeout_s, start):
            dst.database.lock_window(dst, transfer, start, end)
            dst.database.delete_window(dst, transfer, start, end)
            if direct is not None:
                loaded = direct.load(src, dst, transfer, start, end)
            else:
                loaded = _load_in_chunks(src, dst, transfer, start, end)
            # Committed after the destination's checksum: what is reported is what this run wrote, under its lock.
            dst.connection.commit()
    except BaseException:
        with suppress(Exception):  # a cut connection cannot roll back; its server already has
            dst.connection.rollback()
        raise
    rows_written = int(loaded.destination_checksum.split(":")[1])
    return LoadResult(
        loaded.rows_read,
        rows_written,
        loaded.source_checksum,
        loaded.destination_checksum,
        time.perf_counter() - started,
    )


def _load_in_chunks(src: Session, dst: Session, transfer: Transfer, start: datetime, end: datetime) -> WindowLoad:
    read = Checksum()
    for chunk in src.database.stream_window(src, transfer.relation, transfer, start, end):
        read = read.add(checksum_rows(chunk))
        dst.database.write_rows(dst, transfer, chunk)
    written = Checksum()
    for chunk in dst.database.stream_window(dst, dst.qualified(transfer.destination), transfer, start, end):
        written = written.add(checksum_rows(chunk))
    return WindowLoad(read.rows, f"blake2b:{read}", f"blake2b:{written}")


def read_sample(src: Session, transfer: Transfer, start: datetime, end: datetime, rows: int) -> list[dict[str, Any]]:
    """About `rows` rows of the window: drawn by the source database where it can (PostgreSQL's TABLESAMPLE),
    else (and when that comes back short) the first `rows` rows the database returns for the window."""
    sample = src.database.sample_window(src, transfer, start, end, rows)
    if not sample:
        limited = f" LIMIT {int(rows)}"
        first_rows = src.select_window(transfer.relation, transfer.columns, transfer.time_column, limited)
        sample = src.rows(first_rows, src.bounds(start, end))
    return [dict(zip(transfer.columns, row, strict=True)) for row in sample]
