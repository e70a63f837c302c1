"""Relational databases: what a `SqlDatabase` adds to `Database`, and the `Session` generic code works through.

A SqlDatabase owns its dialect: how to connect (read-only or writable), quote, bind parameters and compare
timestamps, how its type spellings read as model types and which type it gives a model type, how it samples a
table, counts rows per time window, streams and writes rows in bulk, and whether it has a faster path with a
database of its own kind. Backfills, profiles and model generation ask it and never branch on a database's
name. The defaults follow standard SQL and the DB-API (double-quoted identifiers, `%s` parameters,
`CAST(... AS TEXT)`, `DELETE` and `executemany`); a database overrides what it spells differently.
"""

from __future__ import annotations

import os
import socket
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from ops_pipeline.core.catalog import Table
from ops_pipeline.core.models import ModelType, TypeRules, map_sql_type
from ops_pipeline.core.plans.sql_text import percent_escaped, positional_binds
from ops_pipeline.sources.base import ConfigT, Database

WindowSize = Literal["hourly", "daily"]
Row = tuple[Any, ...]
Query = Callable[[str, Sequence[Any] | None], list[Row]]  # runs one statement, returns its rows


@dataclass(frozen=True)
class Transfer:
    """What every window of one backfill copies, and where to."""

    relation: str  # the source's FROM clause: a quoted table, or "(query) AS backfill_source"
    source_table: str | None  # the source table as configured, unquoted; None when the source is a query
    columns: tuple[str, ...]
    time_column: str
    destination: str  # destination table, schema-qualified or not, unquoted
    destination_types: tuple[str, ...]  # the destination's column types, in `columns` order
    chunk_rows: int
    window_timeout_s: float = 3600.0  # longest one window's load (its lock wait included) may take


@dataclass(frozen=True)
class WindowLoad:
    """A window written and reconciled: rows read from the source and each side's checksum (`kind:rows:hex`)."""

    rows_read: int
    source_checksum: str
    destination_checksum: str


class DirectPath(ABC):
    """A way to move windows between two databases of one kind without the rows passing through Python."""

    @abstractmethod
    def load(self, src: Session, dst: Session, transfer: Transfer, start: datetime, end: datetime) -> WindowLoad:
        """Write the window's rows in the destination's open transaction (its old rows already deleted) and
        checksum both sides, the destination's inside that transaction; the caller commits."""


@dataclass(frozen=True)
class RelationFacts:
    """What a profile needs to know about a table beyond the catalog."""

    estimate: int | None  # None when the database has none, or says 0 (often stale): then the table is counted
    samplable: bool  # False for relations the database cannot sample (views, tables without a rowid)
    orderable: frozenset[str]  # columns whose min/max are meaningful and supported
    n_distinct: Mapping[str, float] = field(default_factory=dict)  # the database's own statistics, if any


def positive(value: Any) -> int | None:
    """A row estimate, or None when there is none or it says 0 (often stale)."""
    return int(value) if value is not None and value > 0 else None


def decimal_literal(value: float) -> str:
    """A percentage or fraction as a short SQL literal, never 0 (no rows) and never in exponent notation."""
    return f"{max(value, 1e-6):.6f}".rstrip("0").rstrip(".")


