"""Profile of one catalogued table: its shape from the catalog, a row count, and per-column statistics from a
sample that the database draws itself.

How each database samples (never by sorting on a random key):

* PostgreSQL: ``TABLESAMPLE SYSTEM (p) REPEATABLE (seed)`` with p chosen from ``pg_class.reltuples`` so about
  ``sample_rows`` rows come back. SYSTEM picks whole pages, so the sample size varies and rows that sit on the
  same page come together. When reltuples is unknown (-1, never vacuumed or analyzed) or 0, the table is counted
  first (a full scan, so the row count is exact) and the sample uses ``BERNOULLI`` instead: a row-level sample,
  free of page clustering, for the price of one more scan. Views and foreign tables cannot be sampled: their
  first ``sample_rows`` rows are read.
* MySQL/MariaDB have no TABLESAMPLE: ``WHERE RAND(seed) < fraction`` reads the table once, in its own order,
  without sorting (stopping early only at the LIMIT). A constant seed makes it repeatable while the table and
  its access path are unchanged.
* SQLite: a stride over a hash of the rowid, ``((rowid mod P) * A + seed) mod P mod k = 0`` (P = 2^31 - 1, A near
  P times the golden ratio): repeatable, no sort, and unlike a plain ``rowid % k`` it does not alias with data
  that repeats every few rows (a round-robin status would otherwise show one value). WITHOUT ROWID tables and
  views are read from the start.

A table no larger than ``sample_rows`` (by estimate) is read whole; when fewer than ``sample_rows`` rows come
back, that read was the whole table and the row count and all statistics are exact.

A drawn sample aims at ``sample_rows`` rows and is capped by ``LIMIT 2 * sample_rows``. The cap only guards
against a badly stale estimate: rows arrive in table order, so a LIMIT that bites drops the table's tail (often
its newest rows), and a cap at ``sample_rows`` itself would bite about half the time (SYSTEM's page-level sample
size easily varies by +-15%).

The statistics are computed in SQL over the sample (a CTE), so no sample rows travel to Python: one aggregate
query (rows, non-null count, min and max as text per column) and one frequency query that groups the sample's
values per column and returns, per column, the distinct count, the number of values seen exactly once, and the
values with their counts when there are at most ``low_cardinality`` of them. Both queries run in one read-only
repeatable-read transaction, so they see the same rows. Requires MySQL 8 / MariaDB 10.2 / SQLite 3.25 (CTEs and
window functions).

Distinct values in the whole table: PostgreSQL's ``pg_stats.n_distinct`` when the table was analyzed (a
negative value is a fraction of the rows), the exact count when the whole table was read, else the Haas-Stokes
"Duj1" estimator over the sample (see ``haas_stokes_estimate``).

NULLs are counted in ``nulls``, never in ``distinct`` or ``top_values``. An empty sample has null_fraction 0.0.
"""

from __future__ import annotations

import math
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from ops_pipeline.core.catalog import Column, Table
from ops_pipeline.settings import MySQLSource, PostgresSource, SQLiteSource
from ops_pipeline.sources import mysql as mysql_source
from ops_pipeline.sources import postgresql as pg_source
from ops_pipeline.sources import sqlite as sqlite_source
from ops_pipeline.sources.base import SourceError

Dialect = Literal["postgresql", "mysql", "sqlite"]

SAMPLE = "ops_sample"
ROWID_PRIME = 2_147_483_647  # 2^31 - 1: (rowid mod P) * A stays below 2^62, so SQLite never overflows to REAL
ROWID_MULTIPLIER = 1_327_217_885  # about P * 0.618: consecutive rowids land far apart modulo P


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    data_type: str
    sampled: int  # rows in the sample
    nulls: int
    null_fraction: float  # 0.0 for an empty sample
    distinct: int  # distinct non-null values in the sample
    distinct_estimate: int | None  # distinct non-null values in the whole table; None when unknowable
    min: str | None  # as text; None when the type has no meaningful order or the sample has no value
    max: str | None
    top_values: tuple[tuple[str, int], ...]  # (value as text, count), most frequent first; only low cardinality


