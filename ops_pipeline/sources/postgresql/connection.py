"""Opening a PostgreSQL connection (psycopg2) with libpq's errors turned into classified SourceErrors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2
import psycopg2.extensions

from ops_pipeline.core.secrets import SecretError, resolve_secret
from ops_pipeline.settings import PostgresSource
from ops_pipeline.sources.base import ErrorKind, SourceError

ERROR_MARKERS: tuple[tuple[str, ErrorKind], ...] = (
    ("timeout expired", "timeout"),
    ("password authentication failed", "auth_failed"),
    ("authentication failed", "auth_failed"),
    ("no pg_hba.conf entry", "auth_failed"),
    ('role "', "auth_failed"),
    ('database "', "unknown_database"),
    ("connection refused", "unreachable"),
    ("could not translate host name", "unreachable"),
    ("no route to host", "unreachable"),
    ("could not connect", "unreachable"),
)


# A connection that broke after it was made: the server or the link went away.
LOST_MARKERS = (
    "server closed the connection",
    "connection already closed",
    "terminating connection",
    "could not receive data",
    "could not send data",
    "ssl syscall error",
    "eof detected",
    "connection reset",
    "broken pipe",
    "no message from the libpq",  # libpq's report when the link drops in the middle of a COPY
)


def classify(message: str) -> ErrorKind:
    lowered = message.lower()
    return next((kind for marker, kind in ERROR_MARKERS if marker in lowered), "error")


def target(config: PostgresSource) -> str:
    return f"{config.host}:{config.port}/{config.database}"


def _connected_error(config: PostgresSource, reason: str) -> tuple[ErrorKind, str, str | None]:
    """(kind, detail, hint naming the governing setting) of an error on an open connection."""
    lowered = reason.lower()
    if "statement timeout" in lowered:
        return "timeout", reason, f"the server stopped a statement at query_timeout_s ({config.query_timeout_s:g} s)"
    if "lock timeout" in lowered or "idle-in-transaction timeout" in lowered:
        return "timeout", reason, f"the server's lock or idle limit is query_timeout_s ({config.query_timeout_s:g} s)"
    if _is_lost(lowered):
        return "unreachable", reason, LOST_HINT
    return "error", reason, None


LOST_HINT = "the server or the link to it went away during the session"


def _is_lost(lowered: str) -> bool:
    return any(marker in lowered for marker in LOST_MARKERS)


def lost_or_error(reason: str) -> tuple[ErrorKind, str]:
    return ("unreachable" if _is_lost(reason.lower()) else "error"), reason


def session_error(name: str, error: psycopg2.Error) -> SourceError:
    """An error of an open connection as its source's SourceError, for code that knows which connection it used
    (a thread reading one end of a backfill)."""
    kind, reason = lost_or_error(" ".join(str(error).split()) or type(error).__name__)
    return SourceError(name, kind, reason, hint=LOST_HINT if kind == "unreachable" else None)


def _connection_args(config: PostgresSource, writable: bool = False) -> dict[str, Any]:
    args: dict[str, Any] = {
        "host": config.host,
        "port": config.port,
        "dbname": config.database,
        "user": config.user,
        # libpq rounds timeouts below 2 s up to 2 s.
        "connect_timeout": max(1, round(config.connect_timeout_s)),
        "sslmode": config.ssl.mode,
        "application_name": "ops_pipeline",
        "options": _server_limits(config, writable),
        # A peer that dies without closing (power, link) is noticed within about idle + 3 * interval seconds.
        "keepalives": 1,
        "keepalives_idle": max(1, round(config.connect_timeout_s)),
        "keepalives_interval": max(1, round(config.connect_timeout_s / 3)),
        "keepalives_count": 3,
        "tcp_user_timeout": round(config.query_timeout_s * 1000),
    }
    for option, path in (
        ("sslrootcert", config.ssl.ca_file),
        ("sslcert", config.ssl.cert_file),
        ("sslkey", config.ssl.key_file),
    ):
        if path:
            args[option] = path
    if config.password:
        args["password"] = resolve_secret(config.password)
    return {k: v for k, v in args.items() if v is not None}


def _server_limits(config: PostgresSource, writable: bool) -> str:
    """statement_timeout on every session; a writer also gets lock_timeout and an idle-in-transaction limit, so
    a destination whose client went quiet never holds its row locks for longer than query_timeout_s."""
    milliseconds = round(config.query_timeout_s * 1000)
    limits = [f"-c statement_timeout={milliseconds}"]
    if writable:
        limits += [f"-c lock_timeout={milliseconds}", f"-c idle_in_transaction_session_timeout={milliseconds}"]
    return " ".join(limits)


@contextmanager
def connect(name: str, config: PostgresSource, *, writable: bool = False) -> Iterator[psycopg2.extensions.connection]:
    """A connection with errors turned into SourceErrors. Read-only and autocommit unless `writable`, where the
    caller commits; the session runs in UTC either way."""
    try:
        conn = psycopg2.connect(**_connection_args(config, writable))
    except SecretError as error:
        raise SourceError(name, "auth_failed", str(error)) from None
    except psycopg2.OperationalError as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise SourceError(name, classify(reason), f"{target(config)}: {reason}") from None
    try:
        conn.set_session(readonly=not writable, autocommit=not writable)
        with conn.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'UTC'")
        yield conn
    except psycopg2.Error as error:
        if _raised_by_another(error, conn):
            raise  # another connection's error (a backfill's other end): that connection's context names it
        kind, reason, hint = _connected_error(config, " ".join(str(error).split()) or type(error).__name__)
        raise SourceError(name, kind, f"{target(config)}: {reason}", hint=hint) from None
    finally:
        conn.close()


def _raised_by_another(error: psycopg2.Error, conn: psycopg2.extensions.connection) -> bool:
    cursor = getattr(error, "cursor", None)
    return cursor is not None and cursor.connection is not conn
