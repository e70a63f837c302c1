"""A plan step's statement time limit on MariaDB and MySQL, set for the session and put back afterwards.

MariaDB has `max_statement_time` (seconds, every statement; error 1969 when it fires). MySQL has
`max_execution_time` (milliseconds, SELECT only; error 3024); other MySQL statements are bounded only by the
connection's read timeout. PyMySQL reads in Python, so a terminated run interrupts the step at once; the
query it leaves on the server is then stopped with `KILL QUERY` from a second connection.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import pymysql

from ops_pipeline.sources.base import SourceError
from ops_pipeline.sources.sql import Session

STATEMENT_TIMEOUT_ERRORS = {1969, 3024}  # MariaDB ER_STATEMENT_TIMEOUT, MySQL ER_QUERY_TIMEOUT


def is_mariadb(connection: Any) -> bool:
    return "mariadb" in str(connection.get_server_info()).lower()


@contextmanager
def statement_deadline(session: Session, seconds: float) -> Iterator[None]:
    connection = session.connection
    if is_mariadb(connection):
        variable, value = "max_statement_time", round(max(seconds, 0.001), 3)
    else:
        variable, value = "max_execution_time", max(1, math.ceil(seconds * 1000))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT @@SESSION.{variable}")
        previous = cursor.fetchone()[0]
        cursor.execute(f"SET @@SESSION.{variable} = %s", (value,))
    interrupted = False
    try:
        yield
    except pymysql.err.Error as error:
        if not (error.args and error.args[0] in STATEMENT_TIMEOUT_ERRORS):
            raise
        raise SourceError(
            session.name, "timeout", f"the statement ran past its {seconds:.3g} s limit and the server stopped it"
        ) from None
    except BaseException:
        # Interrupted mid-answer: stop the query on the server, and drop this connection, whose half-read
        # answer makes it unusable.
        interrupted = True
        _kill_running_query(connection)
        with suppress(Exception):
            connection.close()
        raise
    finally:
        if not interrupted and connection.open:
            with suppress(pymysql.err.Error), connection.cursor() as cursor:
                cursor.execute(f"SET @@SESSION.{variable} = %s", (previous,))


def _kill_running_query(connection: Any) -> None:
    with suppress(Exception):
        killer = pymysql.connect(
            host=connection.host,
            port=connection.port,
            user=connection.user,
            password=connection.password,
            connect_timeout=2,
            defer_connect=True,
        )
        # The same TLS as the step's connection (PyMySQL's own attributes, as `connection.connect` sets them).
        killer.ssl, killer.ctx, killer._ssl_required = connection.ssl, connection.ctx, connection._ssl_required
        killer.connect()
        try:
            with killer.cursor() as cursor:
                cursor.execute("KILL QUERY %s", (connection.thread_id(),))
        finally:
            killer.close()
