"""PostgreSQL: a whole catalog in three pg_catalog queries (relations+columns, constraints, indexes)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import psycopg2
import psycopg2.extensions

from ops_pipeline.core.catalog import Catalog, Column, ForeignKey, Index, Table, TableKind, UniqueConstraint
from ops_pipeline.core.secrets import SecretError, resolve_secret
from ops_pipeline.settings import PostgresSource
from ops_pipeline.sources.base import ConnectionReport, ErrorKind, Scanner, SourceError, timed

SYSTEM_SCHEMAS = "('pg_catalog', 'information_schema')"

RELATIONS_AND_COLUMNS = f"""
SELECT n.nspname, c.relname, c.relkind, c.reltuples::bigint, td.description,
       a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(ad.adbin, ad.adrelid), cd.description
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_description td ON td.objoid = c.oid AND td.classoid = 'pg_class'::regclass AND td.objsubid = 0
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
LEFT JOIN pg_description cd
       ON cd.objoid = c.oid AND cd.classoid = 'pg_class'::regclass AND cd.objsubid = a.attnum
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN {SYSTEM_SCHEMAS} AND n.nspname NOT LIKE 'pg\\_%%'
ORDER BY n.nspname, c.relname, a.attnum
"""

CONSTRAINTS = f"""
SELECT n.nspname, c.relname, con.conname, con.contype,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.ord),
       fn.nspname, fc.relname,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.ord)
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
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

ERROR_MARKERS: tuple[tuple[str, ErrorKind], ...] = (
    ("timeout expired", "timeout"),
    ("password authentication failed", "auth_failed"),
    ("authentication failed", "auth_failed"),
    ("no pg_hba.conf entry", "auth_failed"),
    ('role "', "auth_failed"),
    ('database "', "unknown_database"),
    ("connection refused", "unreachable"),
    ("could not translate host name", "unreachable"),
    ("no route to host", "unreachable"),
    ("could not connect", "unreachable"),
)


def classify(message: str) -> ErrorKind:
    lowered = message.lower()
    return next((kind for marker, kind in ERROR_MARKERS if marker in lowered), "error")


class PostgresScanner(Scanner[PostgresSource]):
    source_type = "postgresql"

    def test_connection(self, name: str, config: PostgresSource) -> ConnectionReport:
        def version() -> str:
            with _connect(name, config) as conn, conn.cursor() as cursor:
                cursor.execute("SHOW server_version")
                return str(cursor.fetchone()[0])

        server_version, latency_ms = timed(version)
        return ConnectionReport(name, self.source_type, server_version, latency_ms, _target(config))

    def scan(self, name: str, config: PostgresSource, *, exact_row_counts: bool = False) -> Catalog:
        with _connect(name, config) as conn, conn.cursor() as cursor:
            cursor.execute("SHOW server_version")
            server_version = str(cursor.fetchone()[0])
            tables = _read_tables(cursor, config)
            if exact_row_counts:
                tables = [_with_exact_count(cursor, t) for t in tables]
        return Catalog(name, self.source_type, server_version, tuple(tables))


def _target(config: PostgresSource) -> str:
    return f"{config.host}:{config.port}/{config.database}"


def _connection_args(config: PostgresSource) -> dict[str, Any]:
    args: dict[str, Any] = {
        "host": config.host,
        "port": config.port,
        "dbname": config.database,
        "user": config.user,
        # libpq rounds timeouts below 2 s up to 2 s.
        "connect_timeout": max(1, round(config.connect_timeout_s)),
        "sslmode": config.ssl.mode,
        "application_name": "ops_pipeline",
        "options": f"-c statement_timeout={round(config.query_timeout_s * 1000)}",
    }
    for option, path in (
        ("sslrootcert", config.ssl.ca_file),
        ("sslcert", config.ssl.cert_file),
        ("sslkey", config.ssl.key_file),
    ):
        if path:
            args[option] = path
    if config.password:
        args["password"] = resolve_secret(config.password)
    return {k: v for k, v in args.items() if v is not None}


