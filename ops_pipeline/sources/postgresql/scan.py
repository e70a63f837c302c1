"""PostgreSQL's catalog in three pg_catalog queries (relations+columns, constraints, indexes), the second and
third over a second connection while the server builds the first."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from ops_pipeline.core.catalog import Catalog, Column, ForeignKey, Index, Table, TableKind, UniqueConstraint
from ops_pipeline.settings import PostgresSource
from ops_pipeline.sources.postgresql.connection import connect

SYSTEM_SCHEMAS = "('pg_catalog', 'information_schema')"

# One row per relation; its columns come as one JSON array (in attnum order) that json.loads decodes in C,
# which is faster than fetching and grouping a row per column.
RELATIONS_AND_COLUMNS = f"""
SELECT n.nspname, c.relname, c.relkind, c.reltuples::bigint, td.description,
       (SELECT json_agg(json_build_array(a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
                                         pg_get_expr(ad.adbin, ad.adrelid), cd.description) ORDER BY a.attnum)::text
        FROM pg_attribute a
        LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
        LEFT JOIN pg_description cd
               ON cd.objoid = a.attrelid AND cd.classoid = 'pg_class'::regclass AND cd.objsubid = a.attnum
        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_description td ON td.objoid = c.oid AND td.classoid = 'pg_class'::regclass AND td.objsubid = 0
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN {SYSTEM_SCHEMAS} AND n.nspname NOT LIKE 'pg\\_%%'
"""

# One row per constrained column (ord = its position in the key), grouped into constraints in Python.
CONSTRAINTS = f"""
SELECT n.nspname, c.relname, con.conname, con.contype, k.ord, a.attname, fn.nspname, fc.relname, fa.attname
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY k(num, ord)
JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
LEFT JOIN pg_attribute fa ON fa.attrelid = con.confrelid AND fa.attnum = con.confkey[k.ord]
WHERE con.contype IN ('p', 'u', 'f')
  AND n.nspname NOT IN {SYSTEM_SCHEMAS} AND n.nspname NOT LIKE 'pg\\_%%'
"""

# Indexes that back a primary key or unique constraint are reported as that constraint, not twice.
INDEXES = f"""
SELECT n.nspname, t.relname, i.relname, ix.indisunique,
       ARRAY(SELECT coalesce(a.attname, pg_get_indexdef(ix.indexrelid, k.ord::int, true))
             FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(num, ord)
             LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.num
             WHERE k.ord <= ix.indnkeyatts ORDER BY k.ord)
FROM pg_index ix
JOIN pg_class t ON t.oid = ix.indrelid
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname NOT IN {SYSTEM_SCHEMAS} AND n.nspname NOT LIKE 'pg\\_%%'
  AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = ix.indexrelid
                  AND con.contype IN ('p', 'u', 'x'))
"""

RELKINDS: dict[str, TableKind] = {
    "r": "table",
    "p": "table",
    "v": "view",
    "m": "materialized_view",
    "f": "foreign_table",
}


def scan_catalog(name: str, config: PostgresSource, *, exact_row_counts: bool, quote: Callable[[str], str]) -> Catalog:
    with connect(name, config) as conn, conn.cursor() as cursor, ThreadPoolExecutor(1) as second_connection:
        # Keys and indexes come over a second connection while the server builds the column lists.
        keys_and_indexes = second_connection.submit(_fetch_keys_and_indexes, name, config)
        cursor.execute("SHOW server_version")
        server_version = str(cursor.fetchone()[0])
        cursor.execute(RELATIONS_AND_COLUMNS)
        relations = _relations(cursor.fetchall(), config)
        constraint_rows, index_rows = keys_and_indexes.result()
        tables = _tables(relations, _constraints(constraint_rows, relations), _indexes(index_rows, relations))
        if exact_row_counts:
            tables = [_with_exact_count(cursor, t, quote) for t in tables]
    return Catalog(name, config.type, server_version, tuple(tables))


def _fetch_keys_and_indexes(name: str, config: PostgresSource) -> tuple[list[Any], list[Any]]:
    with connect(name, config) as conn, conn.cursor() as cursor:
        cursor.execute(CONSTRAINTS)
        constraint_rows = cursor.fetchall()
        cursor.execute(INDEXES)
        return constraint_rows, cursor.fetchall()


Relations = dict[tuple[str, str], dict[str, Any]]


def _relations(rows: list[Any], config: PostgresSource) -> Relations:
    keep = config.scan_filter.keeps
    relations: Relations = {}
    for schema, table, relkind, reltuples, comment, columns_json in rows:
        if keep(schema, table):
            estimate = int(reltuples) if reltuples is not None and reltuples >= 0 and relkind != "v" else None
            columns = tuple(Column(*c) for c in json.loads(columns_json)) if columns_json else ()
            relations[(schema, table)] = {
                "kind": RELKINDS[relkind],
                "comment": comment,
                "columns": columns,
                "row_count": estimate,
            }
    return relations


def _tables(relations: Relations, keys: dict[str, Any], indexes: dict[tuple[str, str], list[Index]]) -> list[Table]:
    return [
        Table(
            schema=schema,
            name=table,
            kind=rel["kind"],
            columns=rel["columns"],
            primary_key=keys["pk"].get((schema, table), ()),
            foreign_keys=tuple(sorted(keys["fk"][(schema, table)], key=lambda fk: fk.name)),
            unique_constraints=tuple(sorted(keys["unique"][(schema, table)], key=lambda u: u.name)),
            indexes=tuple(sorted(indexes[(schema, table)], key=lambda i: i.name)),
            row_count=rel["row_count"],
            comment=rel["comment"],
        )
        for (schema, table), rel in sorted(relations.items())
    ]


def _constraints(rows: list[Any], relations: Relations) -> dict[str, Any]:
    grouped: dict[tuple[str, str, str], dict[str, Any]] = {}
    for schema, table, name, contype, ord_, column, target_schema, target_table, target_column in rows:
        if (schema, table) not in relations:
            continue
        entry = grouped.setdefault(
            (schema, table, name), {"type": contype, "target": (target_schema, target_table), "columns": []}
        )
        entry["columns"].append((ord_, column, target_column))
    keys: dict[str, Any] = {"pk": {}, "fk": defaultdict(list), "unique": defaultdict(list)}
    for (schema, table, name), entry in grouped.items():
        ordered = sorted(entry["columns"])
        columns = tuple(column for _, column, _ in ordered)
        if entry["type"] == "p":
            keys["pk"][(schema, table)] = columns
        elif entry["type"] == "u":
            keys["unique"][(schema, table)].append(UniqueConstraint(name, columns))
        else:
            target_schema, target_table = entry["target"]
            target_columns = tuple(target for _, _, target in ordered)
            keys["fk"][(schema, table)].append(ForeignKey(name, columns, target_schema, target_table, target_columns))
    return keys


def _indexes(rows: list[Any], relations: Relations) -> dict[tuple[str, str], list[Index]]:
    indexes: dict[tuple[str, str], list[Index]] = defaultdict(list)
    for schema, table, name, unique, columns in rows:
        if (schema, table) in relations:
            indexes[(schema, table)].append(Index(name, tuple(columns), bool(unique)))
    return indexes


def _with_exact_count(cursor: Any, table: Table, quote: Callable[[str], str]) -> Table:
    if table.kind == "view":
        return table
    cursor.execute(f"SELECT count(*) FROM {quote(table.schema)}.{quote(table.name)}")
    return replace(table, row_count=int(cursor.fetchone()[0]), row_count_exact=True)
