"""Table profiles against real PostgreSQL, MariaDB and SQLite, plus the pure sampling SQL and estimator."""

import io
import random
import re
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from ops_pipeline.core.catalog import Column, Table
from ops_pipeline.settings import MySQLSource, PostgresSource, SQLiteSource
from ops_pipeline.sources import profile as profile_module
from ops_pipeline.sources.base import SourceError
from ops_pipeline.sources.mysql import MySQLDatabase
from ops_pipeline.sources.postgresql import PostgresDatabase
from ops_pipeline.sources.profile import (
    SamplingPlan,
    TableProfile,
    haas_stokes_estimate,
    profile_table,
    sample_query,
    sampling_clause,
)
from ops_pipeline.sources.registry import sql_database_for
from ops_pipeline.sources.sqlite import SQLiteDatabase
from tests.conftest import MYSQL_HOST, MYSQL_PORT, MYSQL_USER, PG_HOST, PG_PORT, PG_USER, mysql_connect

STATUSES = {"new": 0.40, "paid": 0.25, "shipped": 0.15, "done": 0.12, "cancelled": 0.08}
NULL_SHARE = 0.30
AMOUNT_RANGE = (Decimal("10.00"), Decimal("999.99"))
START = datetime(2024, 1, 1)
END = START + timedelta(days=366)
LARGE = 50_000
RANDOM_ORDER = re.compile(r"order\s+by\s+(random|rand)\s*\(", re.IGNORECASE)

Row = tuple[int, str, str | None, Decimal, datetime, str]


@cache
def dataset(count: int) -> tuple[Row, ...]:
    """id, status (5 values, weights above), note (~30% NULL), amount, created_at, code (unique)."""
    rng = random.Random(7)
    names, weights = list(STATUSES), list(STATUSES.values())
    rows = []
    for i in range(1, count + 1):
        status = rng.choices(names, weights)[0]
        note = None if rng.random() < NULL_SHARE else f"note {rng.randrange(1000)}"
        amount = Decimal(rng.randrange(1000, 100_000)) / 100
        created = START + timedelta(seconds=rng.randrange(366 * 86400))
        rows.append((i, status, note, amount, created, f"C{i:06d}-{rng.randrange(16**6):06x}"))
    return tuple(rows)


@dataclass
class Backend:
    """One database with a way to fill a table from `dataset` and to read its catalog entry."""

    dialect: str
    config: PostgresSource | MySQLSource | SQLiteSource
    create: Callable[[str, int, bool], None]
    execute: Callable[[str], None]
    scan: Callable[[], Any]
    schema: str

    def table(self, name: str, rows: int, *, analyze: bool = True) -> Table:
        self.create(name, rows, analyze)
        table = self.scan().table(f"{self.schema}.{name}")
        assert table is not None
        return table

    def profile(self, table: Table, **options: Any) -> TableProfile:
        return profile_table("src", self.config, table, **options)


# --- backends ----------------------------------------------------------------------------------------------

PG_TABLE = """
CREATE TABLE {name} (id integer PRIMARY KEY, status text NOT NULL, note text, amount numeric(10,2) NOT NULL,
                     created_at timestamp NOT NULL, code text NOT NULL) WITH (autovacuum_enabled = false)
"""


def pg_source(database: str, **overrides: Any) -> PostgresSource:
    values: dict[str, Any] = {"type": "postgresql", "host": PG_HOST, "port": PG_PORT, "user": PG_USER}
    return PostgresSource(**(values | {"database": database, "connect_timeout_s": 3} | overrides))


