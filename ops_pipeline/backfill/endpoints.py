"""A connection to a backfill's source or destination, with the dialect details the SQL needs."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from ops_pipeline.settings import MySQLSource, PostgresSource, SourceConfig, SQLiteSource
from ops_pipeline.sources import mysql, postgresql
from ops_pipeline.sources import sqlite as sqlite_source
from ops_pipeline.sources.base import SourceError

Dialect = Literal["postgresql", "mysql", "sqlite"]


@dataclass
class Endpoint:
    name: str
    dialect: Dialect
    connection: Any

    @property
    def placeholder(self) -> str:
        return "?" if self.dialect == "sqlite" else "%s"

    def quote(self, identifier: str) -> str:
        mark = "`" if self.dialect == "mysql" else '"'
        return mark + identifier.replace(mark, mark * 2) + mark

    def qualified(self, name: str) -> str:
        """`schema.table` or `table`, each part quoted."""
        return ".".join(self.quote(part) for part in name.split(".", 1))

    def bound(self, moment: datetime) -> Any:
        """A window bound as this database compares it; SQLite keeps timestamps as ISO text."""
        return moment.replace(tzinfo=None).isoformat(sep=" ") if self.dialect == "sqlite" else moment

    def select(self, relation: str, columns: Sequence[str], time_column: str, extra: str = "") -> str:
        cols = ", ".join(self.quote(c) for c in columns)
        t = self.quote(time_column)
        return f"SELECT {cols} FROM {relation} WHERE {t} >= {self.placeholder} AND {t} < {self.placeholder}{extra}"


@contextmanager
def open_endpoint(name: str, config: SourceConfig, *, writable: bool = False) -> Iterator[Endpoint]:
    if isinstance(config, PostgresSource):
        with postgresql.connect(name, config, writable=writable) as conn:
            yield Endpoint(name, "postgresql", conn)
    elif isinstance(config, MySQLSource):
        with mysql._connect(name, config) as conn:
            yield Endpoint(name, "mysql", conn)
    elif isinstance(config, SQLiteSource) and writable:
        with _sqlite_writable(name, config) as conn:
            yield Endpoint(name, "sqlite", conn)
    elif isinstance(config, SQLiteSource):
        with sqlite_source._connect(name, config) as conn:
            yield Endpoint(name, "sqlite", conn)
    else:
        raise SourceError(name, "error", f"a {config.type} source cannot take part in a backfill")


@contextmanager
def _sqlite_writable(name: str, config: SQLiteSource) -> Iterator[sqlite3.Connection]:
    path = Path(config.path).expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=config.connect_timeout_s)
        conn.execute("PRAGMA journal_mode=WAL")
    except (OSError, sqlite3.Error) as error:
        raise SourceError(name, "error", f"{path}: {error}") from None
    try:
        yield conn
    except sqlite3.Error as error:
        raise SourceError(name, "error", f"{path}: {error}") from None
    finally:
        conn.close()
