"""MySQL and MariaDB as one object: PyMySQL connections, the information_schema scan, its type rules,
`RAND(seed)` sampling, backquoted identifiers and unbuffered streaming. A backfill source, not a destination."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import pymysql.cursors

from ops_pipeline.core.catalog import Catalog, Table
from ops_pipeline.settings import MySQLSource
from ops_pipeline.sources.base import ConnectionReport, timed
from ops_pipeline.sources.mysql import connection, limits, profile, types
from ops_pipeline.sources.mysql.scan import scan_catalog, server_version_of
from ops_pipeline.sources.sql import Query, RelationFacts, Session, SqlDatabase, WindowSize

COLUMNS = """
SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = COALESCE(%s, DATABASE()) AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION
"""


class MySQLDatabase(SqlDatabase[MySQLSource]):
    source_type = "mysql"
    type_rules = types.TYPE_RULES
    profile_begin = profile.BEGIN

    def connect(
        self, name: str, config: MySQLSource, *, writable: bool = False
    ) -> AbstractContextManager[pymysql.connections.Connection[Any]]:
        return connection.connect(name, config, writable=writable)

    def test_connection(self, name: str, config: MySQLSource) -> ConnectionReport:
        def connect_and_ask_version() -> str:
            with connection.connect(name, config) as conn, conn.cursor() as cursor:
                return server_version_of(cursor)

        server_version, latency_ms = timed(connect_and_ask_version)
        return ConnectionReport(name, self.source_type, server_version, latency_ms, connection.target(config))

    def scan(self, name: str, config: MySQLSource, *, exact_row_counts: bool = False) -> Catalog:
        return scan_catalog(name, config, exact_row_counts=exact_row_counts, quote=self.quote)

    def quote(self, identifier: str) -> str:
        return "`" + identifier.replace("`", "``") + "`"

    def table_columns(self, connection: Any, table: str) -> list[tuple[str, str]] | None:
        schema, _, name = table.rpartition(".")
        with connection.cursor() as cursor:
            cursor.execute(COLUMNS, (schema or None, name))
            rows = [(str(column), str(kind)) for column, kind in cursor.fetchall()]
        return rows or None

    def describe_relation(self, query: Query, table: Table) -> RelationFacts | None:
        return profile.describe_relation(query, table)

    def sample_clause(self, *, rows: int, sample_rows: int, seed: int, row_level: bool) -> tuple[str, str]:
        return profile.sample_clause(rows=rows, sample_rows=sample_rows, seed=seed)  # RAND picks rows already

    def as_text(self, expression: str) -> str:
        return f"CAST({expression} AS CHAR)"

    def value_text(self, quoted: str, data_type: str) -> str:
        return profile.value_text(quoted, data_type)

    def bucket_expression(self, quoted_column: str, window: WindowSize) -> str:
        pattern = "%Y-%m-%d %H:00:00" if window == "hourly" else "%Y-%m-%d 00:00:00"
        return f"DATE_FORMAT({quoted_column}, '{pattern}')"  # a % is escaped with the statement's parameters

    def streaming_cursor(self, connection: Any, chunk_rows: int) -> Any:
        return connection.cursor(pymysql.cursors.SSCursor)  # unbuffered: rows stay on the server

    def statement_deadline(self, session: Session, seconds: float) -> AbstractContextManager[None]:
        return limits.statement_deadline(session, seconds)
