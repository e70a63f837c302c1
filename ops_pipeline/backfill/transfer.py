"""Moving one time window from source to destination, idempotently: in one destination transaction the
window's rows are deleted and the source's rows are written, so a rerun (or a rerun after a killed run) leaves
exactly the source's rows. Memory stays bounded: rows travel in chunks, or as a COPY stream.

PostgreSQL to PostgreSQL streams `COPY ... TO STDOUT` into `COPY ... FROM STDIN` through a pipe and reconciles
with one checksum query on each side. Other pairs stream rows in chunks (COPY into PostgreSQL, executemany into
SQLite) and checksum them in Python, then read the destination window back to checksum what was written.
"""

from __future__ import annotations

import io
import os
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as clock
from decimal import Decimal
from typing import Any

import pymysql.cursors

from ops_pipeline.backfill.endpoints import Endpoint
from ops_pipeline.core.checksum import MODULUS, Checksum, checksum_rows


@dataclass(frozen=True)
class Transfer:
    relation: str  # the source's FROM clause: a quoted table, or "(query) AS src"
    columns: tuple[str, ...]
    time_column: str
    destination: str  # destination table, schema-qualified or not, unquoted
    destination_types: tuple[str, ...]  # the destination's column types, for PostgreSQL checksum casts
    chunk_rows: int
    binary_copy: bool = False  # PostgreSQL pairs whose column types are identical stream COPY's binary format
    row_hash: str = "md5"  # "hash" (hash_record_extended, PostgreSQL 14+) or "md5" for types without one


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


def load_window(src: Endpoint, dst: Endpoint, transfer: Transfer, start: datetime, end: datetime) -> LoadResult:
    started = time.perf_counter()
    try:
        if src.dialect == dst.dialect == "postgresql":
            _delete_window(dst, transfer, start, end)
            rows_read = _copy_pipe(src, dst, transfer, start, end)
            dst.connection.commit()
            with ThreadPoolExecutor(2) as both_sides:  # two servers (or two backends): checksum side by side
                source_sum = both_sides.submit(_pg_checksum, src, transfer, transfer.relation, start, end)
                destination = _pg_checksum(dst, transfer, dst.qualified(transfer.destination), start, end)
                source = source_sum.result()
            dst.connection.commit()
        else:
            _delete_window(dst, transfer, start, end)
            read = Checksum()
            for chunk in _stream(src, transfer.relation, transfer, start, end):
                read = read.add(checksum_rows(chunk))
                _write(dst, transfer, chunk)
            dst.connection.commit()
            rows_read, source = read.rows, f"blake2b:{read}"
            written = Checksum()
            for chunk in _stream(dst, dst.qualified(transfer.destination), transfer, start, end):
                written = written.add(checksum_rows(chunk))
            destination = f"blake2b:{written}"
    except BaseException:
        dst.connection.rollback()
        raise
    rows_written = int(destination.split(":")[1])
    return LoadResult(rows_read, rows_written, source, destination, time.perf_counter() - started)


def read_sample(src: Endpoint, transfer: Transfer, start: datetime, end: datetime, rows: int) -> list[dict[str, Any]]:
    """About `rows` rows of the window. A PostgreSQL table is sampled with TABLESAMPLE SYSTEM, sized so the pages
    it reads hold about `rows` rows of the window: spread over the whole window, repeatable, and without a LIMIT
    that would favour the first pages. Elsewhere (and when the sample comes back short) the first `rows` rows the
    database returns for the window are the sample."""
    bounds = (src.bound(start), src.bound(end))
    limited = f" LIMIT {int(rows)}"
    sample: list[tuple[Any, ...]] = []
    if src.dialect == "postgresql" and not transfer.relation.startswith("("):
        window_rows = _scalar(src, f"SELECT count(*) FROM {transfer.relation} WHERE {_window(src, transfer)}", bounds)
        if window_rows > 2 * rows:
            percent = 100.0 * rows / window_rows
            sampled = f"{transfer.relation} TABLESAMPLE SYSTEM ({percent:.6f}) REPEATABLE (42)"
            sample = _rows(
                src, src.select(sampled, transfer.columns, transfer.time_column, f" LIMIT {4 * int(rows)}"), bounds
            )
            if len(sample) < rows // 2:
                sample = []
    if not sample:
        sample = _rows(src, src.select(transfer.relation, transfer.columns, transfer.time_column, limited), bounds)
    return [dict(zip(transfer.columns, row, strict=True)) for row in sample]


def _window(endpoint: Endpoint, transfer: Transfer) -> str:
    t = endpoint.quote(transfer.time_column)
    return f"{t} >= {endpoint.placeholder} AND {t} < {endpoint.placeholder}"