def pg_backend(engine: sa.Engine, database: str) -> Backend:
    def execute(sql: str) -> None:
        raw = engine.raw_connection()
        try:
            raw.cursor().execute(sql)
            raw.commit()
        finally:
            raw.close()

    def create(name: str, count: int, analyze: bool) -> None:
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(PG_TABLE.format(name=name))
            buffer = io.StringIO("".join("\t".join(_pg_field(v) for v in row) + "\n" for row in dataset(count)))
            cursor.copy_expert(f"COPY {name} FROM STDIN", buffer)
            raw.commit()
        finally:
            raw.close()
        if analyze:
            execute(f"ANALYZE {name}")

    config = pg_source(database)
    return Backend("postgresql", config, create, execute, lambda: PostgresDatabase().scan("src", config), "public")


def _pg_field(value: object) -> str:
    return "\\N" if value is None else str(value)


MYSQL_TABLE = """
CREATE TABLE {name} (id INT NOT NULL PRIMARY KEY, status VARCHAR(16) NOT NULL, note VARCHAR(40) NULL,
                     amount DECIMAL(10,2) NOT NULL, created_at DATETIME NOT NULL, code VARCHAR(40) NOT NULL)
ENGINE=InnoDB
"""


def mysql_backend(database: str) -> Backend:
    def execute(sql: str) -> None:
        conn = mysql_connect(database)
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql)
        finally:
            conn.close()

    def create(name: str, count: int, analyze: bool) -> None:
        conn = mysql_connect(database)
        try:
            with conn.cursor() as cursor:
                cursor.execute(MYSQL_TABLE.format(name=name))
                cursor.executemany(f"INSERT INTO {name} VALUES (%s, %s, %s, %s, %s, %s)", dataset(count))
                if analyze:
                    cursor.execute(f"ANALYZE TABLE {name}")
                    cursor.fetchall()
        finally:
            conn.close()

    config = MySQLSource(
        type="mysql", host=MYSQL_HOST, port=MYSQL_PORT, user=MYSQL_USER, database=database, connect_timeout_s=3
    )
    return Backend("mysql", config, create, execute, lambda: MySQLDatabase().scan("src", config), database)


SQLITE_TABLE = """
CREATE TABLE {name} (id INTEGER PRIMARY KEY, status TEXT NOT NULL, note TEXT, amount NUMERIC(10,2) NOT NULL,
                     created_at TIMESTAMP NOT NULL, code TEXT NOT NULL)
"""


def sqlite_backend(path: Path) -> Backend:
    sqlite3.connect(path).close()

    def execute(sql: str) -> None:
        with sqlite3.connect(path) as conn:
            conn.executescript(sql)
        conn.close()

    def create(name: str, count: int, analyze: bool) -> None:
        rows = [(i, s, n, float(a), str(c), code) for i, s, n, a, c, code in dataset(count)]
        with sqlite3.connect(path) as conn:
            conn.execute(SQLITE_TABLE.format(name=name))
            conn.executemany(f"INSERT INTO {name} VALUES (?, ?, ?, ?, ?, ?)", rows)
            if analyze:
                conn.execute("ANALYZE")
        conn.close()

    config = SQLiteSource(type="sqlite", path=str(path))
    return Backend("sqlite", config, create, execute, lambda: SQLiteDatabase().scan("src", config), "main")


