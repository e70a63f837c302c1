"""SQLite as one object: a file opened read-only (or writable, as a backfill's destination), the pragma scan,
its affinity type rules, a hashed-rowid sample, ISO-text timestamps and `?` parameters."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from ops_pipeline.core.catalog import Catalog, Table
from ops_pipeline.core.models import ModelType
from ops_pipeline.settings import SQLiteSource
from ops_pipeline.sources.base import ConnectionReport, timed
from ops_pipeline.sources.sql import Query, RelationFacts, Row, Session, SqlDatabase, Transfer, WindowSize
from ops_pipeline.sources.sqlite import bulk, connection, limits, profile, types
from ops_pipeline.sources.sqlite.scan import scan_catalog, server_version_of


class SQLiteDatabase(SqlDatabase[SQLiteSource]):
    source_type = "sqlite"
    type_rules = types.TYPE_RULES
    placeholder = "?"

    def connect(
        self, name: str, config: SQLiteSource, *, writable: bool = False
    ) -> AbstractContextManager[sqlite3.Connection]:
        return connection.connect(name, config, writable=writable)

    def test_connection(self, name: str, config: SQLiteSource) -> ConnectionReport:
        def version() -> str:
            with connection.connect(name, config) as conn:
                conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()
                return server_version_of(conn)

        server_version, latency_ms = timed(version)
        return ConnectionReport(name, self.source_type, server_version, latency_ms, config.path)

    def scan(self, name: str, config: SQLiteSource, *, exact_row_counts: bool = False) -> Catalog:
        return scan_catalog(name, config, exact_row_counts=exact_row_counts, quote=self.quote)

    def bound(self, moment: datetime) -> Any:
        return bulk.bound(moment)

    def table_columns(self, connection: Any, table: str) -> list[tuple[str, str]] | None:
        found = connection.execute(f"SELECT name, type FROM pragma_table_info({self.placeholder})", (table,))
        return [(str(name), str(kind)) for name, kind in found.fetchall()] or None

    def destination_type(self, model_type: ModelType) -> str:
        return types.destination_type(model_type)

    def describe_relation(self, query: Query, table: Table) -> RelationFacts | None:
        return profile.describe_relation(query, table)

    def sample_clause(self, *, rows: int, sample_rows: int, seed: int, row_level: bool) -> tuple[str, str]:
        return profile.sample_clause(rows=rows, sample_rows=sample_rows, seed=seed)  # a rowid stride picks rows

    def profile_cursor(self, connection: Any) -> Any:
        return profile.lenient_cursor(connection)

    def value_text(self, quoted: str, data_type: str) -> str:
        return profile.value_text(quoted, data_type)

    def bucket_expression(self, quoted_column: str, window: WindowSize) -> str:
        pattern = "%Y-%m-%d %H:00:00" if window == "hourly" else "%Y-%m-%d 00:00:00"
        return f"strftime('{pattern}', {quoted_column})"

    def lock_window(self, session: Session, transfer: Transfer, start: datetime, end: datetime) -> None:
        limits.write_lock(session, transfer.window_timeout_s)

    def write_rows(self, session: Session, transfer: Transfer, rows: Sequence[Row]) -> None:
        super().write_rows(session, transfer, bulk.stored_rows(rows))

    def statement_deadline(self, session: Session, seconds: float) -> AbstractContextManager[None]:
        return limits.statement_deadline(session, seconds)
