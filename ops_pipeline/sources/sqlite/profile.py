"""What a profile asks SQLite: the row estimate from sqlite_stat1, whether the table has a rowid to sample by,
values as text (blobs as hex), and a stride over a hash of the rowid.

The stride, ``((rowid mod P) * A + seed) mod P mod k = 0`` (P = 2^31 - 1, A near P times the golden ratio),
is repeatable, needs no sort, and unlike a plain ``rowid % k`` does not alias with data that repeats every few
rows (a round-robin status would otherwise show one value).
"""

from __future__ import annotations

import math
import re
import sqlite3

from ops_pipeline.core.catalog import Table
from ops_pipeline.sources.sql import Query, RelationFacts, positive
from ops_pipeline.sources.sqlite.scan import row_estimates

RELATION = "SELECT type, sql FROM sqlite_schema WHERE name = ? AND type IN ('table', 'view')"
WITHOUT_ROWID = re.compile(r"\bWITHOUT\s+ROWID\b", re.IGNORECASE)
ROWID_PRIME = 2_147_483_647  # 2^31 - 1: (rowid mod P) * A stays below 2^62, so SQLite never overflows to REAL
ROWID_MULTIPLIER = 1_327_217_885  # about P * 0.618: consecutive rowids land far apart modulo P


def describe_relation(query: Query, table: Table) -> RelationFacts | None:
    found = query(RELATION, (table.name,))
    if not found:
        return None
    kind, sql = found[0]
    is_table = kind == "table"
    estimate = row_estimates(lambda statement: query(statement, None)).get(table.name) if is_table else None
    return RelationFacts(
        estimate=positive(estimate),
        samplable=is_table and not WITHOUT_ROWID.search(sql or ""),
        orderable=frozenset(c.name for c in table.columns if not _unordered(c.data_type)),
    )


def sample_clause(*, rows: int, sample_rows: int, seed: int) -> tuple[str, str]:
    stride = math.ceil(rows / sample_rows)
    return f"WHERE {_rowid_hash(seed)} % {stride} = 0", f"rowid modulo {stride} (hashed, seed {seed})"


def value_text(quoted: str, data_type: str) -> str:
    if "blob" in data_type.lower():
        return f"CASE WHEN {quoted} IS NOT NULL THEN hex({quoted}) END"  # hex(NULL) is ''
    return f"CAST({quoted} AS TEXT)"


def lenient_cursor(connection: sqlite3.Connection) -> sqlite3.Cursor:
    """A cursor that reads text holding any bytes, as SQLite text may."""
    connection.text_factory = _lenient_text
    return connection.cursor()


def _lenient_text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def _unordered(data_type: str) -> bool:
    lowered = data_type.lower()
    return any(word in lowered for word in ("blob", "bool", "json"))


def _rowid_hash(seed: int) -> str:
    p, a = ROWID_PRIME, ROWID_MULTIPLIER
    return f"((((rowid % {p}) + {p}) % {p}) * {a} + {seed % p}) % {p}"
