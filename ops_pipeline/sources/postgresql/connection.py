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


def classify(message: str) -> ErrorKind:
    lowered = message.lower()
    return next((kind for marker, kind in ERROR_MARKERS if marker in lowered), "error")


def target(config: PostgresSource) -> str:
    return f"{config.host}:{config.port}/{config.database}"


def _connection_args(config: PostgresSource) -> dict[str, Any]:
    args: dict[str, Any] = {
        "host": config.host,
        "port": config.port,
        "dbname": config.database,
        "user": config.user,
        # libpq rounds timeouts below 2 s up to 2 s.
        "connect_timeout": max(1, round(config.connect_timeout_s)),
        "sslmode": config.ssl.mode,
        "application_name": "ops_pipeline",
        "options": f"-c statement_timeout={round(config.query_timeout_s * 1000)}",
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


@contextmanager
def connect(name: str, config: PostgresSource, *, writable: bool = False) -> Iterator[psycopg2.extensions.connection]:
    """A connection with errors turned into SourceErrors. Read-only and autocommit unless `writable`, where the
    caller commits; the session runs in UTC either way."""
    try:
        conn = psycopg2.connect(**_connection_args(config))
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
        reason = " ".join(str(error).split())
        kind: ErrorKind = "timeout" if "statement timeout" in reason else "error"
        raise SourceError(name, kind, f"{target(config)}: {reason}") from None
    finally:
        conn.close()
