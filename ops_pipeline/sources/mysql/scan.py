"""MySQL and MariaDB catalogs: a whole database in a fixed number of information_schema queries, however many
tables it has; keys, checks and indexes over a second connection while tables, columns and views are read.

A view's columns are read in a session at the server's default group_concat_max_len (see catalog_sql), and a
partitioned table lists its partitions with their bounds."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import pymysql.cursors

from ops_pipeline.core.catalog import (
    Catalog,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Partition,
    Table,
    TableKind,
    UniqueConstraint,
)
from ops_pipeline.core.filters import ScanFilter
from ops_pipeline.settings import MySQLSource
from ops_pipeline.sources.mysql.catalog_sql import (
    COLUMNS,
    DEFAULT_AGGREGATES,
    FIELD,
    FOREIGN_KEY_ACTIONS,
    INDEX_COLUMNS,
    KEY_COLUMNS,
    MARIADB_CHECKS,
    MYSQL_CHECKS,
    NULL_VALUE,
    PARTITIONS,
    RECORD,
    TABLES,
    UNLIMITED_AGGREGATES,
    VIEWS,
    Listing,
)
from ops_pipeline.sources.mysql.connection import connect

ON_UPDATE = re.compile(r"on update (\S+)", re.IGNORECASE)


def scan_catalog(name: str, config: MySQLSource, *, exact_row_counts: bool, quote: Callable[[str], str]) -> Catalog:
    with connect(name, config) as conn, conn.cursor() as cursor, ThreadPoolExecutor(1) as second_connection:
        # Tables, keys and indexes come over a second connection while the server lists the columns.
        table_rows = second_connection.submit(_fetch_table_rows, name, config)
        keys_and_indexes = second_connection.submit(_fetch_keys_and_indexes, name, config)
        server_version = server_version_of(cursor)
        column_rows = _column_rows(cursor, config.database)
        tables = _table_list(table_rows.result(), config.database, config.scan_filter)
        _add_columns(column_rows, tables)
        _add_views(cursor, config.database, tables)
        _add_partitions(cursor, config.database, tables)
        key_columns, actions, index_columns, checks = keys_and_indexes.result()
        _add_constraints(key_columns, actions, tables)
        _add_checks(checks, tables)
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
    collation: str | None
    partitioned: bool
    columns: list[Column] = field(default_factory=list)
    checks: list[CheckConstraint] = field(default_factory=list)
    view_definition: str | None = None
    partition_key: str | None = None
    partitions: list[Partition] = field(default_factory=list)
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
            checks=tuple(sorted(self.checks, key=lambda c: c.name)),
            view_definition=self.view_definition,
            partition_key=self.partition_key,
            partitions=tuple(self.partitions),
        )


Rows = Sequence[Sequence[Any]]


def _fetch_keys_and_indexes(name: str, config: MySQLSource) -> tuple[Rows, Rows, Rows, Rows]:
    with connect(name, config) as conn, conn.cursor() as cursor:
        checks = MARIADB_CHECKS if "mariadb" in server_version_of(cursor).lower() else MYSQL_CHECKS
        cursor.execute(UNLIMITED_AGGREGATES)
        keys, actions, indexes = (
            _rows(cursor, q, config.database) for q in (KEY_COLUMNS, FOREIGN_KEY_ACTIONS, INDEX_COLUMNS)
        )
        cursor.execute(checks, (config.database,))
        return keys, actions, indexes, cursor.fetchall()


def _fetch_table_rows(name: str, config: MySQLSource) -> Rows:
    with connect(name, config) as conn, conn.cursor() as cursor:
        cursor.execute(UNLIMITED_AGGREGATES)
        return _rows(cursor, TABLES, config.database)


def _table_list(rows: Rows, database: str, scan_filter: ScanFilter) -> dict[str, _TableParts]:
    tables: dict[str, _TableParts] = {}
    for name, table_type, table_rows, comment, collation, options in rows:
        if not scan_filter.keeps(database, name):
            continue
        is_view = table_type in ("VIEW", "SYSTEM VIEW")
        tables[name] = _TableParts(
            kind="view" if is_view else "table",
            row_count=None if is_view or table_rows is None else int(table_rows),
            # The server puts the word VIEW in every view's comment.
            comment=None if is_view or not comment else str(comment),
            collation=collation,
            partitioned="partitioned" in (options or "").lower(),
        )
    return tables


def _add_columns(column_rows: Rows, tables: dict[str, _TableParts]) -> None:
    for table, _position, name, *values in column_rows:  # in ordinal order within a table
        parts = tables.get(table)
        if parts is not None and parts.kind != "view":
            parts.columns.append(_column(parts, name, *values))


def _column(parts: _TableParts, name: str, *values: Any) -> Column:
    column_type, is_nullable, default, comment, extra, collation = values
    identity = on_update = None
    if extra:
        found = ON_UPDATE.search(extra)
        on_update = found.group(1) if found else None
        identity = "auto_increment" if "auto_increment" in extra.lower() else None
    if not (collation and parts.collation and collation != parts.collation):
        # Recorded where it is not the table's own collation, as on PostgreSQL (a view has none of its own).
        collation = None
    return Column(
        name, column_type, is_nullable == "YES", _default(default), comment or None, identity, collation, on_update
    )


def _add_views(cursor: pymysql.cursors.Cursor, database: str, tables: dict[str, _TableParts]) -> None:
    views = [name for name, parts in tables.items() if parts.kind == "view"]
    if not views:
        return
    cursor.execute(DEFAULT_AGGREGATES)
    cursor.execute(VIEWS, (database,))
    for name, definition in cursor.fetchall():
        if name in tables:
            tables[name].view_definition = definition
    marks = ", ".join(["%s"] * len(views))
    cursor.execute(COLUMNS.plain(f"AND TABLE_NAME IN ({marks})"), (database, *views))
    for table, _position, name, *values in cursor.fetchall():
        tables[table].columns.append(_column(tables[table], name, *values))


def _add_partitions(cursor: pymysql.cursors.Cursor, database: str, tables: dict[str, _TableParts]) -> None:
    partitioned = [name for name, parts in tables.items() if parts.partitioned]
    if not partitioned:
        return
    cursor.execute(PARTITIONS.format(names=", ".join(["%s"] * len(partitioned))), (database, *partitioned))
    for table, partition, subpartition, method, expression, description in cursor.fetchall():
        parts = tables[table]
        parts.partition_key = f"{method} ({expression})"
        name = f"{partition}.{subpartition}" if subpartition else partition
        parts.partitions.append(Partition(name, _bound(method, description)))


def _bound(method: str, description: str | None) -> str:
    if method.startswith("RANGE"):
        return f"VALUES LESS THAN ({description})"
    if method.startswith("LIST"):
        return f"VALUES IN ({description})"
    return method  # HASH and KEY partitions have no bound of their own


def _column_rows(cursor: pymysql.cursors.Cursor, database: str) -> Rows:
    cursor.execute(UNLIMITED_AGGREGATES)
    return _rows(cursor, COLUMNS, database)


def _rows(cursor: pymysql.cursors.Cursor, listing: Listing, database: str) -> Rows:
    """The listing's rows, read packed (see catalog_sql.Listing): fields are text, NULL is None."""
    cursor.execute(listing.packed, (database,))
    row = cursor.fetchone()
    packed = row[0] if row else None
    if not packed:
        return []
    if isinstance(packed, bytes):
        packed = packed.decode("utf-8")
    records = [record.split(FIELD) for record in packed.split(RECORD)]
    width = len(listing.fields)
    if any(len(fields) != width for fields in records):
        cursor.execute(listing.plain(), (database,))
        return cursor.fetchall()
    for position in listing.nullable:
        for fields in records:
            if fields[position] == NULL_VALUE:
                fields[position] = None  # type: ignore[call-overload]
    return records


