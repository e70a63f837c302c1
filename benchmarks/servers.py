"""Helpers the benchmark scripts share: the PostgreSQL server they use, and a timer.

The server is the tests' one: OPS_TEST_PG_HOST/PORT/USER (default 127.0.0.1:5432, postgres, trust auth).
The scripts run as `python benchmarks/<name>.py`, which puts this directory on sys.path: `from servers import ...`.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg2

PG_HOST = os.environ.get("OPS_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("OPS_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("OPS_TEST_PG_USER", "postgres")

T = TypeVar("T")


class BenchmarkError(RuntimeError):
    """A server is unreachable, something is missing or a result is wrong: no figures may be reported."""


def timed(action: Callable[[], T]) -> tuple[T, float]:
    """`action()`'s result and the seconds it took."""
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def pg_url(database: str, dialect: str = "postgresql+psycopg2") -> str:
    """The SQLAlchemy URL of `database` on the server (`dialect="postgresql"` for a driver-less one)."""
    return f"{dialect}://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"


def pg_connect(database: str) -> Any:
    """A psycopg2 connection to `database`; BenchmarkError, saying how to point at a server, when unreachable."""
    try:
        return psycopg2.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=database, connect_timeout=5)
    except psycopg2.OperationalError as error:
        raise BenchmarkError(
            f"PostgreSQL is not reachable at {PG_HOST}:{PG_PORT} as {PG_USER!r}: {' '.join(str(error).split())} "
            "(start it or set OPS_TEST_PG_HOST/OPS_TEST_PG_PORT/OPS_TEST_PG_USER)"
        ) from None


def check_pg() -> None:
    """BenchmarkError unless the server accepts a connection to its `postgres` database."""
    pg_connect("postgres").close()


@contextmanager
def pg_database() -> Iterator[str]:
    """A fresh database `ops_bench_<random>` (its name), dropped afterwards even on failure."""
    name = f"ops_bench_{uuid.uuid4().hex[:12]}"
    admin = pg_connect("postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        try:
            yield name
        finally:
            with admin.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()
