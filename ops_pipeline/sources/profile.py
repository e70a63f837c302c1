"""Profile of one catalogued table: its shape from the catalog, a row count, and per-column statistics from a
sample that the database draws itself, never by sorting on a random key.

This module is the same for every database; it asks the table's `SqlDatabase` for what differs: the statements
that open a read-only snapshot, the relation's row estimate and samplability (`describe_relation`), the
sampling clause (`sample_clause`: PostgreSQL's TABLESAMPLE, MySQL's `RAND(seed) <`, SQLite's hashed rowid
stride; each database's `profile.py` says how and why), and how to spell a value as text.

A relation the database cannot sample (views; PostgreSQL's foreign tables; SQLite's WITHOUT ROWID tables) is
read from its start. When the database has no row estimate (PostgreSQL's reltuples -1 or 0: never vacuumed or
analyzed), the table is counted first (a full scan, so the row count is exact) and the sample is asked for at
row level (PostgreSQL then uses BERNOULLI instead of page-level SYSTEM: free of page clustering, for the price
of one more scan).

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

Distinct values in the whole table: the database's own statistics when it has them (PostgreSQL's
``pg_stats.n_distinct`` when the table was analyzed; a negative value is a fraction of the rows), the exact
count when the whole table was read, else the Haas-Stokes "Duj1" estimator over the sample (see
``haas_stokes_estimate``).

NULLs are counted in ``nulls``, never in ``distinct`` or ``top_values``. An empty sample has null_fraction 0.0.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ops_pipeline.core.catalog import Column, Table
from ops_pipeline.settings import SourceConfig
from ops_pipeline.sources.base import SourceError
from ops_pipeline.sources.registry import sql_database_for
from ops_pipeline.sources.sql import RelationFacts, SqlDatabase

SAMPLE = "ops_sample"


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
    database: SqlDatabase[Any],
    *,
    rows: int,
    sample_rows: int,
    seed: int,
    row_level: bool = False,
    samplable: bool = True,
) -> SamplingPlan:
    """How to draw about ``sample_rows`` of ``rows`` rows. ``row_level`` asks for a row-level sample where the
    database's usual one picks pages; ``samplable`` is False for relations the database cannot sample."""
    if rows <= sample_rows:
        return SamplingPlan("", "full table (small)", sample_rows, unsampled=True)
    if not samplable:
        return SamplingPlan("", f"first {sample_rows} rows (relation cannot be sampled)", sample_rows, unsampled=True)
    clause, method = database.sample_clause(rows=rows, sample_rows=sample_rows, seed=seed, row_level=row_level)
    return SamplingPlan(clause, method, 2 * sample_rows)


def sample_query(database: SqlDatabase[Any], table: Table, plan: SamplingPlan) -> str:
    """The SELECT that draws the sample; the profile's queries use it as a CTE."""
    parts = ["SELECT * FROM", _relation_name(database, table), plan.clause, f"LIMIT {plan.limit}"]
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
    config: SourceConfig,
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
    when the table no longer exists; ValueError for a source type without tables.
    """
    if sample_rows < 1 or low_cardinality < 0:
        raise ValueError("sample_rows must be at least 1 and low_cardinality at least 0")
    database = sql_database_for(config.type)
    started = time.perf_counter()
    with database.connect(name, config) as connection:
        cursor = database.profile_cursor(connection)
        try:
            for statement in database.profile_begin:
                cursor.execute(statement)
            relation = database.describe_relation(
                lambda sql, params: _fetch(cursor, database.with_parameters(sql) if params else sql, params), table
            )
            if relation is None:
                raise SourceError(name, "error", f"table {table.qualified_name} does not exist")
            rows, exact = _row_count(cursor, database, table, relation, exact_count)
            plan = sampling_clause(
                database,
                rows=rows,
                sample_rows=sample_rows,
                seed=seed,
                row_level=relation.estimate is None,
                samplable=relation.samplable,
            )
            sample_sql = sample_query(database, table, plan)
            totals = _totals(cursor, database, sample_sql, table.columns, relation.orderable)
            frequencies = _frequencies(cursor, database, sample_sql, table.columns, low_cardinality)
            cursor.execute("COMMIT")
        finally:
            cursor.close()
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


# --- queries -----------------------------------------------------------------------------------------------


def _fetch(cursor: Any, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
    """Every query of a profile runs here."""
    if params is None:
        cursor.execute(sql)
    else:
        cursor.execute(sql, params)
    return [tuple(row) for row in cursor.fetchall()]


def _relation_name(database: SqlDatabase[Any], table: Table) -> str:
    return f"{database.quote(table.schema)}.{database.quote(table.name)}"


def _row_count(
    cursor: Any, database: SqlDatabase[Any], table: Table, relation: RelationFacts, exact: bool
) -> tuple[int, bool]:
    if relation.estimate is not None and not exact:
        return relation.estimate, False
    found = _fetch(cursor, f"SELECT count(*) FROM {_relation_name(database, table)}")
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
    cursor: Any, database: SqlDatabase[Any], sample_sql: str, columns: Sequence[Column], orderable: frozenset[str]
) -> _Totals:
    """Rows in the sample and, per column, non-null values, min and max, in one aggregate query."""
    selected = ["count(*)"]
    for column in columns:
        quoted = database.quote(column.name)
        selected.append(f"count({quoted})")
        if column.name in orderable:
            selected += [database.as_text(f"min({quoted})"), database.as_text(f"max({quoted})")]
        else:
            selected += ["NULL", "NULL"]
    row = _fetch(cursor, f"WITH {SAMPLE} AS ({sample_sql}) SELECT {', '.join(selected)} FROM {SAMPLE}")[0]
    return _Totals(int(row[0]), tuple(int(n) for n in row[1::3]), row[2::3], row[3::3])


@dataclass(frozen=True)
class _Frequencies:
    distinct: int = 0
    singletons: int = 0
    top: tuple[tuple[str, int], ...] = ()


def _frequency_sql(database: SqlDatabase[Any], sample_sql: str, columns: Sequence[Column], low_cardinality: int) -> str:
    """Every column's values unpivoted into (column index, value as text), grouped; per column the distinct
    count d, the values seen once f1, and the values themselves only when d <= low_cardinality."""
    cases = " ".join(
        f"WHEN {i} THEN {database.value_text(database.quote(c.name), c.data_type)}" for i, c in enumerate(columns)
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
    cursor: Any, database: SqlDatabase[Any], sample_sql: str, columns: Sequence[Column], low_cardinality: int
) -> dict[int, _Frequencies]:
    """Per column index; a column without any non-null value in the sample is missing."""
    if not columns:
        return {}
    grouped: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in _fetch(cursor, _frequency_sql(database, sample_sql, columns, low_cardinality)):
        grouped[int(row[0])].append(row)
    result: dict[int, _Frequencies] = {}
    for index, rows in grouped.items():
        distinct, singletons = int(rows[0][1]), int(rows[0][2])
        top = tuple((str(v), int(n)) for _, _, _, _, v, n in sorted(rows, key=lambda r: int(r[3])))
        result[index] = _Frequencies(distinct, singletons, top if distinct <= low_cardinality else ())
    return result


# --- per column --------------------------------------------------------------------------------------------


def _column_profile(
    column: Column, index: int, totals: _Totals, freq: _Frequencies, rows: int, exact: bool, relation: RelationFacts
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
