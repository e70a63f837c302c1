"""A plan step's statement time limit on SQLite: `Connection.interrupt()` from a watcher thread once the
deadline passes or the run is terminated (a signal cannot reach Python while `sqlite3_step` runs), and a busy
timeout no longer than the time left (waiting for another writer's lock counts too), put back afterwards."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from ops_pipeline.core.execution.interrupts import cancel_on_signal
from ops_pipeline.sources.base import SourceError
from ops_pipeline.sources.sql import Session


@contextmanager
def statement_deadline(session: Session, seconds: float) -> Iterator[None]:
    connection: sqlite3.Connection = session.connection
    deadline = time.monotonic() + seconds
    previous_busy = connection.execute("PRAGMA busy_timeout").fetchone()[0]
    connection.execute(f"PRAGMA busy_timeout = {max(1, int(seconds * 1000))}")
    try:
        with cancel_on_signal(connection.interrupt, seconds):
            yield
    except sqlite3.OperationalError as error:
        if time.monotonic() < deadline:
            raise  # interrupted by a signal: the signal's own exception follows at once
        reason = "waited past" if "locked" in str(error) else "ran past"
        raise SourceError(
            session.name, "timeout", f"the statement {reason} its {seconds:.3g} s limit and was interrupted"
        ) from None
    finally:
        with suppress(sqlite3.Error):
            connection.execute(f"PRAGMA busy_timeout = {int(previous_busy)}")


def write_lock(session: Session, wait_s: float) -> None:
    """Open the session's transaction holding SQLite's write lock (`BEGIN IMMEDIATE`), waiting at most `wait_s`
    for another writer: a backfill window is then replaced by one run at a time."""
    connection: sqlite3.Connection = session.connection
    previous_busy = connection.execute("PRAGMA busy_timeout").fetchone()[0]
    connection.execute(f"PRAGMA busy_timeout = {max(1, int(wait_s * 1000))}")
    try:
        if not connection.in_transaction:
            connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        if "locked" not in str(error):
            raise
        raise SourceError(
            session.name, "timeout", f"another writer held the database for longer than window_timeout_s ({wait_s:g} s)"
        ) from None
    finally:
        connection.execute(f"PRAGMA busy_timeout = {int(previous_busy)}")