@dataclass(frozen=True)
class TableProfile:
    source: str
    table: Table
    row_count: int
    row_count_exact: bool
    sample_method: str
    sampled_rows: int
    columns: tuple[ColumnProfile, ...]
    duration_s: float


@dataclass(frozen=True)
class SamplingPlan:
    """SQL that follows ``FROM <table>`` to draw the sample, the LIMIT after it, and how to describe it.
    ``unsampled`` plans read the table from its start, so a sample smaller than the limit is the whole table."""

    clause: str
    method: str
    limit: int
    unsampled: bool = False


def sampling_clause(
    dialect: Dialect, *, rows: int, sample_rows: int, seed: int, row_level: bool = False, samplable: bool = True
) -> SamplingPlan:
    """How to draw about ``sample_rows`` of ``rows`` rows. ``row_level`` asks PostgreSQL for BERNOULLI instead
    of page-level SYSTEM; ``samplable`` is False for relations that cannot be sampled (views in PostgreSQL,
    WITHOUT ROWID tables in SQLite)."""
    if rows <= sample_rows:
        return SamplingPlan("", "full table (small)", sample_rows, unsampled=True)
    if not samplable:
        return SamplingPlan("", f"first {sample_rows} rows (relation cannot be sampled)", sample_rows, unsampled=True)
    cap = 2 * sample_rows
    if dialect == "postgresql":
        method = "BERNOULLI" if row_level else "SYSTEM"
        clause = f"TABLESAMPLE {method} ({_decimal(100 * sample_rows / rows)}) REPEATABLE ({seed})"
        return SamplingPlan(clause, clause, cap)
    if dialect == "mysql":
        predicate = f"RAND({seed}) < {_decimal(sample_rows / rows)}"
        return SamplingPlan(f"WHERE {predicate}", predicate, cap)
    stride = math.ceil(rows / sample_rows)
    method = f"rowid modulo {stride} (hashed, seed {seed})"
    return SamplingPlan(f"WHERE {_rowid_hash(seed)} % {stride} = 0", method, cap)


def sample_query(dialect: Dialect, table: Table, plan: SamplingPlan) -> str:
    """The SELECT that draws the sample; the profile's queries use it as a CTE."""
    parts = ["SELECT * FROM", _relation_name(dialect, table), plan.clause, f"LIMIT {plan.limit}"]
    return " ".join(part for part in parts if part)


def haas_stokes_estimate(sample_size: int, distinct: int, singletons: int, population: int) -> int:
    """Distinct values in a population of ``population`` rows, from a random sample of ``sample_size`` rows
    holding ``distinct`` distinct values of which ``singletons`` occur exactly once.

    Haas and Stokes' "Duj1" estimator (Haas, Naughton, Seshadri, Stokes, VLDB 1995), the one PostgreSQL's ANALYZE
    uses: D = n*d / (n - f1 + f1*n/N), clamped to [d, N]. It is exact at both ends that matter most for a profile,
    a key (every sampled value unique: D = N) and a code list (no singletons: D = d), so it agrees with
    pg_stats. Chao1 (d + f1^2 / 2 f2) has no value when f2 = 0, which is exactly the key case, and GEE
    (sqrt(N/n) f1 + d - f1) underestimates a key by a factor sqrt(N/n). Like all of them it assumes a row-level
    sample; SYSTEM's page sample can underestimate values that are clustered by page.
    """
    if sample_size <= 0 or distinct <= 0:
        return 0
    if population <= sample_size:
        return distinct
    estimate = sample_size * distinct / (sample_size - singletons + singletons * sample_size / population)
    return round(min(max(estimate, distinct), population))


