"""PostgreSQL's bulk paths: COPY into a table, a COPY pipe from another PostgreSQL database reconciled with one
row-hash query on each side, and a validation sample drawn with TABLESAMPLE."""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as clock
from decimal import Decimal
from typing import Any

import psycopg2

from ops_pipeline.core.checksum import MODULUS
from ops_pipeline.sources.postgresql.connection import session_error
from ops_pipeline.sources.sql import DirectPath, Row, Session, Transfer, WindowLoad


def copy_rows(session: Session, transfer: Transfer, rows: Sequence[Row]) -> None:
    """Rows into the destination table with COPY's text format."""
    buffer = io.StringIO("".join("\t".join(_copy_text(v) for v in row) + "\n" for row in rows))
    columns = ", ".join(session.quote(c) for c in transfer.columns)
    with session.connection.cursor() as cursor:
        cursor.copy_expert(f"COPY {session.qualified(transfer.destination)} ({columns}) FROM STDIN", buffer)


def _copy_text(value: Any) -> str:
    """A value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime | date | clock):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, bytes | memoryview):
        return "\\\\x" + bytes(value).hex()
    if isinstance(value, int | float | Decimal):
        return str(value)
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def tablesample_window(
    session: Session, transfer: Transfer, start: datetime, end: datetime, rows: int
) -> list[Row] | None:
    """About `rows` rows of a table's window with TABLESAMPLE SYSTEM, sized so the pages it reads hold about
    `rows` rows of the window: spread over the whole window, repeatable, and without a LIMIT that would favour
    the first pages. None for a query, a window of at most twice `rows`, or a sample that came back short."""
    if transfer.source_table is None:
        return None
    bounds = session.bounds(start, end)
    predicate = session.database.window_predicate(transfer.time_column)
    [(window_rows,)] = session.rows(f"SELECT count(*) FROM {transfer.relation} WHERE {predicate}", bounds)
    if int(window_rows) <= 2 * rows:
        return None
    percent = 100.0 * rows / int(window_rows)
    sampled = f"{transfer.relation} TABLESAMPLE SYSTEM ({percent:.6f}) REPEATABLE (42)"
    limit = f" LIMIT {4 * int(rows)}"
    sample = session.rows(session.select_window(sampled, transfer.columns, transfer.time_column, limit), bounds)
    return sample if len(sample) >= rows // 2 else None


@dataclass(frozen=True)
class CopyPipe(DirectPath):
    """`COPY ... TO STDOUT` on the source streamed into `COPY ... FROM STDIN` on the destination through an OS
    pipe, then the count and a 64-bit sum of a hash of each row on both sides, side by side."""

    binary: bool  # COPY's binary format, for column types identical on both sides
    row_hash: str  # "hash" (hash_record_extended, PostgreSQL 14+) or "md5" for types without one

    def load(self, src: Session, dst: Session, transfer: Transfer, start: datetime, end: datetime) -> WindowLoad:
        rows_read = self._pipe(src, dst, transfer, start, end)
        with ThreadPoolExecutor(2) as both_sides:  # two servers (or two backends): checksum side by side
            source_sum = both_sides.submit(self._checksum, src, transfer, transfer.relation, start, end)
            destination = self._checksum(dst, transfer, dst.qualified(transfer.destination), start, end)
            source = source_sum.result()
        return WindowLoad(rows_read, source, destination)

    def _pipe(self, src: Session, dst: Session, transfer: Transfer, start: datetime, end: datetime) -> int:
        """Stream the window through an OS pipe: bounded memory whatever the window's size."""
        out_cursor = src.connection.cursor()
        window = src.select_window(transfer.relation, transfer.columns, transfer.time_column)
        select = out_cursor.mogrify(src.database.with_parameters(window), src.bounds(start, end)).decode()
        columns = ", ".join(dst.quote(c) for c in transfer.columns)
        options = " (FORMAT binary)" if self.binary else ""
        read_fd, write_fd = os.pipe()
        failure: list[BaseException] = []
        copied: list[int] = []

        def produce() -> None:
            try:
                with os.fdopen(write_fd, "wb") as sink:
                    out_cursor.copy_expert(f"COPY ({select}) TO STDOUT{options}", sink)
                    copied.append(out_cursor.rowcount)
            except psycopg2.Error as error:  # the source's, whichever context it surfaces in
                failure.append(session_error(src.name, error))
            except BaseException as error:  # handed to the consuming thread, which decides
                failure.append(error)

        producer = threading.Thread(target=produce, name="backfill-copy-out", daemon=True)
        producer.start()
        try:
            with os.fdopen(read_fd, "rb") as source, dst.connection.cursor() as in_cursor:
                destination = dst.qualified(transfer.destination)
                in_cursor.copy_expert(f"COPY {destination} ({columns}) FROM STDIN{options}", source)
        finally:
            producer.join()
            out_cursor.close()
        if failure:
            raise failure[0]  # a source that failed midway must not commit a partial window
        return copied[0]

    def _checksum(self, session: Session, transfer: Transfer, relation: str, start: datetime, end: datetime) -> str:
        """count and 64-bit sum of a hash of each row, with the source's columns cast to the destination's types
        so both sides hash the same values."""
        row = ", ".join(
            f"{session.quote(c)}::{t}" for c, t in zip(transfer.columns, transfer.destination_types, strict=True)
        )
        if self.row_hash == "hash":
            digest = f"hash_record_extended(ROW({row}), 0)"
        else:
            digest = f"('x' || substr(md5(ROW({row})::text), 1, 16))::bit(64)::bigint"
        predicate = session.database.window_predicate(transfer.time_column)
        sql = f"SELECT count(*), coalesce(sum({digest}), 0) FROM {relation} WHERE {predicate}"
        [(count, total)] = session.rows(sql, session.bounds(start, end))
        return f"pg-{self.row_hash}:{count}:{int(total) % MODULUS:016x}"


def row_hash_for(session: Session, types: Sequence[str]) -> str:
    """ "hash" when PostgreSQL can hash a row of these types (version 14+, and not e.g. json), else "md5"."""
    probe = ", ".join(f"NULL::{t}" for t in types)
    cursor = session.connection.cursor()
    try:
        cursor.execute(f"SELECT hash_record_extended(ROW({probe}), 0)")
        return "hash"
    except Exception:
        return "md5"
    finally:
        cursor.close()