def _rows(endpoint: Endpoint, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    cursor = endpoint.connection.cursor()
    try:
        cursor.execute(sql, params)
        return [tuple(r) for r in cursor.fetchall()]
    finally:
        cursor.close()


def _scalar(endpoint: Endpoint, sql: str, params: tuple[Any, ...]) -> int:
    [(value,)] = _rows(endpoint, sql, params)
    return int(value)


def _delete_window(dst: Endpoint, transfer: Transfer, start: datetime, end: datetime) -> None:
    sql = f"DELETE FROM {dst.qualified(transfer.destination)} WHERE {_window(dst, transfer)}"
    cursor = dst.connection.cursor()
    try:
        cursor.execute(sql, (dst.bound(start), dst.bound(end)))
    finally:
        cursor.close()


def _stream(
    endpoint: Endpoint, relation: str, transfer: Transfer, start: datetime, end: datetime
) -> Iterator[list[tuple[Any, ...]]]:
    sql = endpoint.select(relation, transfer.columns, transfer.time_column)
    if endpoint.dialect == "postgresql":
        cursor = endpoint.connection.cursor(name=f"ops_backfill_{threading.get_ident()}", withhold=True)
        cursor.itersize = transfer.chunk_rows
    elif endpoint.dialect == "mysql":
        cursor = endpoint.connection.cursor(pymysql.cursors.SSCursor)  # unbuffered: rows stay on the server
    else:
        cursor = endpoint.connection.cursor()
    try:
        cursor.execute(sql, (endpoint.bound(start), endpoint.bound(end)))
        while chunk := cursor.fetchmany(transfer.chunk_rows):
            yield [tuple(row) for row in chunk]
    finally:
        cursor.close()


def _write(dst: Endpoint, transfer: Transfer, rows: Sequence[tuple[Any, ...]]) -> None:
    cursor = dst.connection.cursor()
    try:
        if dst.dialect == "postgresql":
            buffer = io.StringIO("".join("\t".join(_pg_text(v) for v in row) + "\n" for row in rows))
            columns = ", ".join(dst.quote(c) for c in transfer.columns)
            cursor.copy_expert(f"COPY {dst.qualified(transfer.destination)} ({columns}) FROM STDIN", buffer)
        else:
            marks = ", ".join("?" for _ in transfer.columns)
            columns = ", ".join(dst.quote(c) for c in transfer.columns)
            cursor.executemany(
                f"INSERT INTO {dst.qualified(transfer.destination)} ({columns}) VALUES ({marks})",
                [tuple(_sqlite_value(v) for v in row) for row in rows],
            )
    finally:
        cursor.close()


def _copy_pipe(src: Endpoint, dst: Endpoint, transfer: Transfer, start: datetime, end: datetime) -> int:
    """Stream the window through an OS pipe: bounded memory whatever the window's size."""
    out_cursor = src.connection.cursor()
    select = out_cursor.mogrify(
        src.select(transfer.relation, transfer.columns, transfer.time_column), (start, end)
    ).decode()
    columns = ", ".join(dst.quote(c) for c in transfer.columns)
    options = " (FORMAT binary)" if transfer.binary_copy else ""
    read_fd, write_fd = os.pipe()
    failure: list[BaseException] = []
    copied: list[int] = []

    def produce() -> None:
        try:
            with os.fdopen(write_fd, "wb") as sink:
                out_cursor.copy_expert(f"COPY ({select}) TO STDOUT{options}", sink)
                copied.append(out_cursor.rowcount)
        except BaseException as error:  # handed to the consuming thread, which decides
            failure.append(error)

    producer = threading.Thread(target=produce, name="backfill-copy-out", daemon=True)
    producer.start()
    try:
        with os.fdopen(read_fd, "rb") as source, dst.connection.cursor() as in_cursor:
            in_cursor.copy_expert(f"COPY {dst.qualified(transfer.destination)} ({columns}) FROM STDIN{options}", source)
    finally:
        producer.join()
        out_cursor.close()
    if failure:
        raise failure[0]  # a source that failed midway must not commit a partial window
    return copied[0]


def _pg_checksum(endpoint: Endpoint, transfer: Transfer, relation: str, start: datetime, end: datetime) -> str:
    """count and 64-bit sum of a hash of each row, with the source's columns cast to the destination's types so
    both sides hash the same values."""
    row = ", ".join(
        f"{endpoint.quote(c)}::{t}" for c, t in zip(transfer.columns, transfer.destination_types, strict=True)
    )
    if transfer.row_hash == "hash":
        digest = f"hash_record_extended(ROW({row}), 0)"
    else:
        digest = f"('x' || substr(md5(ROW({row})::text), 1, 16))::bit(64)::bigint"
    t = endpoint.quote(transfer.time_column)
    sql = f"SELECT count(*), coalesce(sum({digest}), 0) FROM {relation} WHERE {t} >= %s AND {t} < %s"
    with endpoint.connection.cursor() as cursor:
        cursor.execute(sql, (start, end))
        count, total = cursor.fetchone()
    return f"pg-{transfer.row_hash}:{count}:{int(total) % MODULUS:016x}"


def pg_row_hash(src: Endpoint, types: Sequence[str]) -> str:
    """ "hash" when PostgreSQL can hash a row of these types (version 14+, and not e.g. json), else "md5"."""
    probe = ", ".join(f"NULL::{t}" for t in types)
    cursor = src.connection.cursor()
    try:
        cursor.execute(f"SELECT hash_record_extended(ROW({probe}), 0)")
        return "hash"
    except Exception:
        return "md5"
    finally:
        cursor.close()


def _pg_text(value: Any) -> str:
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


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):  # SQLite keeps timestamps as text: UTC, so windows compare as text
        moment = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
        return moment.isoformat(sep=" ")
    if isinstance(value, date | clock):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
