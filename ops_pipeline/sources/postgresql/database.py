"""PostgreSQL as one object: psycopg2 connections, the pg_catalog scan, its type rules, TABLESAMPLE sampling, COPY
in and out, and a COPY pipe with server-side row hashes between two PostgreSQL databases."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import psycopg2.extensions

from ops_pipeline.core.catalog import Catalog, Table
from ops_pipeline.core.models import ModelType
from ops_pipeline.settings import PostgresSource
from ops_pipeline.sources.base import ConnectionReport, timed
from ops_pipeline.sources.postgresql import bulk, connection, limits, locks, profile, types
from ops_pipeline.sources.postgresql.scan import scan_catalog
from ops_pipeline.sources.sql import (
    DirectPath,
    Query,
    RelationFacts,
    Row,
    Session,
    SqlDatabase,
    Transfer,
    WindowSize,
)

COLUMNS = (
    "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
    "WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
)


class PostgresDatabase(SqlDatabase[PostgresSource]):
    source_type = "postgresql"
    type_rules = types.TYPE_RULES
    profile_begin = profile.BEGIN

    def connect(
        self, name: str, config: PostgresSource, *, writable: bool = False
    ) -> AbstractContextManager[psycopg2.extensions.connection]:
        return connection.connect(name, config, writable=writable)

    def test_connection(self, name: str, config: PostgresSource) -> ConnectionReport:
        def version() -> str:
            with connection.connect(name, config) as conn, conn.cursor() as cursor:
                cursor.execute("SHOW server_version")
                return str(cursor.fetchone()[0])

        server_version, latency_ms = timed(version)
        return ConnectionReport(name, self.source_type, server_version, latency_ms, connection.target(config))

    def scan(self, name: str, config: PostgresSource, *, exact_row_counts: bool = False) -> Catalog:
        return scan_catalog(name, config, exact_row_counts=exact_row_counts, quote=self.quote)

    def table_columns(self, connection: Any, table: str) -> list[tuple[str, str]] | None:
        with connection.cursor() as cursor:
            cursor.execute(COLUMNS, (self.qualified(table),))
            rows = [(str(name), str(kind)) for name, kind in cursor.fetchall()]
        return rows or None

    def destination_type(self, model_type: ModelType) -> str:
        return types.destination_type(model_type)

    def describe_relation(self, query: Query, table: Table) -> RelationFacts | None:
        return profile.describe_relation(query, table)

    def sample_clause(self, *, rows: int, sample_rows: int, seed: int, row_level: bool) -> tuple[str, str]:
        return profile.sample_clause(rows=rows, sample_rows=sample_rows, seed=seed, row_level=row_level)

    def as_text(self, expression: str) -> str:
        return f"({expression})::text"

    def value_text(self, quoted: str, data_type: str) -> str:
        return f"{quoted}::text"

    def bucket_expression(self, quoted_column: str, window: WindowSize) -> str:
        return f"date_trunc('{'hour' if window == 'hourly' else 'day'}', {quoted_column})"

    def sample_window(
        self, session: Session, transfer: Transfer, start: datetime, end: datetime, rows: int
    ) -> list[Row] | None:
        return bulk.tablesample_window(session, transfer, start, end, rows)

    def streaming_cursor(self, connection: Any, chunk_rows: int) -> Any:
        # A named (server-side) cursor; WITH HOLD lets it live outside a transaction on an autocommit connection.
        cursor = connection.cursor(name=f"ops_backfill_{threading.get_ident()}", withhold=True)
        cursor.itersize = chunk_rows
        return cursor

    def write_rows(self, session: Session, transfer: Transfer, rows: Sequence[Row]) -> None:
        bulk.copy_rows(session, transfer, rows)

    def lock_window(self, session: Session, transfer: Transfer, start: datetime, end: datetime) -> None:
        locks.lock_window(session, transfer, start, end)

    def direct_path_from(self, source: Session, destination: Session, transfer: Transfer) -> DirectPath | None:
        if not isinstance(source.database, PostgresDatabase):
            return None
        return bulk.CopyPipe(
            binary=self._source_types(source, transfer) == transfer.destination_types,
            row_hash=bulk.row_hash_for(source, transfer.destination_types),
        )

    def _source_types(self, source: Session, transfer: Transfer) -> tuple[str, ...] | None:
        """The source table's column types (a query's are not known ahead)."""
        if transfer.source_table is None:
            return None
        found = dict(self.table_columns(source.connection, transfer.source_table) or [])
        return tuple(found.get(c, "") for c in transfer.columns)

    def statement_deadline(self, session: Session, seconds: float) -> AbstractContextManager[None]:
        return limits.statement_deadline(session, seconds)
