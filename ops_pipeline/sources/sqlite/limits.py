"""A plan step's statement time limit on SQLite: a progress handler that interrupts the statement once the
deadline has passed, and a busy timeout no longer than the time left (waiting for another writer's lock counts
too). Both are put back afterwards."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from ops_pipeline.sources.base import SourceError
from ops_pipeline.sources.sql import Session

PROGRESS_INSTRUCTIONS = 10_000  # virtual machine steps between deadline checks: well under a millisecond


@contextmanager
def statement_deadline(session: Session, seconds: float) -> Iterator[None]:
    connection: sqlite3.Connection = session.connection
    deadline = time.monotonic() + seconds

    def past_deadline() -> int:
        return 1 if time.monotonic() >= deadline else 0

    previous_busy = connection.execute("PRAGMA busy_timeout").fetchone()[0]
    connection.execute(f"PRAGMA busy_timeout = {max(1, int(seconds * 1000))}")
    connection.set_progress_handler(past_deadline, PROGRESS_INSTRUCTIONS)
    try:
        yield
    except sqlite3.OperationalError as error:
        if time.monotonic() < deadline:
            raise
        reason = "waited past" if "locked" in str(error) else "ran past"
        raise SourceError(
            session.name, "timeout", f"the statement {reason} its {seconds:.3g} s limit and was interrupted"
        ) from None
    finally:
        connection.set_progress_handler(None, 0)
        with suppress(sqlite3.Error):
            connection.execute(f"PRAGMA busy_timeout = {int(previous_busy)}")
