"""A plan step's statement time limit on MariaDB and MySQL, set for the session and put back afterwards.

MariaDB has `max_statement_time` (seconds, every statement; error 1969 when it fires). MySQL has
`max_execution_time` (milliseconds, SELECT only; error 3024); other MySQL statements are bounded only by the
connection's read timeout.
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
    try:
        yield
    except pymysql.err.Error as error:
        if not (error.args and error.args[0] in STATEMENT_TIMEOUT_ERRORS):
            raise
        raise SourceError(
            session.name, "timeout", f"the statement ran past its {seconds:.3g} s limit and the server stopped it"
        ) from None
    finally:
        with suppress(pymysql.err.Error), connection.cursor() as cursor:
            cursor.execute(f"SET @@SESSION.{variable} = %s", (previous,))
