"""A plan step's statement time limit on PostgreSQL: `statement_timeout`, set for the open transaction only
(`SET LOCAL`), or for the session and put back afterwards on an autocommit connection. A terminated run cancels
the running query at once (libpq's cancel request from a watcher thread, since a signal cannot reach Python
while libpq waits for the server)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import psycopg2
import psycopg2.errors

from ops_pipeline.core.execution.interrupts import cancel_on_signal
from ops_pipeline.sources.base import SourceError
from ops_pipeline.sources.sql import Session


@contextmanager
def statement_deadline(session: Session, seconds: float) -> Iterator[None]:
    connection = session.connection
    milliseconds = max(1, math.ceil(seconds * 1000))
    previous: str | None = None
    with connection.cursor() as cursor:
        if connection.autocommit:
            cursor.execute("SHOW statement_timeout")
            previous = str(cursor.fetchone()[0])
            cursor.execute("SET statement_timeout = %s", (milliseconds,))
        else:
            cursor.execute("SET LOCAL statement_timeout = %s", (milliseconds,))
    try:
        with cancel_on_signal(connection.cancel):
            yield
    except psycopg2.errors.QueryCanceled as error:
        if "statement timeout" not in str(error):
            raise
        raise SourceError(
            session.name, "timeout", f"the statement ran past its {seconds:.3g} s limit and the server stopped it"
        ) from None
    finally:
        if previous is not None:
            with suppress(psycopg2.Error), connection.cursor() as cursor:
                cursor.execute("SET statement_timeout = %s", (previous,))