@pytest.fixture(params=["postgresql", "mysql", "sqlite"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "postgresql":
        return pg_backend(request.getfixturevalue("pg_engine"), request.getfixturevalue("pg_database"))
    if request.param == "mysql":
        return mysql_backend(request.getfixturevalue("mysql_database"))
    return sqlite_backend(tmp_path / "shop.db")


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every query a profile runs (they all go through profile._fetch)."""
    issued: list[str] = []
    real_fetch = profile_module._fetch

    def recording(cursor: Any, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        issued.append(sql)
        return real_fetch(cursor, sql, params)

    monkeypatch.setattr(profile_module, "_fetch", recording)
    yield issued


def by_name(profile: TableProfile) -> dict[str, Any]:
    return {c.name: c for c in profile.columns}


# --- a large table -----------------------------------------------------------------------------------------


def test_large_table_is_profiled_from_the_databases_own_sample(backend: Backend, statements: list[str]) -> None:
    table = backend.table("orders", LARGE)

    profile = backend.profile(table, sample_rows=5_000)

    method = {"postgresql": "TABLESAMPLE SYSTEM (", "mysql": "RAND(42) < ", "sqlite": "rowid modulo "}
    assert profile.sample_method.startswith(method[backend.dialect])
    assert "ORDER BY" not in profile.sample_method.upper()
    assert not [sql for sql in statements if RANDOM_ORDER.search(sql)]
    if backend.dialect != "sqlite":
        assert any(profile.sample_method in sql for sql in statements)
    assert profile.table == table and profile.source == "src"
    assert not profile.row_count_exact and abs(profile.row_count - LARGE) <= 0.25 * LARGE
    # SYSTEM draws whole pages: its sample size varies more than a row-level sample's.
    assert 2_000 <= profile.sampled_rows <= 10_000
    if backend.dialect != "postgresql":
        assert 4_500 <= profile.sampled_rows <= 5_500
    # The sample reaches the table's end (a LIMIT that bit would have cut it off).
    assert int(by_name(profile)["id"].max) > 0.9 * LARGE
    columns = by_name(profile)
    assert all(c.sampled == profile.sampled_rows for c in columns.values())
    assert [c.name for c in profile.columns] == ["id", "status", "note", "amount", "created_at", "code"]
    assert_distributions(columns, profile.sampled_rows)


def assert_distributions(columns: dict[str, Any], sampled: int) -> None:
    assert abs(columns["note"].null_fraction - NULL_SHARE) <= 0.05
    assert columns["note"].nulls == round(columns["note"].null_fraction * sampled)
    assert columns["id"].nulls == 0 and columns["id"].null_fraction == 0.0

    status = columns["status"]
    assert {value for value, _ in status.top_values} == set(STATUSES)
    assert sum(count for _, count in status.top_values) == sampled
    assert status.top_values[0][0] == "new"
    for value, count in status.top_values:
        assert abs(count / sampled - STATUSES[value]) <= 0.05
    assert status.distinct == 5 and status.distinct_estimate == 5

    assert AMOUNT_RANGE[0] <= Decimal(columns["amount"].min) <= Decimal(columns["amount"].max) <= AMOUNT_RANGE[1]
    assert str(START) <= columns["created_at"].min <= columns["created_at"].max < str(END)
    for key in ("id", "code"):
        assert columns[key].distinct == sampled
        assert abs(columns[key].distinct_estimate - LARGE) <= 0.25 * LARGE
        assert columns[key].top_values == ()  # high cardinality


def test_same_seed_gives_the_same_profile_and_exact_count_counts(backend: Backend) -> None:
    table = backend.table("orders", LARGE)

    first, second = (backend.profile(table, sample_rows=5_000, seed=7) for _ in range(2))
    counted = backend.profile(table, sample_rows=5_000, seed=7, exact_count=True)

    assert replace(first, duration_s=0) == replace(second, duration_s=0)
    assert "7" in first.sample_method
    assert (counted.row_count, counted.row_count_exact) == (LARGE, True)


def test_postgres_without_statistics_counts_and_samples_rows_not_pages(pg_engine: sa.Engine, pg_database: str) -> None:
    backend = pg_backend(pg_engine, pg_database)
    table = backend.table("fresh", LARGE, analyze=False)

    profile = backend.profile(table, sample_rows=5_000)

    assert profile.sample_method == "TABLESAMPLE BERNOULLI (10) REPEATABLE (42)"
    assert (profile.row_count, profile.row_count_exact) == (LARGE, True)
    assert 4_500 <= profile.sampled_rows <= 5_500
    # No pg_stats: distinct estimates come from the sample (Haas-Stokes).
    assert_distributions(by_name(profile), profile.sampled_rows)


# --- small and empty tables --------------------------------------------------------------------------------


def test_small_table_is_read_whole_with_exact_statistics(backend: Backend) -> None:
    rows = dataset(100)
    table = backend.table("few", 100, analyze=False)

    profile = backend.profile(table, sample_rows=5_000)

    assert profile.sample_method == "full table (small)"
    assert (profile.row_count, profile.row_count_exact, profile.sampled_rows) == (100, True, 100)
    columns = by_name(profile)
    notes = [row[2] for row in rows]
    assert columns["note"].nulls == notes.count(None)
    assert columns["note"].distinct == columns["note"].distinct_estimate == len(set(notes) - {None})
    statuses = Counter(row[1] for row in rows)
    assert dict(columns["status"].top_values) == statuses
    assert [count for _, count in columns["status"].top_values] == sorted(statuses.values(), reverse=True)
    assert Decimal(columns["amount"].min) == min(row[3] for row in rows)
    assert Decimal(columns["amount"].max) == max(row[3] for row in rows)
    assert columns["id"].distinct == columns["id"].distinct_estimate == 100
    assert (columns["id"].min, columns["id"].max) == ("1", "100")


def test_empty_table_has_zero_rows_and_empty_statistics(backend: Backend) -> None:
    table = backend.table("blank", 0)

    profile = backend.profile(table)

    assert (profile.row_count, profile.row_count_exact, profile.sampled_rows) == (0, True, 0)
    for column in profile.columns:
        assert (column.sampled, column.nulls, column.null_fraction, column.distinct) == (0, 0, 0.0, 0)
        assert (column.distinct_estimate, column.min, column.max, column.top_values) == (0, None, None, ())


def test_a_table_dropped_after_the_scan_is_a_source_error(backend: Backend) -> None:
    table = backend.table("gone", 10)
    backend.execute("DROP TABLE gone")

    with pytest.raises(SourceError) as raised:
        backend.profile(table)

    assert raised.value.kind == "error"
    assert "does not exist" in str(raised.value)


# --- types and failures ------------------------------------------------------------------------------------

PG_ODD_TYPES = """
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
CREATE TABLE odd (id serial PRIMARY KEY, flag boolean, payload jsonb, doc json, ref uuid, raw bytea,
                  tags text[], feeling mood, score positive, span int4range);
INSERT INTO odd (flag, payload, doc, ref, raw, tags, feeling, score, span)
SELECT g % 2 = 0, jsonb_build_object('g', g % 3), json_build_object('g', g % 3),
       md5(g::text)::uuid, decode(md5(g::text), 'hex'), ARRAY['a', g::text],
       (ARRAY['sad', 'ok', 'happy']::mood[])[1 + g % 3], g, int4range(g, g + 1)
FROM generate_series(1, 30) g;
"""


def test_postgres_skips_min_max_where_the_type_has_no_order(pg_engine: sa.Engine, pg_database: str) -> None:
    backend = pg_backend(pg_engine, pg_database)
    backend.execute(PG_ODD_TYPES)
    table = backend.scan().table("public.odd")
    assert table is not None

    columns = by_name(backend.profile(table))

    for name in ("flag", "payload", "doc", "ref", "raw", "tags", "span"):
        assert (columns[name].min, columns[name].max) == (None, None), name
    assert (columns["feeling"].min, columns["feeling"].max) == ("sad", "happy")  # enum order
    assert (columns["score"].min, columns["score"].max) == ("1", "30")  # domain over integer
    assert dict(columns["flag"].top_values) == {"true": 15, "false": 15}
    assert columns["doc"].distinct == 3  # json has no equality operator; grouped as text
    assert columns["ref"].distinct == 30 and columns["ref"].top_values == ()


MYSQL_ODD_TYPES = """
CREATE TABLE odd (id INT PRIMARY KEY, flag TINYINT(1), raw BLOB, doc JSON, mood ENUM('sad', 'ok', 'happy'),
                  word VARCHAR(10), at DATETIME)
"""


def test_mysql_types_without_order_and_case_sensitive_values(mysql_database: str) -> None:
    backend = mysql_backend(mysql_database)
    backend.execute(MYSQL_ODD_TYPES)
    backend.execute(
        "INSERT INTO odd VALUES (1, 1, X'00FF', '{\"a\": 1}', 'happy', 'A', '2024-01-02 03:04:05'),"
        " (2, 0, X'FF00', '{\"a\": 2}', 'sad', 'a', NULL), (3, 1, X'00FF', NULL, 'ok', 'A', NULL)"
    )
    table = backend.scan().table(f"{mysql_database}.odd")
    assert table is not None

    columns = by_name(backend.profile(table))

    for name in ("flag", "raw"):
        assert (columns[name].min, columns[name].max) == (None, None), name
    assert dict(columns["raw"].top_values) == {"00FF": 2, "FF00": 1}  # binary values as hex
    assert dict(columns["flag"].top_values) == {"1": 2, "0": 1}
    assert dict(columns["word"].top_values) == {"A": 2, "a": 1}  # not merged by a case-insensitive collation
    assert columns["doc"].distinct == 2 and columns["doc"].nulls == 1
    assert (columns["at"].min, columns["at"].max, columns["at"].nulls) == ("2024-01-02 03:04:05",) * 2 + (2,)


def test_sqlite_blobs_and_undecodable_text(tmp_path: Path) -> None:
    path = tmp_path / "odd.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE odd (id INTEGER PRIMARY KEY, raw BLOB, label TEXT, anything)")
        rows = [(1, b"\x00\xff", b"\xff\xfe", 3), (2, b"\x00\xff", "ok", "x"), (3, None, "ok", 2.5)]
        conn.executemany("INSERT INTO odd VALUES (?, ?, CAST(? AS TEXT), ?)", rows)
    conn.close()
    config = SQLiteSource(type="sqlite", path=str(path))
    table = SQLiteDatabase().scan("src", config).table("main.odd")
    assert table is not None

    columns = by_name(profile_table("src", config, table))

    assert (columns["raw"].min, columns["raw"].top_values) == (None, (("00FF", 2),))
    assert columns["label"].distinct == 2 and ("ok", 2) in columns["label"].top_values
    assert (columns["anything"].min, columns["anything"].max) == ("2.5", "x")  # SQLite orders numbers before text


def test_unreachable_servers_are_source_errors(closed_port: int) -> None:
    table = Table("public", "orders", columns=(Column("id", "integer"),))
    configs: list[PostgresSource | MySQLSource] = [
        pg_source("postgres", port=closed_port),
        MySQLSource(type="mysql", host="127.0.0.1", port=closed_port, user="root", database="x", connect_timeout_s=2),
    ]
    for config in configs:
        with pytest.raises(SourceError) as raised:
            profile_table("src", config, table)
        assert raised.value.kind == "unreachable"


def test_missing_sqlite_file_is_a_source_error(tmp_path: Path) -> None:
    config = SQLiteSource(type="sqlite", path=str(tmp_path / "missing.db"))

    with pytest.raises(SourceError) as raised:
        profile_table("src", config, Table("main", "orders"))

    assert raised.value.kind == "unknown_database"


def test_sqlite_without_rowid_is_read_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / "norowid.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT) WITHOUT ROWID")
        conn.executemany("INSERT INTO kv VALUES (?, ?)", [(i, f"v{i % 3}") for i in range(50)])
    conn.close()
    config = SQLiteSource(type="sqlite", path=str(path))
    table = SQLiteDatabase().scan("src", config).table("main.kv")
    assert table is not None

    profile = profile_table("src", config, table, sample_rows=20)

    assert profile.sample_method == "first 20 rows (relation cannot be sampled)"
    assert (profile.row_count, profile.row_count_exact, profile.sampled_rows) == (50, True, 20)


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError):
        profile_table("src", SQLiteSource(type="sqlite", path="x"), Table("main", "t"), sample_rows=0)


# --- pure SQL and estimator --------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["postgresql", "mysql", "sqlite"])
@pytest.mark.parametrize("rows", [0, 5_000, 5_001, 50_000, 10**12])
@pytest.mark.parametrize("row_level", [False, True])
def test_sampling_never_sorts_by_a_random_key(dialect: Any, rows: int, row_level: bool) -> None:
    database = sql_database_for(dialect)
    plan = sampling_clause(database, rows=rows, sample_rows=5_000, seed=42, row_level=row_level)
    sql = sample_query(database, Table("s", "t"), plan)

    assert "ORDER BY" not in sql.upper() and "RANDOM()" not in sql.upper() and "RAND()" not in sql.upper()
    assert sql.endswith("LIMIT 5000" if rows <= 5_000 else "LIMIT 10000")
    if rows <= 5_000:
        assert plan == SamplingPlan("", "full table (small)", 5_000, unsampled=True)
    elif dialect == "postgresql":
        assert re.fullmatch(r"TABLESAMPLE (SYSTEM|BERNOULLI) \((\d+(\.\d+)?)\) REPEATABLE \(42\)", plan.clause)
        assert 0 < float(plan.clause.split("(")[1].split(")")[0]) <= 100


def test_sampling_clauses_per_dialect() -> None:
    def clause(dialect: Any, **options: Any) -> str:
        return sampling_clause(sql_database_for(dialect), rows=50_000, sample_rows=5_000, seed=42, **options).clause

    assert clause("postgresql") == "TABLESAMPLE SYSTEM (10) REPEATABLE (42)"
    assert clause("postgresql", row_level=True) == "TABLESAMPLE BERNOULLI (10) REPEATABLE (42)"
    assert clause("mysql") == "WHERE RAND(42) < 0.1"
    assert clause("sqlite").endswith("% 10 = 0") and "rowid" in clause("sqlite")
    assert clause("postgresql", samplable=False) == ""
    tiny = sampling_clause(sql_database_for("postgresql"), rows=10**15, sample_rows=10, seed=1)
    assert tiny.clause == "TABLESAMPLE SYSTEM (0.000001) REPEATABLE (1)"
    assert sample_query(sql_database_for("mysql"), Table("db", "t`x"), SamplingPlan("WHERE RAND(1) < 0.5", "", 10)) == (
        "SELECT * FROM `db`.`t``x` WHERE RAND(1) < 0.5 LIMIT 10"
    )
    pg = sql_database_for("postgresql")
    assert sample_query(pg, Table("s", 'a"b'), SamplingPlan("", "", 3)) == 'SELECT * FROM "s"."a""b" LIMIT 3'


def test_sqlite_rowid_sample_does_not_alias_with_periodic_data(tmp_path: Path) -> None:
    with sqlite3.connect(":memory:") as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, period5 INTEGER)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(i, i % 5) for i in range(1, 20_001)])
        plan = sampling_clause(sql_database_for("sqlite"), rows=20_000, sample_rows=2_000, seed=42)
        counts = dict(conn.execute(f"SELECT period5, count(*) FROM t {plan.clause} GROUP BY 1").fetchall())
    conn.close()

    assert set(counts) == {0, 1, 2, 3, 4}
    assert all(350 <= n <= 450 for n in counts.values())


def test_haas_stokes_estimate() -> None:
    assert haas_stokes_estimate(1_000, 1_000, 1_000, 100_000) == 100_000  # a key: every sampled value unique
    assert haas_stokes_estimate(1_000, 5, 0, 100_000) == 5  # a code list: nothing seen once
    assert haas_stokes_estimate(1_000, 600, 400, 100_000) == round(1_000 * 600 / (1_000 - 400 + 400 * 0.01))
    assert haas_stokes_estimate(1_000, 600, 400, 800) == 600  # the sample is the population
    assert haas_stokes_estimate(0, 0, 0, 100) == 0
