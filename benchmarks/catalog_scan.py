"""Benchmark: our schema-catalog scan against SQLAlchemy's Inspector, on real PostgreSQL and MariaDB servers.

What it measures, in one run, per server:

* ours      - `scan_source(open_store(sqlite_url), "bench", config, None)`: connect, read the whole catalog with
              the project's database objects (PostgresDatabase / MySQLDatabase) AND persist the snapshot (tables, drift
              against the previous snapshot, status) in a SQLite-file ops store, the project default.
              Repeated on one store: the first snapshot, then rescans (which also load the previous snapshot
              and diff against it, the steady state); the median, a rescan, is the reported figure.
* baseline  - SQLAlchemy per-table reflection with a fresh Inspector each repetition: for every table,
              `get_columns`, `get_pk_constraint`, `get_foreign_keys`, `get_indexes` (psycopg2 / pymysql).
* bulk      - informative only: SQLAlchemy's `get_multi_columns/_pk_constraint/_foreign_keys/_indexes`.

As a breakdown of "ours" it also times the scanner alone (no store) and the persist alone (no server).

The schema is built in a fresh database `ops_bench_<random>` that is dropped at the end, even on failure:
PostgreSQL gets 2,000 tables and MariaDB 500, each with 20 columns of mixed types, a primary key, a foreign key
to the previous table (t_0 to the last one) and one secondary index. Our scan's result is checked table by
table before any figure is printed. Targets: ours >= 20x faster than the per-table baseline on PostgreSQL,
>= 5x on MariaDB. Exit code 0 when both are met, 1 otherwise or when a server cannot be reached.

Servers (same environment variables as the tests): OPS_TEST_PG_HOST/PORT/USER (default 127.0.0.1:5432,
postgres, trust auth) and OPS_TEST_MYSQL_HOST/PORT/USER (default 127.0.0.1:3306, root, empty password).

Run:  .venv/bin/python benchmarks/catalog_scan.py                     (full size, a few minutes)
      .venv/bin/python benchmarks/catalog_scan.py --pg-tables 200 --mysql-tables 50   (quick run)

The last two lines of output are machine-readable:
  RESULT name=catalog_scan_postgresql ours_s=<s> baseline_s=<s> speedup=<baseline/ours>
  RESULT name=catalog_scan_mariadb ours_s=<s> baseline_s=<s> speedup=<baseline/ours>
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pymysql
import pymysql.constants.CLIENT
import sqlalchemy as sa
from servers import PG_HOST, PG_PORT, PG_USER, BenchmarkError, check_pg, pg_connect, pg_database, pg_url, timed

from ops_pipeline.core.catalog import Catalog
from ops_pipeline.defs.catalog.scan import name_entities, scan_source
from ops_pipeline.settings import OpsSettings, parse_settings
from ops_pipeline.sources.registry import database_for
from ops_pipeline.store import catalog as catalog_store
from ops_pipeline.store.engine import dispose_all, open_store

MYSQL_HOST = os.environ.get("OPS_TEST_MYSQL_HOST", "127.0.0.1")
MYSQL_PORT = int(os.environ.get("OPS_TEST_MYSQL_PORT", "3306"))
MYSQL_USER = os.environ.get("OPS_TEST_MYSQL_USER", "root")

PG_TARGET = 20.0
MYSQL_TARGET = 5.0
COLUMNS_PER_TABLE = 20
PG_BATCH = 200  # tables per multi-statement execution (keeps the lock table well within its default size)
MYSQL_BATCH = 100

# 18 columns besides id and parent_id: mixed types, some NOT NULL, some with defaults.
PG_COLUMNS = (
    "c_int integer NOT NULL DEFAULT 0",
    "c_bigint bigint",
    "c_small smallint",
    "c_numeric numeric(12,2)",
    "c_real real",
    "c_double double precision",
    "c_text text",
    "c_varchar varchar(100) NOT NULL DEFAULT ''",
    "c_char char(8)",
    "c_bool boolean NOT NULL DEFAULT false",
    "c_date date",
    "c_ts timestamp",
    "c_tstz timestamptz DEFAULT now()",
    "c_uuid uuid",
    "c_jsonb jsonb",
    "c_bytea bytea",
    "c_interval interval",
    "c_inet inet",
)
MYSQL_COLUMNS = (
    "c_int INT NOT NULL DEFAULT 0",
    "c_bigint BIGINT",
    "c_small SMALLINT",
    "c_decimal DECIMAL(12,2)",
    "c_float FLOAT",
    "c_double DOUBLE",
    "c_text TEXT",
    "c_varchar VARCHAR(100) NOT NULL DEFAULT ''",
    "c_char CHAR(8)",
    "c_bool TINYINT(1) NOT NULL DEFAULT 0",
    "c_date DATE",
    "c_datetime DATETIME",
    "c_ts TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP",
    "c_binary BINARY(16)",
    "c_blob BLOB",
    "c_enum ENUM('a','b','c')",
    "c_time TIME",
    "c_year YEAR",
)
assert len(PG_COLUMNS) == len(MYSQL_COLUMNS) == COLUMNS_PER_TABLE - 2


@dataclass
class Figures:
    label: str
    result_name: str
    tables: int
    target: float
    setup_s: float = 0.0
    ours: list[float] = field(default_factory=list)
    scan_only: list[float] = field(default_factory=list)
    persist_only: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    bulk: list[float] = field(default_factory=list)

    @property
    def ours_s(self) -> float:
        return statistics.median(self.ours)

    @property
    def baseline_s(self) -> float:
        return statistics.median(self.baseline)

    @property
    def speedup(self) -> float:
        return self.baseline_s / self.ours_s

    @property
    def met(self) -> bool:
        return self.speedup >= self.target


def table_name(i: int) -> str:
    return f"t_{i}"


# ----------------------------------------------------------------------------------------------- PostgreSQL


def pg_table_ddl(i: int, n: int) -> str:
    name = table_name(i)
    parent = f",\n  CONSTRAINT fk_{name}_parent FOREIGN KEY (parent_id) REFERENCES {table_name(i - 1)} (id)"
    columns = ",\n  ".join(PG_COLUMNS)
    return (
        f"CREATE TABLE {name} (\n  id bigint NOT NULL,\n  parent_id bigint,\n  {columns},\n"
        f"  CONSTRAINT pk_{name} PRIMARY KEY (id){parent if i > 0 else ''}\n);\n"
        f"CREATE INDEX ix_{name}_parent ON {name} (parent_id, c_date);\n"
    )


def build_pg_schema(database: str, n: int) -> None:
    conn = pg_connect(database)
    try:
        for start in range(0, n, PG_BATCH):
            with conn.cursor() as cursor:
                cursor.execute("".join(pg_table_ddl(i, n) for i in range(start, min(start + PG_BATCH, n))))
            conn.commit()
        with conn.cursor() as cursor:
            # Every table has exactly one foreign key: t_0's closes the ring.
            cursor.execute(
                f"ALTER TABLE {table_name(0)} ADD CONSTRAINT fk_{table_name(0)}_parent "
                f"FOREIGN KEY (parent_id) REFERENCES {table_name(n - 1)} (id)"
            )
        conn.commit()
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("ANALYZE")
    finally:
        conn.close()


# ------------------------------------------------------------------------------------------------- MariaDB


def mysql_url(database: str) -> str:
    return f"mysql+pymysql://{MYSQL_USER}@{MYSQL_HOST}:{MYSQL_PORT}/{database}?charset=utf8mb4"


def mysql_connect(database: str | None = None, *, multi: bool = False) -> pymysql.connections.Connection[Any]:
    return pymysql.connect(
        host=MYSQL_HOST,
        port=MYSQL_PORT,
        user=MYSQL_USER,
        database=database,
        autocommit=True,
        connect_timeout=5,
        client_flag=pymysql.constants.CLIENT.MULTI_STATEMENTS if multi else 0,
    )


def check_mysql() -> None:
    try:
        conn = mysql_connect()
    except pymysql.err.Error as error:
        raise BenchmarkError(
            f"MariaDB is not reachable at {MYSQL_HOST}:{MYSQL_PORT} as {MYSQL_USER!r}: {error} "
            "(start it or set OPS_TEST_MYSQL_HOST/OPS_TEST_MYSQL_PORT/OPS_TEST_MYSQL_USER)"
        ) from None
    conn.close()


@contextmanager
def mysql_database() -> Iterator[str]:
    name = f"ops_bench_{uuid.uuid4().hex[:12]}"
    admin = mysql_connect()
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}`")
        try:
            yield name
        finally:
            with admin.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        admin.close()


def mysql_table_ddl(i: int) -> str:
    name = table_name(i)
    parent = f",\n  CONSTRAINT fk_{name}_parent FOREIGN KEY (parent_id) REFERENCES {table_name(i - 1)} (id)"
    columns = ",\n  ".join(MYSQL_COLUMNS)
    # The secondary index leads with parent_id, so InnoDB uses it for the foreign key instead of adding one.
    return (
        f"CREATE TABLE {name} (\n  id BIGINT NOT NULL,\n  parent_id BIGINT NULL,\n  {columns},\n"
        f"  PRIMARY KEY (id),\n  INDEX ix_{name}_parent (parent_id, c_date){parent if i > 0 else ''}\n"
        ") ENGINE=InnoDB;\n"
    )


def build_mysql_schema(database: str, n: int) -> None:
    conn = mysql_connect(database, multi=True)
    try:
        with conn.cursor() as cursor:
            for start in range(0, n, MYSQL_BATCH):
                cursor.execute("".join(mysql_table_ddl(i) for i in range(start, min(start + MYSQL_BATCH, n))))
                while cursor.nextset():
                    pass
            cursor.execute(
                f"ALTER TABLE {table_name(0)} ADD CONSTRAINT fk_{table_name(0)}_parent "
                f"FOREIGN KEY (parent_id) REFERENCES {table_name(n - 1)} (id)"
            )
            names = ", ".join(table_name(i) for i in range(n))
            cursor.execute(f"ANALYZE TABLE {names}")
            cursor.fetchall()
    finally:
        conn.close()


# ------------------------------------------------------------------------------------------------ measuring


def verify_catalog(catalog: Catalog, n: int, schema: str) -> None:
    """A benchmark of a wrong result is worthless: every table, column, key and index must be there."""
    names = {t.name for t in catalog.tables}
    expected = {table_name(i) for i in range(n)}
    if names != expected:
        raise BenchmarkError(
            f"{catalog.source}: scan found {len(names)} tables, expected {n}; "
            f"missing {sorted(expected - names)[:5]}, unexpected {sorted(names - expected)[:5]}"
        )
    for t in catalog.tables:
        i = int(t.name.removeprefix("t_"))
        parent = table_name((i - 1) % n)
        problems = []
        if t.schema != schema:
            problems.append(f"schema {t.schema!r}")
        if len(t.columns) != COLUMNS_PER_TABLE:
            problems.append(f"{len(t.columns)} columns")
        if t.primary_key != ("id",):
            problems.append(f"primary key {t.primary_key}")
        if (
            len(t.foreign_keys) != 1
            or t.foreign_keys[0].target_table != parent
            or t.foreign_keys[0].columns != ("parent_id",)
            or t.foreign_keys[0].target_columns != ("id",)
        ):
            problems.append(f"foreign keys {t.foreign_keys}")
        if len(t.indexes) != 1 or t.indexes[0].columns != ("parent_id", "c_date"):
            problems.append(f"indexes {t.indexes}")
        if problems:
            raise BenchmarkError(f"{catalog.source}: table {t.name} is wrong: {'; '.join(problems)}")


def time_ours(figures: Figures, settings: OpsSettings, store_url: str, n: int, schema: str, repeat: int) -> None:
    store = open_store(store_url)  # migrations run here, outside the timed region
    for _ in range(repeat):
        completed, seconds = timed(lambda: scan_source(store, "bench", settings.source("bench"), None))
        if completed.snapshot.status != "completed" or completed.snapshot.table_count != n:
            raise BenchmarkError(
                f"snapshot {completed.snapshot.id} is {completed.snapshot.status} "
                f"with {completed.snapshot.table_count} tables"
            )
        verify_catalog(completed.catalog, n, schema)
        figures.ours.append(seconds)


def time_breakdown(figures: Figures, settings: OpsSettings, store_url: str, repeat: int) -> None:
    """The two halves of ours, separately: the scanner alone, and persisting a rescan of unchanged tables."""
    config = settings.source("bench")
    scanner = database_for(config.type)
    catalog: Catalog | None = None
    for _ in range(repeat):
        catalog, seconds = timed(lambda: scanner.scan("bench", config))
        figures.scan_only.append(seconds)
    assert catalog is not None
    named = name_entities(catalog, settings.resolver_for_source("bench"))
    store = open_store(store_url)

    def persist() -> catalog_store.CompletedScan:
        snapshot_id = catalog_store.create_snapshot(store, "bench", config.type)
        catalog_store.mark_scanning(store, snapshot_id)
        return catalog_store.complete_snapshot(store, snapshot_id, named)

    for _ in range(repeat):
        figures.persist_only.append(timed(persist)[1])


def reflect_per_table(url: str, schema: str | None) -> dict[str, int]:
    engine = sa.create_engine(url)
    try:
        insp = sa.inspect(engine)
        counts = {"tables": 0, "columns": 0, "pk": 0, "fks": 0, "indexes": 0}
        for name in insp.get_table_names(schema=schema):
            counts["tables"] += 1
            counts["columns"] += len(insp.get_columns(name, schema=schema))
            counts["pk"] += len(insp.get_pk_constraint(name, schema=schema)["constrained_columns"])
            counts["fks"] += len(insp.get_foreign_keys(name, schema=schema))
            counts["indexes"] += len(insp.get_indexes(name, schema=schema))
        return counts
    finally:
        engine.dispose()


def reflect_bulk(url: str, schema: str | None) -> dict[str, int]:
    engine = sa.create_engine(url)
    try:
        insp = sa.inspect(engine)
        columns = insp.get_multi_columns(schema=schema)
        pks = insp.get_multi_pk_constraint(schema=schema)
        fks = insp.get_multi_foreign_keys(schema=schema)
        indexes = insp.get_multi_indexes(schema=schema)
        return {
            "tables": len(columns),
            "columns": sum(len(c) for c in columns.values()),
            "pk": sum(len(p["constrained_columns"]) for p in pks.values()),
            "fks": sum(len(f) for f in fks.values()),
            "indexes": sum(len(i) for i in indexes.values()),
        }
    finally:
        engine.dispose()


def time_sqlalchemy(figures: Figures, url: str, schema: str | None, n: int, repeat: int) -> None:
    expected = {"tables": n, "columns": n * COLUMNS_PER_TABLE, "pk": n, "fks": n, "indexes": n}
    for runs, reflect in ((figures.baseline, reflect_per_table), (figures.bulk, reflect_bulk)):
        for _ in range(repeat):
            counts, seconds = timed(partial(reflect, url, schema))
            if counts != expected:
                raise BenchmarkError(f"{figures.label}: {reflect.__name__} found {counts}, expected {expected}")
            runs.append(seconds)


def bench_postgresql(n: int, repeat: int, baseline_repeat: int, workdir: Path) -> Figures:
    figures = Figures("PostgreSQL", "catalog_scan_postgresql", n, PG_TARGET)
    with pg_database() as database:
        print(f"PostgreSQL: building {n} tables in database {database} ...", flush=True)
        figures.setup_s = timed(lambda: build_pg_schema(database, n))[1]
        settings = parse_settings(
            {
                "sources": {
                    "bench": {
                        "type": "postgresql",
                        "host": PG_HOST,
                        "port": PG_PORT,
                        "user": PG_USER,
                        "database": database,
                        "connect_timeout_s": 30,
                    }
                }
            },
            "benchmark",
        )
        store_url = f"sqlite:///{workdir / 'pg_ops_store.db'}"
        print("PostgreSQL: timing ours (scan + persist) ...", flush=True)
        time_ours(figures, settings, store_url, n, "public", repeat)
        time_breakdown(figures, settings, f"sqlite:///{workdir / 'pg_breakdown.db'}", repeat)
        print("PostgreSQL: timing SQLAlchemy Inspector (per table, then bulk) ...", flush=True)
        time_sqlalchemy(figures, pg_url(database), "public", n, baseline_repeat)
        dispose_all()
    return figures


def bench_mariadb(n: int, repeat: int, baseline_repeat: int, workdir: Path) -> Figures:
    figures = Figures("MariaDB", "catalog_scan_mariadb", n, MYSQL_TARGET)
    with mysql_database() as database:
        print(f"MariaDB: building {n} tables in database {database} ...", flush=True)
        figures.setup_s = timed(lambda: build_mysql_schema(database, n))[1]
        settings = parse_settings(
            {
                "sources": {
                    "bench": {
                        "type": "mysql",
                        "host": MYSQL_HOST,
                        "port": MYSQL_PORT,
                        "user": MYSQL_USER,
                        "database": database,
                        "connect_timeout_s": 30,
                    }
                }
            },
            "benchmark",
        )
        store_url = f"sqlite:///{workdir / 'mysql_ops_store.db'}"
        print("MariaDB: timing ours (scan + persist) ...", flush=True)
        time_ours(figures, settings, store_url, n, database, repeat)
        time_breakdown(figures, settings, f"sqlite:///{workdir / 'mysql_breakdown.db'}", repeat)
        print("MariaDB: timing SQLAlchemy Inspector (per table, then bulk) ...", flush=True)
        time_sqlalchemy(figures, mysql_url(database), None, n, baseline_repeat)
        dispose_all()
    return figures


# ------------------------------------------------------------------------------------------------- reporting


def runs(values: list[float]) -> str:
    return ", ".join(f"{v:.3f}" for v in values)


def report(all_figures: list[Figures]) -> None:
    print()
    header = f"{'server':<11} {'measurement':<45} {'median s':>9} {'tables/s':>9}  runs (s)"
    print(header)
    print("-" * len(header))
    # ours and persist-alone runs are in order: the first snapshot of the source, then rescans of it (each
    # rescan also loads the previous snapshot and computes the drift), so their median is a rescan.
    for f in all_figures:
        rows = (
            ("schema setup (not timed against anything)", [f.setup_s]),
            ("ours: scan + persist snapshot (SQLite store)", f.ours),
            ("  breakdown: scanner alone", f.scan_only),
            ("  breakdown: persist alone (rescan, no change)", f.persist_only),
            ("SQLAlchemy Inspector, per table (baseline)", f.baseline),
            ("SQLAlchemy Inspector, get_multi_* (info)", f.bulk),
        )
        for label, values in rows:
            median = statistics.median(values)
            print(f"{f.label:<11} {label:<45} {median:>9.3f} {f.tables / median:>9.0f}  {runs(values)}")
        bulk_ratio = statistics.median(f.bulk) / f.ours_s
        print(
            f"{f.label:<11} {f.tables} tables x {COLUMNS_PER_TABLE} columns: speedup vs per-table baseline "
            f"{f.speedup:.1f}x (target {f.target:.0f}x: {'met' if f.met else 'MISSED'}), "
            f"vs get_multi_* {bulk_ratio:.1f}x"
        )
        print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--pg-tables", type=int, default=2000, help="tables in the PostgreSQL schema")
    parser.add_argument("--mysql-tables", type=int, default=500, help="tables in the MariaDB schema")
    parser.add_argument("--repeat", type=int, default=7, help="repetitions of ours (median reported)")
    parser.add_argument("--baseline-repeat", type=int, default=2, help="repetitions of the SQLAlchemy figures")
    args = parser.parse_args(argv)
    if args.pg_tables < 2 or args.mysql_tables < 2 or args.repeat < 1 or args.baseline_repeat < 1:
        parser.error("table counts must be >= 2 and repetitions >= 1")

    try:
        check_pg()
        check_mysql()
        with tempfile.TemporaryDirectory(prefix="ops_bench_") as workdir:
            results = [
                bench_postgresql(args.pg_tables, args.repeat, args.baseline_repeat, Path(workdir)),
                bench_mariadb(args.mysql_tables, args.repeat, args.baseline_repeat, Path(workdir)),
            ]
    except BenchmarkError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1

    report(results)
    for f in results:
        if not f.met:
            print(
                f"TARGET MISSED: {f.label}: ours is {f.speedup:.1f}x faster than the per-table baseline, "
                f"target {f.target:.0f}x"
            )
    for f in results:
        print(
            f"RESULT name={f.result_name} ours_s={f.ours_s:.3f} baseline_s={f.baseline_s:.3f} speedup={f.speedup:.1f}"
        )
    return 0 if all(f.met for f in results) else 1


if __name__ == "__main__":
    sys.exit(main())