class SqlDatabase(Database[ConfigT]):
    """A relational source type. One subclass per database, in its package under `ops_pipeline/sources/`."""

    type_rules: TypeRules
    placeholder: str = "%s"
    # Opens a read-only transaction whose queries all see one snapshot (a profile's two queries).
    profile_begin: tuple[str, ...] = ("BEGIN",)

    # --- connections --------------------------------------------------------------------------------------

    @abstractmethod
    def connect(self, name: str, config: ConfigT, *, writable: bool = False) -> AbstractContextManager[Any]:
        """A DB-API connection, closed on exit; the database's errors become classified SourceErrors. Read-only
        unless `writable`, where the caller commits."""

    @contextmanager
    def session(self, name: str, config: ConfigT, *, writable: bool = False) -> Iterator[Session]:
        with self.connect(name, config, writable=writable) as connection:
            yield Session(self, name, connection)

    # --- statements of plan steps -------------------------------------------------------------------------

    def bind_named(self, statement: str, values: Mapping[str, Any]) -> tuple[str, list[Any] | None]:
        """`statement` with its `:name` placeholders in this driver's parameter style, and their values in the
        order the driver takes them; a statement without placeholders goes as written, with no parameters.
        Values are always bound by the driver, never written into the SQL text."""
        text, order = positional_binds(statement, self.placeholder, double_percent="%" in self.placeholder)
        if not order:
            return statement, None
        missing = sorted({name for name in order if name not in values})
        if missing:
            raise ValueError(f"no value for {', '.join(':' + name for name in missing)}")
        return text, [values[name] for name in order]

    def cut(self, connection: Any) -> None:
        """End every wait on `connection` at once, from another thread: its socket is shut down under the
        driver, which then fails (a window past its deadline). A database without a socket overrides it."""
        with suppress(OSError, AttributeError, ValueError):
            sock = socket.socket(fileno=os.dup(connection.fileno()))
            try:
                sock.shutdown(socket.SHUT_RDWR)
            finally:
                sock.close()

    def with_parameters(self, sql: str) -> str:
        """`sql` as this driver reads it when parameters go with it. Drivers that format parameters with `%`
        would read a `%` in an identifier (a column `pct%`) as a format character: it is escaped here."""
        return percent_escaped(sql) if "%" in self.placeholder and "%" in sql else sql

    def statement_deadline(self, session: Session, seconds: float) -> AbstractContextManager[None] | None:
        """A context in which the server stops the session's statements after `seconds`, raising
        SourceError(kind="timeout"); None when this database has no such limit (the caller then uses a generic
        one). Meant for a writable session's open transaction."""
        return None

    # --- identifiers and values ---------------------------------------------------------------------------

    def quote(self, identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    def qualified(self, name: str) -> str:
        """`schema.table` or `table`, each part quoted."""
        return ".".join(self.quote(part) for part in name.split(".", 1))

    def bound(self, moment: datetime) -> Any:
        """A timestamp as a parameter that compares right with this database's timestamp columns."""
        return moment

    # --- types --------------------------------------------------------------------------------------------

    @abstractmethod
    def table_columns(self, connection: Any, table: str) -> list[tuple[str, str]] | None:
        """(name, type) of each column of `table` (unquoted, schema-qualified or not), None when it does not
        exist."""

    def destination_type(self, model_type: ModelType) -> str:
        """The column type this database gives a value of `model_type` when a backfill creates its table."""
        raise NotImplementedError(f"{self.source_type} cannot create a backfill's destination table")

    def column_type_from(self, source: SqlDatabase[Any], data_type: str) -> str:
        """A destination column for a `source` column of `data_type`: the same type between databases of one
        kind (a type only the source defines, such as a PostgreSQL enum, then fails by name), else through the
        model type, keeping precision."""
        if source.source_type == self.source_type:
            return data_type
        return self.destination_type(map_sql_type(data_type, source.type_rules))

    # --- profiles -----------------------------------------------------------------------------------------

    @abstractmethod
    def describe_relation(self, query: Query, table: Table) -> RelationFacts | None:
        """The row estimate, samplability and orderable columns of `table`, asked through `query` (the
        profile's read-only snapshot); None when the table no longer exists."""

    @abstractmethod
    def sample_clause(self, *, rows: int, sample_rows: int, seed: int, row_level: bool) -> tuple[str, str]:
        """SQL after `FROM <table>` that draws about `sample_rows` of `rows` rows, repeatably for one `seed`,
        never by sorting on a random key; and how to describe it. `row_level` asks for a row-level sample where
        the database's usual one picks pages."""

    def profile_cursor(self, connection: Any) -> Any:
        return connection.cursor()

    def as_text(self, expression: str) -> str:
        """An expression's value as text (a profile's min and max)."""
        return f"CAST({expression} AS TEXT)"

    def value_text(self, quoted: str, data_type: str) -> str:
        """A column's value as text that tells distinct values apart (a profile's grouping)."""
        return f"CAST({quoted} AS TEXT)"

    # --- time windows (backfills) -------------------------------------------------------------------------

    @abstractmethod
    def bucket_expression(self, quoted_column: str, window: WindowSize) -> str:
        """The start of the hour or day a timestamp falls in."""

    def window_count_sql(self, relation: str, time_column: str, window: WindowSize) -> str:
        """Rows per window of `relation` between two bound parameters, as (window start, count)."""
        bucket = self.bucket_expression(self.quote(time_column), window)
        return f"SELECT {bucket}, count(*) FROM {relation} WHERE {self.window_predicate(time_column)} GROUP BY 1"

    def window_predicate(self, time_column: str) -> str:
        t = self.quote(time_column)
        return f"{t} >= {self.placeholder} AND {t} < {self.placeholder}"

    def sample_window(
        self, session: Session, transfer: Transfer, start: datetime, end: datetime, rows: int
    ) -> list[Row] | None:
        """About `rows` rows spread over the window, drawn by the database; None where it draws none (the
        caller then takes the window's first rows)."""
        return None

    def streaming_cursor(self, connection: Any, chunk_rows: int) -> Any:
        """A cursor that keeps a large result on the server and hands it over in chunks."""
        return connection.cursor()

    def stream_window(
        self, session: Session, relation: str, transfer: Transfer, start: datetime, end: datetime
    ) -> Iterator[list[Row]]:
        """The window's rows of `relation` in chunks of `transfer.chunk_rows`: memory stays bounded."""
        cursor = self.streaming_cursor(session.connection, transfer.chunk_rows)
        try:
            select = session.select_window(relation, transfer.columns, transfer.time_column)
            cursor.execute(self.with_parameters(select), session.bounds(start, end))
            while chunk := cursor.fetchmany(transfer.chunk_rows):
                yield [tuple(row) for row in chunk]
        finally:
            cursor.close()

    def write_rows(self, session: Session, transfer: Transfer, rows: Sequence[Row]) -> None:
        """Append rows to the destination table in the session's open transaction."""
        columns = ", ".join(self.quote(c) for c in transfer.columns)
        marks = ", ".join(self.placeholder for _ in transfer.columns)
        cursor = session.connection.cursor()
        try:
            insert = f"INSERT INTO {self.qualified(transfer.destination)} ({columns}) VALUES ({marks})"
            cursor.executemany(self.with_parameters(insert), list(rows))
        finally:
            cursor.close()

    def lock_window(self, session: Session, transfer: Transfer, start: datetime, end: datetime) -> None:
        """Make the session's open transaction the only one replacing this window of the destination table until
        it ends, waiting at most `transfer.window_timeout_s` for another run's. The default relies on the
        database's own row and gap locks taken by the window's DELETE (InnoDB's next-key locks)."""

    def delete_window(self, session: Session, transfer: Transfer, start: datetime, end: datetime) -> None:
        sql = f"DELETE FROM {self.qualified(transfer.destination)} WHERE {self.window_predicate(transfer.time_column)}"
        session.execute(sql, session.bounds(start, end))

    def direct_path_from(self, source: Session, destination: Session, transfer: Transfer) -> DirectPath | None:
        """A faster way to load windows from `source` into this database, when there is one (None: rows are
        streamed through Python and checksummed there)."""
        return None


@dataclass(frozen=True)
class Session:
    """One open connection and the database object that speaks its dialect."""

    database: SqlDatabase[Any]
    name: str
    connection: Any

    @property
    def placeholder(self) -> str:
        return self.database.placeholder

    def quote(self, identifier: str) -> str:
        return self.database.quote(identifier)

    def qualified(self, name: str) -> str:
        return self.database.qualified(name)

    def bounds(self, start: datetime, end: datetime) -> tuple[Any, Any]:
        return self.database.bound(start), self.database.bound(end)

    def select_window(self, relation: str, columns: Sequence[str], time_column: str, extra: str = "") -> str:
        """SELECT the columns of `relation`'s rows in a window given by two bound parameters."""
        selected = ", ".join(self.quote(c) for c in columns)
        return f"SELECT {selected} FROM {relation} WHERE {self.database.window_predicate(time_column)}{extra}"

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[Row]:
        cursor = self.connection.cursor()
        try:
            execute(cursor, self.database.with_parameters(sql) if params is not None else sql, params)
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        cursor = self.connection.cursor()
        try:
            execute(cursor, self.database.with_parameters(sql) if params is not None else sql, params)
        finally:
            cursor.close()


def execute(cursor: Any, sql: str, params: Sequence[Any] | None = None) -> None:
    """Without parameters the SQL goes as written: drivers that format with `%` leave it alone then."""
    if params is None:
        cursor.execute(sql)
    else:
        cursor.execute(sql, params)
