"""What a profile asks MySQL and MariaDB: the row estimate and which columns have a meaningful order, values
as text that keep case and bytes apart, and a `RAND(seed) < fraction` sample (there is no TABLESAMPLE): one
pass over the table in its own order, repeatable while the table and its access path are unchanged."""

from __future__ import annotations

import re

from ops_pipeline.core.catalog import Table
from ops_pipeline.sources.sql import Query, RelationFacts, decimal_literal, positive

RELATION = "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s"

BEGIN = ("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")

# Compared as bytes or not at all: min/max would come back as binary garbage or mean nothing.
BINARY_TYPES = frozenset(
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


def describe_relation(query: Query, table: Table) -> RelationFacts | None:
    found = query(RELATION, (table.schema, table.name))
    if not found:
        return None
    orderable = frozenset(c.name for c in table.columns if _orderable(c.data_type))
    return RelationFacts(estimate=positive(found[0][0]), samplable=True, orderable=orderable)


def sample_clause(*, rows: int, sample_rows: int, seed: int) -> tuple[str, str]:
    predicate = f"RAND({seed}) < {decimal_literal(sample_rows / rows)}"
    return f"WHERE {predicate}", predicate


def value_text(quoted: str, data_type: str) -> str:
    if _base_type(data_type) in BINARY_TYPES:
        return f"HEX({quoted})"
    # Binary collation: values that differ in case or accents are different values.
    return f"CAST({quoted} AS CHAR CHARACTER SET utf8mb4) COLLATE utf8mb4_bin"


def _base_type(data_type: str) -> str:
    return re.split(r"[\s(]", data_type.strip().lower(), maxsplit=1)[0]


def _orderable(data_type: str) -> bool:
    base = _base_type(data_type)
    is_boolean = base in ("bool", "boolean") or data_type.lower().startswith("tinyint(1)")
    return not is_boolean and base != "json" and base not in BINARY_TYPES