def _default(value: str | None) -> str | None:
    # MariaDB spells "no default" on a nullable column as the expression NULL; MySQL gives SQL NULL.
    return None if value == "NULL" else value


def _add_constraints(key_rows: Rows, action_rows: Rows, tables: dict[str, _TableParts]) -> None:
    """KEY_COLUMN_USAGE holds the primary key (always named PRIMARY), unique and foreign keys (the ones that
    reference a table) and nothing else."""
    actions = {(table, name): (on_delete, on_update) for table, name, on_delete, on_update in action_rows}
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
            on_delete, on_update = actions.get((table, name), ("NO ACTION", "NO ACTION"))
            parts.foreign_keys.append(
                ForeignKey(name, columns, target_schema, target_table, target_columns, on_delete, on_update)
            )
        elif name == "PRIMARY":
            parts.primary_key = columns
        else:
            parts.unique_constraints.append(UniqueConstraint(name, columns))


def _add_checks(check_rows: Rows, tables: dict[str, _TableParts]) -> None:
    for table, name, clause in check_rows:
        if table in tables:
            tables[table].checks.append(CheckConstraint(name, clause))


def _add_indexes(index_rows: Rows, tables: dict[str, _TableParts]) -> None:
    index_columns: dict[tuple[str, str], list[str]] = defaultdict(list)
    unique: dict[tuple[str, str], bool] = {}
    methods: dict[tuple[str, str], str] = {}
    for table, name, non_unique, column, method in index_rows:
        if table in tables:
            index_columns[(table, name)].append(column if column is not None else "(expression)")
            unique[(table, name)] = not int(non_unique)
            methods[(table, name)] = method.lower()

    for (table, name), columns in index_columns.items():
        parts = tables[table]
        # A UNIQUE constraint is its own index in MySQL; report it once, as the constraint.
        if any(u.name == name for u in parts.unique_constraints):
            continue
        parts.indexes.append(Index(name, tuple(columns), unique[(table, name)], methods[(table, name)]))


def _with_exact_count(cursor: pymysql.cursors.Cursor, table: Table, quote: Callable[[str], str]) -> Table:
    if table.kind == "view":
        return table
    cursor.execute(f"SELECT COUNT(*) FROM {quote(table.schema)}.{quote(table.name)}")
    row = cursor.fetchone()
    return replace(table, row_count=int(row[0]) if row else 0, row_count_exact=True)
