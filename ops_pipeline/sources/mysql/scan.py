"""MySQL and MariaDB catalogs: a whole database in five information_schema queries, however many tables it has,
three of them over a second connection while the first two run."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import pymysql.cursors

from ops_pipeline.core.catalog import Catalog, Column, ForeignKey, Index, Table, TableKind, UniqueConstraint
from ops_pipeline.core.filters import ScanFilter
from ops_pipeline.settings import MySQLSource
from ops_pipeline.sources.mysql.connection import connect

TABLES = """
SELECT TABLE_NAME, TABLE_TYPE, TABLE_ROWS, TABLE_COMMENT
FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s
"""

# All columns as one string, fields and records split by ASCII unit/record separators: one value to transfer
# and str.split in C beats PyMySQL decoding 10,000 rows in pure Python (and JSON_ARRAYAGG, which MariaDB
# builds slowly). A NULL default is spelled as the group separator. A name or comment holding one of these
# control characters changes the field count of its record, which _column_rows detects and then falls back
# to plain rows. GROUP_CONCAT is capped by group_concat_max_len, so the session raises it first.
FIELD, RECORD, NULL_DEFAULT = "\x1f", "\x1e", "\x1d"
COLUMNS_PACKED = """
SELECT GROUP_CONCAT(CONCAT_WS(CHAR(31 USING utf8mb4), TABLE_NAME, ORDINAL_POSITION, COLUMN_NAME, COLUMN_TYPE,
                              IS_NULLABLE, IFNULL(COLUMN_DEFAULT, CHAR(29 USING utf8mb4)), COLUMN_COMMENT)
                    SEPARATOR 0x1e)
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s
"""
COLUMNS = """
SELECT TABLE_NAME, ORDINAL_POSITION, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, COLUMN_COMMENT
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s
"""
UNLIMITED_AGGREGATES = "SET SESSION group_concat_max_len = 4294967295"

CONSTRAINT_TYPES = """
SELECT TABLE_NAME, CONSTRAINT_NAME, CONSTRAINT_TYPE
FROM information_schema.TABLE_CONSTRAINTS
WHERE TABLE_SCHEMA = %s AND CONSTRAINT_TYPE IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY')
"""

KEY_COLUMNS = """
SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME,
       REFERENCED_TABLE_SCHEMA, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME
FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = %s
ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION
"""

INDEX_COLUMNS = """
SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME
FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %s AND INDEX_NAME <> 'PRIMARY'
ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX
"""


def scan_catalog(name: str, config: MySQLSource, *, exact_row_counts: bool, quote: Callable[[str], str]) -> Catalog:
    with connect(name, config) as conn, conn.cursor() as cursor, ThreadPoolExecutor(1) as second_connection:
        # Keys and indexes come over a second connection while the server lists tables and columns.
        keys_and_indexes = second_connection.submit(_fetch_keys_and_indexes, name, config)
        server_version = server_version_of(cursor)
        tables = _read_table_list(cursor, config.database, config.scan_filter)
        _add_columns(cursor, config.database, tables)
        constraint_types, key_columns, index_columns = keys_and_indexes.result()
        _add_constraints(constraint_types, key_columns, tables)
        _add_indexes(index_columns, tables)
        catalog = [parts.build(config.database, table) for table, parts in sorted(tables.items())]
        if exact_row_counts:
            catalog = [_with_exact_count(cursor, table, quote) for table in catalog]
    return Catalog(name, config.type, server_version, tuple(catalog))


def server_version_of(cursor: pymysql.cursors.Cursor) -> str:
    cursor.execute("SELECT VERSION()")
    row = cursor.fetchone()
    return str(row[0]) if row else ""


@dataclass
class _TableParts:
    kind: TableKind
    row_count: int | None
    comment: str | None
    columns: list[Column] = field(default_factory=list)
    primary_key: tuple[str, ...] = ()
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    unique_constraints: list[UniqueConstraint] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)

    def build(self, schema: str, name: str) -> Table:
        return Table(
            schema=schema,
            name=name,
            kind=self.kind,
            columns=tuple(self.columns),
            primary_key=self.primary_key,
            foreign_keys=tuple(sorted(self.foreign_keys, key=lambda fk: fk.name)),
            unique_constraints=tuple(sorted(self.unique_constraints, key=lambda u: u.name)),
            indexes=tuple(sorted(self.indexes, key=lambda i: i.name)),
            row_count=self.row_count,
            comment=self.comment,
        )


Rows = tuple[tuple[Any, ...], ...]


def _fetch_keys_and_indexes(name: str, config: MySQLSource) -> tuple[Rows, Rows, Rows]:
    with connect(name, config) as conn, conn.cursor() as cursor:
        results = []
        for query in (CONSTRAINT_TYPES, KEY_COLUMNS, INDEX_COLUMNS):
            cursor.execute(query, (config.database,))
            results.append(cursor.fetchall())
        return results[0], results[1], results[2]


def _read_table_list(cursor: pymysql.cursors.Cursor, database: str, scan_filter: ScanFilter) -> dict[str, _TableParts]:
    cursor.execute(TABLES, (database,))
    tables: dict[str, _TableParts] = {}
    for name, table_type, table_rows, comment in cursor.fetchall():
        if not scan_filter.keeps(database, name):
            continue
        is_view = table_type in ("VIEW", "SYSTEM VIEW")
        tables[name] = _TableParts(
            kind="view" if is_view else "table",
            row_count=None if is_view or table_rows is None else int(table_rows),
            # The server puts the word VIEW in every view's comment.
            comment=None if is_view or not comment else str(comment),
        )
    return tables


def _add_columns(cursor: pymysql.cursors.Cursor, database: str, tables: dict[str, _TableParts]) -> None:
    rows = _column_rows(cursor, database)
    rows.sort(key=lambda r: (r[0], int(r[1])))
    for table, _position, name, column_type, is_nullable, default, comment in rows:
        if table in tables:
            tables[table].columns.append(
                Column(name, str(column_type), is_nullable == "YES", _default(default), comment or None)
            )


def _column_rows(cursor: pymysql.cursors.Cursor, database: str) -> list[Any]:
    cursor.execute(UNLIMITED_AGGREGATES)
    cursor.execute(COLUMNS_PACKED, (database,))
    row = cursor.fetchone()
    packed = row[0] if row else None
    if not packed:
        return []
    if isinstance(packed, bytes):
        packed = packed.decode("utf-8")
    records: list[list[str | None]] = [list(record.split(FIELD)) for record in packed.split(RECORD)]
    if any(len(fields) != 7 for fields in records):
        cursor.execute(COLUMNS, (database,))
        return list(cursor.fetchall())
    for fields in records:
        if fields[5] == NULL_DEFAULT:
            fields[5] = None
    return records


def _default(value: str | None) -> str | None:
    # MariaDB spells "no default" on a nullable column as the expression NULL; MySQL gives SQL NULL.
    return None if value is None or value == "NULL" else str(value)


def _add_constraints(type_rows: Rows, key_rows: Rows, tables: dict[str, _TableParts]) -> None:
    constraint_types = {(table, name): kind for table, name, kind in type_rows if table in tables}
    key_columns: dict[tuple[str, str, bool], list[tuple[str, str, str, str]]] = defaultdict(list)
    for table, name, column, target_schema, target_table, target_column in key_rows:
        if table in tables:
            references = target_table is not None
            key_columns[(table, name, references)].append((column, target_schema, target_table, target_column))

    for (table, name, references), rows in key_columns.items():
        columns = tuple(row[0] for row in rows)
        parts = tables[table]
        if references:
            _, target_schema, target_table, _ = rows[0]
            target_columns = tuple(row[3] for row in rows)
            parts.foreign_keys.append(ForeignKey(name, columns, target_schema, target_table, target_columns))
        elif constraint_types.get((table, name)) == "PRIMARY KEY":
            parts.primary_key = columns
        elif constraint_types.get((table, name)) == "UNIQUE":
            parts.unique_constraints.append(UniqueConstraint(name, columns))


def _add_indexes(index_rows: Rows, tables: dict[str, _TableParts]) -> None:
    index_columns: dict[tuple[str, str], list[str]] = defaultdict(list)
    unique: dict[tuple[str, str], bool] = {}
    for table, name, non_unique, column in index_rows:
        if table in tables:
            index_columns[(table, name)].append(column if column is not None else "(expression)")
            unique[(table, name)] = not int(non_unique)

    for (table, name), columns in index_columns.items():
        parts = tables[table]
        # A UNIQUE constraint is its own index in MySQL; report it once, as the constraint.
        if any(u.name == name for u in parts.unique_constraints):
            continue
        parts.indexes.append(Index(name, tuple(columns), unique[(table, name)]))


def _with_exact_count(cursor: pymysql.cursors.Cursor, table: Table, quote: Callable[[str], str]) -> Table:
    if table.kind == "view":
        return table
    cursor.execute(f"SELECT COUNT(*) FROM {quote(table.schema)}.{quote(table.name)}")
    row = cursor.fetchone()
    return replace(table, row_count=int(row[0]) if row else 0, row_count_exact=True)