def profile_table(
    name: str,
    config: PostgresSource | MySQLSource | SQLiteSource,
    table: Table,
    *,
    sample_rows: int = 10_000,
    exact_count: bool = False,
    seed: int = 42,
    low_cardinality: int = 20,
) -> TableProfile:
    """Profile ``table`` (from a catalog scan of source ``name``) from a sample of about ``sample_rows`` rows.

    The row count is the catalog's estimate (pg_class.reltuples, information_schema TABLE_ROWS, sqlite_stat1)
    unless ``exact_count``, or the estimate is missing or zero, or the whole table was read: then it is exact.
    Raises SourceError (kind from the source's own classification) when the source fails, and kind "error"
    when the table no longer exists.
    """
    if sample_rows < 1 or low_cardinality < 0:
        raise ValueError("sample_rows must be at least 1 and low_cardinality at least 0")
    started = time.perf_counter()
    with _session(name, config) as (dialect, cursor):
        for statement in dialect.begin:
            cursor.execute(statement)
        relation = dialect.describe(cursor, table)
        if relation is None:
            raise SourceError(name, "error", f"table {table.qualified_name} does not exist")
        rows, exact = _row_count(cursor, dialect.name, table, relation, exact_count)
        plan = sampling_clause(
            dialect.name,
            rows=rows,
            sample_rows=sample_rows,
            seed=seed,
            row_level=relation.estimate is None,
            samplable=relation.samplable,
        )
        sample_sql = sample_query(dialect.name, table, plan)
        totals = _totals(cursor, dialect, sample_sql, table.columns, relation.orderable)
        frequencies = _frequencies(cursor, dialect, sample_sql, table.columns, low_cardinality)
        cursor.execute("COMMIT")
    rows, exact = _reconcile_count(rows, exact, plan, totals.sampled)
    columns = tuple(
        _column_profile(column, index, totals, frequencies.get(index, _Frequencies()), rows, exact, relation)
        for index, column in enumerate(table.columns)
    )
    return TableProfile(
        source=name,
        table=table,
        row_count=rows,
        row_count_exact=exact,
        sample_method=plan.method,
        sampled_rows=totals.sampled,
        columns=columns,
        duration_s=time.perf_counter() - started,
    )


# --- what each database needs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Relation:
    estimate: int | None  # None when the catalog has none, or says 0 (often stale): then the table is counted
    samplable: bool
    orderable: frozenset[str]  # columns whose min/max are meaningful and supported
    n_distinct: dict[str, float] = field(default_factory=dict)  # PostgreSQL pg_stats


@dataclass(frozen=True)
class _Dialect:
    name: Dialect
    begin: tuple[str, ...]  # opens a read-only transaction whose queries all see one snapshot
    as_text: Callable[[str], str]  # an expression cast to text (min/max)
    value_text: Callable[[str, str], str]  # (quoted column, data type) -> its value as text, for grouping
    describe: Callable[[Any, Table], _Relation | None]


PG_RELATION = """
SELECT c.relkind, c.reltuples::float8, a.attname, t.typcategory, s.n_distinct
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = a.attname
                    AND s.inherited = (c.relkind = 'p')
WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
"""

# pg_type.typcategory of the types min() and max() accept: numeric, string, date/time, timespan, network, enum.
# Domains carry their base type's category. Boolean, uuid, json(b), bytea, arrays, ranges, geometric and bit
# strings have no min/max (PostgreSQL 15) or none that means anything.
PG_ORDERABLE_CATEGORIES = frozenset("NSDTIE")
PG_SAMPLABLE_RELKINDS = frozenset("rpm")


def _pg_describe(cursor: Any, table: Table) -> _Relation | None:
    found = _fetch(cursor, PG_RELATION, (table.schema, table.name))
    if not found:
        return None
    relkind, reltuples = found[0][0], found[0][1]
    return _Relation(
        estimate=_positive(reltuples),
        samplable=relkind in PG_SAMPLABLE_RELKINDS,
        orderable=frozenset(col for _, _, col, category, _ in found if category in PG_ORDERABLE_CATEGORIES),
        n_distinct={col: float(stat) for _, _, col, _, stat in found if stat is not None},
    )


