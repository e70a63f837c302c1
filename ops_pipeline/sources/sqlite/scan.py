"""SQLite's catalog from sqlite_schema joined with the table-valued pragma functions, one query each.

Row estimates come from `sqlite_stat1` (written by ANALYZE); a table ANALYZE never saw has no estimate. Constraint
names, CHECKs, collations, AUTOINCREMENT and partial-index predicates come from each object's own SQL
(`table_sql`), which the pragmas do not report.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from ops_pipeline.core.catalog import Catalog, CheckConstraint, Column, ForeignKey, Index, Table, UniqueConstraint
from ops_pipeline.settings import SQLiteSource
from ops_pipeline.sources.sqlite.connection import connect
from ops_pipeline.sources.sqlite.table_sql import TableSql, index_predicate, parse_table

SCHEMA = "main"

RELATIONS = "SELECT name, type, sql FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'"
COLUMNS = """
SELECT m.name, p.cid, p.name, p.type, p."notnull", p.dflt_value, p.pk
FROM sqlite_schema m JOIN pragma_table_info(m.name) p
WHERE m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid
"""
FOREIGN_KEYS = """
SELECT m.name, f.id, f.seq, f."table", f."from", f."to", f.on_delete, f.on_update
FROM sqlite_schema m JOIN pragma_foreign_key_list(m.name) f
WHERE m.type = 'table' ORDER BY m.name, f.id, f.seq
"""
INDEXES = """
SELECT m.name, il.name, il."unique", il.origin, ii.seqno, ii.name, CASE WHEN il.partial THEN s.sql END
FROM sqlite_schema m JOIN pragma_index_list(m.name) il JOIN pragma_index_info(il.name) ii
LEFT JOIN sqlite_schema s ON s.type = 'index' AND s.name = il.name
WHERE m.type = 'table' AND il.origin != 'pk' ORDER BY m.name, il.name, ii.seqno
"""
HAS_STATISTICS = "SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat1'"
STATISTICS = "SELECT tbl, stat FROM sqlite_stat1"


def scan_catalog(name: str, config: SQLiteSource, *, exact_row_counts: bool, quote: Callable[[str], str]) -> Catalog:
    with connect(name, config) as conn:
        version = server_version_of(conn)
        tables = _read_tables(conn, config)
        if exact_row_counts:
            tables = [_with_exact_count(conn, t, quote) for t in tables]
    return Catalog(name, config.type, version, tuple(tables))


def server_version_of(conn: sqlite3.Connection) -> str:
    return str(conn.execute("SELECT sqlite_version()").fetchone()[0])


def _read_tables(conn: sqlite3.Connection, config: SQLiteSource) -> list[Table]:
    keep = config.scan_filter.keeps
    relations = {n: (kind, sql) for n, kind, sql in conn.execute(RELATIONS) if keep(SCHEMA, n)}
    kinds = {n: kind for n, (kind, _) in relations.items()}
    declared = {n: parse_table(sql) for n, (kind, sql) in relations.items() if kind == "table" and sql}
    columns: dict[str, list[Column]] = defaultdict(list)
    primary_keys: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for table, _cid, column, data_type, notnull, default, pk in conn.execute(COLUMNS):
        if table in kinds:
            # SQLite lets a PRIMARY KEY column hold NULL unless declared NOT NULL, except INTEGER PRIMARY KEY.
            rowid_key = pk and data_type.upper() == "INTEGER"
            columns[table].append(Column(column, data_type, not (notnull or rowid_key), _default(default)))
            if pk:
                primary_keys[table].append((pk, column))
    foreign_keys = _read_foreign_keys(conn, kinds, primary_keys, declared)
    uniques, indexes = _read_indexes(conn, kinds)
    estimates = row_estimates(lambda sql: conn.execute(sql).fetchall())
    return [
        Table(
            schema=SCHEMA,
            name=name,
            kind="view" if kind == "view" else "table",
            columns=_with_declared_details(columns[name], primary_keys[name], declared.get(name)),
            primary_key=tuple(c for _, c in sorted(primary_keys[name])),
            foreign_keys=tuple(foreign_keys[name]),
            unique_constraints=tuple(uniques[name]),
            indexes=tuple(indexes[name]),
            row_count=estimates.get(name) if kind == "table" else None,
            checks=_checks(declared.get(name)),
            view_definition=sql if kind == "view" else None,
        )
        for name, (kind, sql) in sorted(relations.items())
    ]


def _default(value: str | None) -> str | None:
    # DEFAULT NULL is the default every column has: no default, as on MySQL.
    return None if value is None or value.strip().upper() == "NULL" else value


def _with_declared_details(
    columns: list[Column], primary_key: list[tuple[int, str]], declared: TableSql | None
) -> tuple[Column, ...]:
    if declared is None:
        return tuple(columns)
    rowid_alias = {c for _, c in primary_key} if len(primary_key) == 1 else set()

    def identity(column: Column) -> str | None:
        if column.name in declared.autoincrement:
            return "autoincrement"
        if column.name in rowid_alias and column.data_type.upper() == "INTEGER":
            return "rowid"
        return None

    return tuple(replace(c, identity=identity(c), collation=declared.collations.get(c.name)) for c in columns)


def _checks(declared: TableSql | None) -> tuple[CheckConstraint, ...]:
    if declared is None:
        return ()
    return tuple(
        CheckConstraint(name or f"check_{i}", expression) for i, (name, expression) in enumerate(declared.checks, 1)
    )


def _read_foreign_keys(
    conn: sqlite3.Connection,
    kinds: dict[str, str],
    primary_keys: dict[str, list[tuple[int, str]]],
    declared: dict[str, TableSql],
) -> dict[str, list[ForeignKey]]:
    grouped: dict[tuple[str, int], dict[str, Any]] = {}
    for table, fk_id, _seq, target, source_col, target_col, on_delete, on_update in conn.execute(FOREIGN_KEYS):
        if table not in kinds:
            continue
        entry = grouped.setdefault(
            (table, fk_id), {"target": target, "from": [], "to": [], "actions": (on_delete, on_update)}
        )
        entry["from"].append(source_col)
        entry["to"].append(target_col)
    result: dict[str, list[ForeignKey]] = defaultdict(list)
    for (table, _), entry in sorted(grouped.items()):
        target_columns = entry["to"]
        if any(c is None for c in target_columns):  # REFERENCES t without columns means t's primary key
            target_columns = [c for _, c in sorted(primary_keys.get(entry["target"], []))]
        source_columns = tuple(entry["from"])
        names = declared[table].foreign_key_names if table in declared else {}
        # An unnamed foreign key has no name in SQLite; it gets one from its table and columns.
        name = names.get(source_columns) or f"fk_{table}_{'_'.join(source_columns)}"
        target_table = entry["target"]
        result[table].append(
            ForeignKey(name, source_columns, SCHEMA, target_table, tuple(target_columns), *entry["actions"])
        )
    return result


def _read_indexes(
    conn: sqlite3.Connection, kinds: dict[str, str]
) -> tuple[dict[str, list[UniqueConstraint]], dict[str, list[Index]]]:
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    for table, index, unique, origin, _seqno, column, partial_sql in conn.execute(INDEXES):
        if table in kinds:
            entry = grouped.setdefault(
                (table, index),
                {"unique": bool(unique), "origin": origin, "cols": [], "where": index_predicate(partial_sql)},
            )
            entry["cols"].append(column)
    uniques: dict[str, list[UniqueConstraint]] = defaultdict(list)
    indexes: dict[str, list[Index]] = defaultdict(list)
    for (table, index), entry in sorted(grouped.items()):
        if entry["origin"] == "u":
            uniques[table].append(UniqueConstraint(index, tuple(entry["cols"])))
        else:
            indexes[table].append(Index(index, tuple(entry["cols"]), entry["unique"], predicate=entry["where"]))
    return uniques, indexes


def row_estimates(query: Callable[[str], Sequence[tuple[Any, ...]]]) -> dict[str, int]:
    """Rows per table as ANALYZE last counted them; empty when ANALYZE never ran."""
    if not query(HAS_STATISTICS):
        return {}
    estimates: dict[str, int] = {}
    for table, stat in query(STATISTICS):
        if stat:
            estimates[table] = max(estimates.get(table, 0), int(str(stat).split()[0]))
    return estimates


def _with_exact_count(conn: sqlite3.Connection, table: Table, quote: Callable[[str], str]) -> Table:
    if table.kind == "view":
        return table
    count = int(conn.execute(f"SELECT count(*) FROM {quote(table.name)}").fetchone()[0])
    return replace(table, row_count=count, row_count_exact=True)
