"""A backfill window's lock on PostgreSQL: a transaction-level advisory lock keyed by the destination table and
the window, so two runs of one partition replace it one after the other (READ COMMITTED alone lets both delete
nothing and both insert). The wait is bounded by the window's deadline, not by the session's lock_timeout."""

from __future__ import annotations

import math
import zlib
from datetime import datetime

import psycopg2.errors

from ops_pipeline.sources.base import SourceError
from ops_pipeline.sources.sql import Session, Transfer


def window_lock_keys(destination: str, start: datetime, end: datetime) -> tuple[int, int]:
    """Two signed 32-bit keys (pg_advisory_xact_lock(int, int)); a collision only makes two windows take turns."""
    return _int32(destination), _int32(f"{start.isoformat()}/{end.isoformat()}")


def _int32(text: str) -> int:
    value = zlib.crc32(text.encode())
    return value - (1 << 32) if value >= 1 << 31 else value


def lock_window(session: Session, transfer: Transfer, start: datetime, end: datetime) -> None:
    connection = session.connection
    wait_ms = max(1, math.ceil(transfer.window_timeout_s * 1000))
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        previous = str(cursor.fetchone()[0])
        cursor.execute("SET LOCAL lock_timeout = %s", (wait_ms,))
        try:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", window_lock_keys(transfer.destination, start, end))
        except psycopg2.errors.LockNotAvailable:
            raise SourceError(
                session.name,
                "timeout",
                f"another run held window {start.isoformat()} of {transfer.destination} for longer than "
                f"window_timeout_s ({transfer.window_timeout_s:g} s)",
            ) from None
        cursor.execute("SET LOCAL lock_timeout = %s", (previous,))