MYSQL_RELATION = "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s"

# Compared as bytes or not at all: min/max would come back as binary garbage or mean nothing.
MYSQL_BINARY_TYPES = frozenset(
    {
        "tinyblob",
        "blob",
        "mediumblob",
        "longblob",
        "binary",
        "varbinary",
        "bit",
        "geometry",
        "point",
        "linestring",
        "polygon",
        "multipoint",
        "multilinestring",
        "multipolygon",
        "geometrycollection",
    }
)


def _mysql_describe(cursor: Any, table: Table) -> _Relation | None:
    found = _fetch(cursor, MYSQL_RELATION, (table.schema, table.name))
    if not found:
        return None
    orderable = frozenset(c.name for c in table.columns if _mysql_orderable(c.data_type))
    return _Relation(estimate=_positive(found[0][0]), samplable=True, orderable=orderable)


def _mysql_base_type(data_type: str) -> str:
    return re.split(r"[\s(]", data_type.strip().lower(), maxsplit=1)[0]


def _mysql_orderable(data_type: str) -> bool:
    base = _mysql_base_type(data_type)
    is_boolean = base in ("bool", "boolean") or data_type.lower().startswith("tinyint(1)")
    return not is_boolean and base != "json" and base not in MYSQL_BINARY_TYPES


def _mysql_value_text(quoted: str, data_type: str) -> str:
    if _mysql_base_type(data_type) in MYSQL_BINARY_TYPES:
        return f"HEX({quoted})"
    # Binary collation: values that differ in case or accents are different values.
    return f"CAST({quoted} AS CHAR CHARACTER SET utf8mb4) COLLATE utf8mb4_bin"


SQLITE_RELATION = "SELECT type, sql FROM sqlite_schema WHERE name = ? AND type IN ('table', 'view')"
WITHOUT_ROWID = re.compile(r"\bWITHOUT\s+ROWID\b", re.IGNORECASE)


def _sqlite_describe(cursor: Any, table: Table) -> _Relation | None:
    found = _fetch(cursor, SQLITE_RELATION, (table.name,))
    if not found:
        return None
    kind, sql = found[0]
    is_table = kind == "table"
    estimate = sqlite_source._row_estimates(cursor.connection).get(table.name) if is_table else None
    return _Relation(
        estimate=_positive(estimate),
        samplable=is_table and not WITHOUT_ROWID.search(sql or ""),
        orderable=frozenset(c.name for c in table.columns if not _sqlite_unordered(c.data_type)),
    )


def _sqlite_unordered(data_type: str) -> bool:
    lowered = data_type.lower()
    return any(word in lowered for word in ("blob", "bool", "json"))


def _sqlite_value_text(quoted: str, data_type: str) -> str:
    if "blob" in data_type.lower():
        return f"CASE WHEN {quoted} IS NOT NULL THEN hex({quoted}) END"  # hex(NULL) is ''
    return f"CAST({quoted} AS TEXT)"


