"""Opening a SQLite file: read-only through a `mode=ro` URI, so a wrong path is an error and never creates an
empty database; writable (a backfill's destination) creates the file and its folder and uses WAL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ops_pipeline.settings import SQLiteSource
from ops_pipeline.sources.base import SourceError


@contextmanager
def connect(name: str, config: SQLiteSource, *, writable: bool = False) -> Iterator[sqlite3.Connection]:
    path = Path(config.path).expanduser()
    conn = _open_writable(name, path, config) if writable else _open_read_only(name, path, config)
    try:
        yield conn
    except sqlite3.Error as error:
        raise SourceError(name, "error", f"{path}: {error}") from None
    finally:
        conn.close()


def _open_read_only(name: str, path: Path, config: SQLiteSource) -> sqlite3.Connection:
    if not path.is_file():
        raise SourceError(name, "unknown_database", f"no SQLite database file at {path}")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=config.connect_timeout_s)
        conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()
    except sqlite3.DatabaseError as error:
        raise SourceError(name, "error", f"{path}: {error}") from None
    return conn


def _open_writable(name: str, path: Path, config: SQLiteSource) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=config.connect_timeout_s)
        conn.execute("PRAGMA journal_mode=WAL")
    except (OSError, sqlite3.Error) as error:
        raise SourceError(name, "error", f"{path}: {error}") from None
    return conn