@contextmanager
def _connect(name: str, config: PostgresSource) -> Iterator[psycopg2.extensions.connection]:
    try:
        conn = psycopg2.connect(**_connection_args(config))
    except SecretError as error:
        raise SourceError(name, "auth_failed", str(error)) from None
    except psycopg2.OperationalError as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise SourceError(name, classify(reason), f"{_target(config)}: {reason}") from None
    try:
        conn.set_session(readonly=True, autocommit=True)
        yield conn
    except psycopg2.Error as error:
        reason = " ".join(str(error).split())
        kind: ErrorKind = "timeout" if "statement timeout" in reason else "error"
        raise SourceError(name, kind, f"{_target(config)}: {reason}") from None
    finally:
        conn.close()


def _read_tables(cursor: Any, config: PostgresSource) -> list[Table]:
    keep = config.scan_filter.keeps
    cursor.execute(RELATIONS_AND_COLUMNS)
    relations: dict[tuple[str, str], dict[str, Any]] = {}
    for schema, table, relkind, reltuples, comment, column, data_type, notnull, default, col_comment in cursor:
        if not keep(schema, table):
            continue
        relation = relations.setdefault(
            (schema, table),
            {
                "kind": RELKINDS[relkind],
                "comment": comment,
                "columns": [],
                "row_count": int(reltuples) if reltuples is not None and reltuples >= 0 and relkind != "v" else None,
            },
        )
        if column is not None:
            relation["columns"].append(Column(column, data_type, not notnull, default, col_comment))

    keys = _read_constraints(cursor, relations)
    indexes = _read_indexes(cursor, relations)
    return [
        Table(
            schema=schema,
            name=table,
            kind=rel["kind"],
            columns=tuple(rel["columns"]),
            primary_key=keys["pk"].get((schema, table), ()),
            foreign_keys=tuple(sorted(keys["fk"][(schema, table)], key=lambda fk: fk.name)),
            unique_constraints=tuple(sorted(keys["unique"][(schema, table)], key=lambda u: u.name)),
            indexes=tuple(sorted(indexes[(schema, table)], key=lambda i: i.name)),
            row_count=rel["row_count"],
            comment=rel["comment"],
        )
        for (schema, table), rel in sorted(relations.items())
    ]


def _read_constraints(cursor: Any, relations: dict[tuple[str, str], Any]) -> dict[str, Any]:
    keys: dict[str, Any] = {"pk": {}, "fk": defaultdict(list), "unique": defaultdict(list)}
    cursor.execute(CONSTRAINTS)
    for schema, table, name, contype, columns, target_schema, target_table, target_columns in cursor:
        owner = (schema, table)
        if owner not in relations:
            continue
        if contype == "p":
            keys["pk"][owner] = tuple(columns)
        elif contype == "u":
            keys["unique"][owner].append(UniqueConstraint(name, tuple(columns)))
        else:
            keys["fk"][owner].append(
                ForeignKey(name, tuple(columns), target_schema, target_table, tuple(target_columns))
            )
    return keys


def _read_indexes(cursor: Any, relations: dict[tuple[str, str], Any]) -> dict[tuple[str, str], list[Index]]:
    indexes: dict[tuple[str, str], list[Index]] = defaultdict(list)
    cursor.execute(INDEXES)
    for schema, table, name, unique, columns in cursor:
        if (schema, table) in relations:
            indexes[(schema, table)].append(Index(name, tuple(columns), bool(unique)))
    return indexes


def _with_exact_count(cursor: Any, table: Table) -> Table:
    if table.kind == "view":
        return table
    cursor.execute(f"SELECT count(*) FROM {_quote(table.schema)}.{_quote(table.name)}")
    return replace(table, row_count=int(cursor.fetchone()[0]), row_count_exact=True)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