POSTGRES = _Dialect(
    name="postgresql",
    # A big table's scans may join one already running (synchronized scans) and start mid-table; then the
    # LIMIT would keep other rows in the second query.
    begin=("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "SET LOCAL synchronize_seqscans = off"),
    as_text=lambda expression: f"({expression})::text",
    value_text=lambda quoted, _type: f"{quoted}::text",
    describe=_pg_describe,
)
MYSQL = _Dialect(
    name="mysql",
    begin=("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"),
    as_text=lambda expression: f"CAST({expression} AS CHAR)",
    value_text=_mysql_value_text,
    describe=_mysql_describe,
)
SQLITE = _Dialect(
    name="sqlite",
    begin=("BEGIN",),
    as_text=lambda expression: f"CAST({expression} AS TEXT)",
    value_text=_sqlite_value_text,
    describe=_sqlite_describe,
)


@contextmanager
def _session(name: str, config: PostgresSource | MySQLSource | SQLiteSource) -> Iterator[tuple[_Dialect, Any]]:
    """A cursor on the source, opened by the source's own connect: its errors become classified SourceErrors."""
    if isinstance(config, PostgresSource):
        with pg_source.connect(name, config) as conn, conn.cursor() as cursor:
            yield POSTGRES, cursor
    elif isinstance(config, MySQLSource):
        with mysql_source._connect(name, config) as conn, conn.cursor() as cursor:
            yield MYSQL, cursor
    else:
        with sqlite_source._connect(name, config) as conn:
            conn.text_factory = _lenient_text  # SQLite text may hold any bytes
            yield SQLITE, conn.cursor()


def _lenient_text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


# --- queries -----------------------------------------------------------------------------------------------


def _fetch(cursor: Any, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
    """Every query of a profile runs here."""
    if params is None:
        cursor.execute(sql)
    else:
        cursor.execute(sql, params)
    return [tuple(row) for row in cursor.fetchall()]


def _quote(dialect: Dialect, identifier: str) -> str:
    # SQLite accepts the standard double quotes that PostgreSQL uses.
    return mysql_source._quote(identifier) if dialect == "mysql" else pg_source._quote(identifier)


def _relation_name(dialect: Dialect, table: Table) -> str:
    return f"{_quote(dialect, table.schema)}.{_quote(dialect, table.name)}"


def _row_count(cursor: Any, dialect: Dialect, table: Table, relation: _Relation, exact: bool) -> tuple[int, bool]:
    if relation.estimate is not None and not exact:
        return relation.estimate, False
    found = _fetch(cursor, f"SELECT count(*) FROM {_relation_name(dialect, table)}")
    return int(found[0][0]), True


def _reconcile_count(rows: int, exact: bool, plan: SamplingPlan, sampled: int) -> tuple[int, bool]:
    """A read from the table's start that stopped short of its LIMIT saw every row; else the table holds at
    least the sampled rows, whatever a stale estimate says."""
    if plan.unsampled and sampled < plan.limit:
        return sampled, True
    return max(rows, sampled), exact


@dataclass(frozen=True)
class _Totals:
    sampled: int
    non_null: tuple[int, ...]
    minimum: tuple[str | None, ...]
    maximum: tuple[str | None, ...]


def _totals(
    cursor: Any, dialect: _Dialect, sample_sql: str, columns: Sequence[Column], orderable: frozenset[str]
) -> _Totals:
    """Rows in the sample and, per column, non-null values, min and max, in one aggregate query."""
    selected = ["count(*)"]
    for column in columns:
        quoted = _quote(dialect.name, column.name)
        selected.append(f"count({quoted})")
        if column.name in orderable:
            selected += [dialect.as_text(f"min({quoted})"), dialect.as_text(f"max({quoted})")]
        else:
            selected += ["NULL", "NULL"]
    row = _fetch(cursor, f"WITH {SAMPLE} AS ({sample_sql}) SELECT {', '.join(selected)} FROM {SAMPLE}")[0]
    return _Totals(int(row[0]), tuple(int(n) for n in row[1::3]), row[2::3], row[3::3])


@dataclass(frozen=True)
class _Frequencies:
    distinct: int = 0
    singletons: int = 0
    top: tuple[tuple[str, int], ...] = ()


def _frequency_sql(dialect: _Dialect, sample_sql: str, columns: Sequence[Column], low_cardinality: int) -> str:
    """Every column's values unpivoted into (column index, value as text), grouped; per column the distinct
    count d, the values seen once f1, and the values themselves only when d <= low_cardinality."""
    cases = " ".join(
        f"WHEN {i} THEN {dialect.value_text(_quote(dialect.name, c.name), c.data_type)}" for i, c in enumerate(columns)
    )
    indexes = " UNION ALL ".join(f"SELECT {i} AS i" for i in range(len(columns)))
    return f"""
WITH {SAMPLE} AS ({sample_sql}),
ops_values AS (SELECT k.i, CASE k.i {cases} END AS v FROM {SAMPLE} CROSS JOIN ({indexes}) k),
ops_groups AS (SELECT i, v, count(*) AS n FROM ops_values WHERE v IS NOT NULL GROUP BY i, v),
ops_ranked AS (
    SELECT i, v, n, count(*) OVER (PARTITION BY i) AS d,
           sum(CASE WHEN n = 1 THEN 1 ELSE 0 END) OVER (PARTITION BY i) AS f1,
           row_number() OVER (PARTITION BY i ORDER BY n DESC, v) AS r
    FROM ops_groups
)
SELECT i, d, f1, r, v, n FROM ops_ranked WHERE r = 1 OR d <= {low_cardinality}
"""


def _frequencies(
    cursor: Any, dialect: _Dialect, sample_sql: str, columns: Sequence[Column], low_cardinality: int
) -> dict[int, _Frequencies]:
    """Per column index; a column without any non-null value in the sample is missing."""
    if not columns:
        return {}
    grouped: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in _fetch(cursor, _frequency_sql(dialect, sample_sql, columns, low_cardinality)):
        grouped[int(row[0])].append(row)
    result: dict[int, _Frequencies] = {}
    for index, rows in grouped.items():
        distinct, singletons = int(rows[0][1]), int(rows[0][2])
        top = tuple((str(v), int(n)) for _, _, _, _, v, n in sorted(rows, key=lambda r: int(r[3])))
        result[index] = _Frequencies(distinct, singletons, top if distinct <= low_cardinality else ())
    return result


# --- per column --------------------------------------------------------------------------------------------


def _column_profile(
    column: Column, index: int, totals: _Totals, freq: _Frequencies, rows: int, exact: bool, relation: _Relation
) -> ColumnProfile:
    sampled, non_null = totals.sampled, totals.non_null[index]
    whole_table = exact and sampled == rows
    return ColumnProfile(
        name=column.name,
        data_type=column.data_type,
        sampled=sampled,
        nulls=sampled - non_null,
        null_fraction=(sampled - non_null) / sampled if sampled else 0.0,
        distinct=freq.distinct,
        distinct_estimate=_distinct_estimate(
            freq, sampled, non_null, rows, whole_table, relation.n_distinct.get(column.name)
        ),
        min=totals.minimum[index],
        max=totals.maximum[index],
        top_values=freq.top,
    )


def _distinct_estimate(
    freq: _Frequencies, sampled: int, non_null: int, rows: int, whole_table: bool, n_distinct: float | None
) -> int | None:
    if whole_table:
        return freq.distinct
    if n_distinct:  # pg_stats: > 0 a count, < 0 minus the fraction of rows, 0 unknown
        return round(n_distinct if n_distinct > 0 else -n_distinct * rows)
    if not sampled:
        return None
    return haas_stokes_estimate(non_null, freq.distinct, freq.singletons, round(rows * non_null / sampled))


# --- helpers -----------------------------------------------------------------------------------------------


def _positive(value: Any) -> int | None:
    return int(value) if value is not None and value > 0 else None


def _decimal(value: float) -> str:
    """A percentage or fraction as a short SQL literal, never 0 (no rows) and never in exponent notation."""
    return f"{max(value, 1e-6):.6f}".rstrip("0").rstrip(".")


def _rowid_hash(seed: int) -> str:
    p, a = ROWID_PRIME, ROWID_MULTIPLIER
    return f"((((rowid % {p}) + {p}) % {p}) * {a} + {seed % p}) % {p}"
