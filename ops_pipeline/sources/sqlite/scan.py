"""SQLite's catalog from sqlite_schema joined with the table-valued pragma functions, one query each.

Row estimates come from `sqlite_stat1` (written by ANALYZE); a table ANALYZE never saw has no estimate.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from ops_pipeline.core.catalog import Catalog, Column, ForeignKey, Index, Table, UniqueConstraint
from ops_pipeline.settings import SQLiteSource
from ops_pipeline.sources.sqlite.connection import connect

SCHEMA = "main"

RELATIONS = "SELECT name, type FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'"
COLUMNS = """
SELECT m.name, p.cid, p.name, p.type, p."notnull", p.dflt_value, p.pk
FROM sqlite_schema m JOIN pragma_table_info(m.name) p
WHERE m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid
"""
FOREIGN_KEYS = """
SELECT m.name, f.id, f.seq, f."table", f."from", f."to"
FROM sqlite_schema m JOIN pragma_foreign_key_list(m.name) f
WHERE m.type = 'table' ORDER BY m.name, f.id, f.seq
"""
INDEXES = """
SELECT m.name, il.name, il."unique", il.origin, ii.seqno, ii.name
FROM sqlite_schema m JOIN pragma_index_list(m.name) il JOIN pragma_index_info(il.name) ii
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
    kinds = {n: kind for n, kind in conn.execute(RELATIONS) if keep(SCHEMA, n)}
    columns: dict[str, list[Column]] = defaultdict(list)
    primary_keys: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for table, _cid, column, data_type, notnull, default, pk in conn.execute(COLUMNS):
        if table in kinds:
            # SQLite lets a PRIMARY KEY column hold NULL unless declared NOT NULL, except INTEGER PRIMARY KEY.
            rowid_key = pk and data_type.upper() == "INTEGER"
            columns[table].append(Column(column, data_type, not (notnull or rowid_key), default))
            if pk:
                primary_keys[table].append((pk, column))
    foreign_keys = _read_foreign_keys(conn, kinds, primary_keys)
    uniques, indexes = _read_indexes(conn, kinds)
    estimates = row_estimates(lambda sql: conn.execute(sql).fetchall())
    return [
        Table(
            schema=SCHEMA,
            name=name,
            kind="view" if kind == "view" else "table",
            columns=tuple(columns[name]),
            primary_key=tuple(c for _, c in sorted(primary_keys[name])),
            foreign_keys=tuple(foreign_keys[name]),
            unique_constraints=tuple(uniques[name]),
            indexes=tuple(indexes[name]),
            row_count=estimates.get(name) if kind == "table" else None,
        )
        for name, kind in sorted(kinds.items())
    ]


def _read_foreign_keys(
    conn: sqlite3.Connection, kinds: dict[str, str], primary_keys: dict[str, list[tuple[int, str]]]
) -> dict[str, list[ForeignKey]]:
    grouped: dict[tuple[str, int], dict[str, Any]] = {}
    for table, fk_id, _seq, target, source_col, target_col in conn.execute(FOREIGN_KEYS):
        if table not in kinds:
            continue
        entry = grouped.setdefault((table, fk_id), {"target": target, "from": [], "to": []})
        entry["from"].append(source_col)
        entry["to"].append(target_col)
    result: dict[str, list[ForeignKey]] = defaultdict(list)
    for (table, _), entry in sorted(grouped.items()):
        target_columns = entry["to"]
        if any(c is None for c in target_columns):  # REFERENCES t without columns means t's primary key
            target_columns = [c for _, c in sorted(primary_keys.get(entry["target"], []))]
        name = f"fk_{table}_{'_'.join(entry['from'])}"
        result[table].append(ForeignKey(name, tuple(entry["from"]), SCHEMA, entry["target"], tuple(target_columns)))
    return result


def _read_indexes(
    conn: sqlite3.Connection, kinds: dict[str, str]
) -> tuple[dict[str, list[UniqueConstraint]], dict[str, list[Index]]]:
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    for table, index, unique, origin, _seqno, column in conn.execute(INDEXES):
        if table in kinds:
            entry = grouped.setdefault((table, index), {"unique": bool(unique), "origin": origin, "cols": []})
            entry["cols"].append(column)
    uniques: dict[str, list[UniqueConstraint]] = defaultdict(list)
    indexes: dict[str, list[Index]] = defaultdict(list)
    for (table, index), entry in sorted(grouped.items()):
        if entry["origin"] == "u":
            uniques[table].append(UniqueConstraint(index, tuple(entry["cols"])))
        else:
            indexes[table].append(Index(index, tuple(entry["cols"]), entry["unique"]))
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
