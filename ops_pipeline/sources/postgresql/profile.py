"""What a profile asks PostgreSQL: the relation's kind, row estimate, orderable columns and pg_stats, and a
TABLESAMPLE clause (SYSTEM picks pages; BERNOULLI rows, for a table without statistics)."""

from __future__ import annotations

from ops_pipeline.core.catalog import Table
from ops_pipeline.sources.sql import Query, RelationFacts, decimal_literal, positive

RELATION = """
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
ORDERABLE_CATEGORIES = frozenset("NSDTIE")
SAMPLABLE_RELKINDS = frozenset("rpm")  # views and foreign tables cannot be sampled

# A big table's scans may join one already running (synchronized scans) and start mid-table; then the LIMIT
# would keep other rows in the second query.
BEGIN = ("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "SET LOCAL synchronize_seqscans = off")


def describe_relation(query: Query, table: Table) -> RelationFacts | None:
    found = query(RELATION, (table.schema, table.name))
    if not found:
        return None
    relkind, reltuples = found[0][0], found[0][1]
    return RelationFacts(
        estimate=positive(reltuples),
        samplable=relkind in SAMPLABLE_RELKINDS,
        orderable=frozenset(col for _, _, col, category, _ in found if category in ORDERABLE_CATEGORIES),
        n_distinct={col: float(stat) for _, _, col, _, stat in found if stat is not None},
    )


def sample_clause(*, rows: int, sample_rows: int, seed: int, row_level: bool) -> tuple[str, str]:
    method = "BERNOULLI" if row_level else "SYSTEM"
    clause = f"TABLESAMPLE {method} ({decimal_literal(100 * sample_rows / rows)}) REPEATABLE ({seed})"
    return clause, clause
