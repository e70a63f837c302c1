"""What a schema scan finds: tables (or key patterns), their columns, keys and indexes.

Plain frozen dataclasses so scanners, drift detection, the store and the Dagster layer share one shape.
Each object turns into a JSON-ready dict and back, which is how the ops store keeps a table.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

TableKind = Literal["table", "view", "materialized_view", "foreign_table", "key_pattern"]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    data_type: str
    nullable: bool = True
    default: str | None = None
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class ForeignKey:
    name: str
    columns: tuple[str, ...]
    target_schema: str
    target_table: str
    target_columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UniqueConstraint:
    name: str
    columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Index:
    name: str
    columns: tuple[str, ...]
    unique: bool = False


@dataclass(frozen=True, slots=True)
class Table:
    schema: str
    name: str
    kind: TableKind = "table"
    columns: tuple[Column, ...] = ()
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    unique_constraints: tuple[UniqueConstraint, ...] = ()
    indexes: tuple[Index, ...] = ()
    row_count: int | None = None
    row_count_exact: bool = False
    comment: str | None = None
    entity_name: str | None = None

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    def definition(self) -> dict[str, Any]:
        """The table's shape as JSON-ready data: everything a scan finds except its per-scan values
        (row count, entity name), so an unchanged table has the same definition scan after scan."""
        return {
            "schema": self.schema,
            "name": self.name,
            "kind": self.kind,
            "comment": self.comment,
            "columns": [[c.name, c.data_type, c.nullable, c.default, c.comment] for c in self.columns],
            "primary_key": list(self.primary_key),
            "foreign_keys": [
                [fk.name, list(fk.columns), fk.target_schema, fk.target_table, list(fk.target_columns)]
                for fk in self.foreign_keys
            ],
            "unique_constraints": [[u.name, list(u.columns)] for u in self.unique_constraints],
            "indexes": [[i.name, list(i.columns), i.unique] for i in self.indexes],
        }

    @classmethod
    def from_definition(
        cls,
        data: dict[str, Any],
        *,
        row_count: int | None = None,
        row_count_exact: bool = False,
        entity_name: str | None = None,
    ) -> Table:
        return cls(
            schema=data["schema"],
            name=data["name"],
            kind=data["kind"],
            comment=data["comment"],
            columns=tuple(Column(*c) for c in data["columns"]),
            primary_key=tuple(data["primary_key"]),
            foreign_keys=tuple(
                ForeignKey(name, tuple(cols), target_schema, target_table, tuple(target_cols))
                for name, cols, target_schema, target_table, target_cols in data["foreign_keys"]
            ),
            unique_constraints=tuple(UniqueConstraint(name, tuple(cols)) for name, cols in data["unique_constraints"]),
            indexes=tuple(Index(name, tuple(cols), unique) for name, cols, unique in data["indexes"]),
            row_count=row_count,
            row_count_exact=row_count_exact,
            entity_name=entity_name,
        )


def definition_json(definition: dict[str, Any]) -> str:
    return json.dumps(definition, separators=(",", ":"), ensure_ascii=False)


def definition_hash(encoded: str) -> str:
    """Content address of a table definition: equal hashes mean no schema difference between two scans."""
    return hashlib.sha1(encoded.encode("utf-8"), usedforsecurity=False).hexdigest()


@dataclass(frozen=True, slots=True)
class Catalog:
    """One complete scan of one source."""

    source: str
    source_type: str
    server_version: str | None = None
    tables: tuple[Table, ...] = field(default_factory=tuple)

    @property
    def schemas(self) -> list[str]:
        return sorted({t.schema for t in self.tables})

    @property
    def column_count(self) -> int:
        return sum(len(t.columns) for t in self.tables)

    def table(self, qualified_name: str) -> Table | None:
        return next((t for t in self.tables if t.qualified_name == qualified_name), None)
