"""What a schema scan finds: tables (or key patterns), their columns, keys, checks, indexes and partitions, the
view definitions, and the user-defined types (enums, domains) of the source.

Plain frozen dataclasses so scanners, drift detection, the store and the Dagster layer share one shape.
Each object turns into a JSON-ready dict and back, which is how the ops store keeps a table. A definition
written before the catalog recorded checks, actions, identity, collation, index methods, view definitions and
partitions (format 1) reads back with `detail == 1`, and drift does not compare what it never recorded.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

TableKind = Literal["table", "view", "materialized_view", "foreign_table", "key_pattern"]
UserTypeKind = Literal["enum", "domain"]

DETAIL = 2  # the definition format this code writes; 1 is the format before checks, actions, identity, ...
NO_ACTION = "NO ACTION"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    data_type: str
    nullable: bool = True
    default: str | None = None
    comment: str | None = None
    # How the database fills the column by itself: "always"/"by default" (identity), "serial", "auto_increment",
    # "autoincrement" (SQLite's keyword), "rowid" (SQLite's INTEGER PRIMARY KEY); None when it does not.
    identity: str | None = None
    collation: str | None = None  # set only where it differs from what the column would get by default
    on_update: str | None = None  # MySQL's ON UPDATE CURRENT_TIMESTAMP


@dataclass(frozen=True, slots=True)
class ForeignKey:
    name: str
    columns: tuple[str, ...]
    target_schema: str
    target_table: str
    target_columns: tuple[str, ...]
    on_delete: str = NO_ACTION
    on_update: str = NO_ACTION


@dataclass(frozen=True, slots=True)
class CheckConstraint:
    name: str
    expression: str  # as the server prints it back


@dataclass(frozen=True, slots=True)
class Exclusion:
    """A PostgreSQL EXCLUDE constraint."""

    name: str
    definition: str


@dataclass(frozen=True, slots=True)
class Partition:
    name: str  # schema-qualified where the database has schemas for partitions (PostgreSQL)
    bound: str  # "FOR VALUES FROM (...) TO (...)", "VALUES LESS THAN (...)", ...


@dataclass(frozen=True, slots=True)
class UniqueConstraint:
    name: str
    columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Index:
    name: str
    columns: tuple[str, ...]
    unique: bool = False
    method: str | None = None  # btree, hash, gin, gist, brin, fulltext, spatial; None where there is one kind
    predicate: str | None = None  # a partial index's WHERE


@dataclass(frozen=True, slots=True)
class UserType:
    """A type the source defines: an enum with its labels in order, or a domain over a base type."""

    schema: str
    name: str
    kind: UserTypeKind
    labels: tuple[str, ...] = ()
    base_type: str | None = None
    not_null: bool = False
    default: str | None = None
    checks: tuple[CheckConstraint, ...] = ()

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name

    def definition(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "name": self.name,
            "kind": self.kind,
            "labels": list(self.labels),
            "base_type": self.base_type,
            "not_null": self.not_null,
            "default": self.default,
            "checks": [[c.name, c.expression] for c in self.checks],
        }

    @classmethod
    def from_definition(cls, data: dict[str, Any]) -> UserType:
        return cls(
            schema=data["schema"],
            name=data["name"],
            kind=data["kind"],
            labels=tuple(data["labels"]),
            base_type=data["base_type"],
            not_null=data["not_null"],
            default=data["default"],
            checks=tuple(CheckConstraint(n, e) for n, e in data["checks"]),
        )


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
    checks: tuple[CheckConstraint, ...] = ()
    exclusions: tuple[Exclusion, ...] = ()
    view_definition: str | None = None
    partition_key: str | None = None  # "RANGE (payment_date)" on a partitioned table
    partitions: tuple[Partition, ...] = ()
    entity_rule: str | None = None  # the resolver rule that decided entity_name (None: no rule matched)
    entity_confidence: float | None = None
    detail: int = DETAIL

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
            "columns": [
                [c.name, c.data_type, c.nullable, c.default, c.comment, c.identity, c.collation, c.on_update]
                for c in self.columns
            ],
            "primary_key": list(self.primary_key),
            "foreign_keys": [
                [
                    fk.name,
                    list(fk.columns),
                    fk.target_schema,
                    fk.target_table,
                    list(fk.target_columns),
                    fk.on_delete,
                    fk.on_update,
                ]
                for fk in self.foreign_keys
            ],
            "unique_constraints": [[u.name, list(u.columns)] for u in self.unique_constraints],
            "indexes": [[i.name, list(i.columns), i.unique, i.method, i.predicate] for i in self.indexes],
            "detail": self.detail,
            "checks": [[c.name, c.expression] for c in self.checks],
            "exclusions": [[x.name, x.definition] for x in self.exclusions],
            "view_definition": self.view_definition,
            "partition_key": self.partition_key,
            "partitions": [[p.name, p.bound] for p in self.partitions],
        }

    @classmethod
    def from_definition(
        cls,
        data: dict[str, Any],
        *,
        row_count: int | None = None,
        row_count_exact: bool = False,
        entity_name: str | None = None,
        entity_rule: str | None = None,
        entity_confidence: float | None = None,
    ) -> Table:
        # Format-1 definitions have shorter rows and none of the later keys; the dataclass defaults fill them.
        return cls(
            schema=data["schema"],
            name=data["name"],
            kind=data["kind"],
            comment=data["comment"],
            columns=tuple(Column(*c) for c in data["columns"]),
            primary_key=tuple(data["primary_key"]),
            foreign_keys=tuple(
                ForeignKey(name, tuple(cols), target_schema, target_table, tuple(target_cols), *actions)
                for name, cols, target_schema, target_table, target_cols, *actions in data["foreign_keys"]
            ),
            unique_constraints=tuple(UniqueConstraint(name, tuple(cols)) for name, cols in data["unique_constraints"]),
            indexes=tuple(Index(name, tuple(cols), *rest) for name, cols, *rest in data["indexes"]),
            row_count=row_count,
            row_count_exact=row_count_exact,
            entity_name=entity_name,
            entity_rule=entity_rule,
            entity_confidence=entity_confidence,
            checks=tuple(CheckConstraint(n, e) for n, e in data.get("checks", ())),
            exclusions=tuple(Exclusion(n, d) for n, d in data.get("exclusions", ())),
            view_definition=data.get("view_definition"),
            partition_key=data.get("partition_key"),
            partitions=tuple(Partition(n, b) for n, b in data.get("partitions", ())),
            detail=data.get("detail", 1),
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
    # Enums and domains; None where they were not recorded (a source type without them, an older snapshot).
    types: tuple[UserType, ...] | None = None
    notes: tuple[str, ...] = ()  # what the scan left out and why (e.g. an unpopulated materialized view's count)

    @property
    def schemas(self) -> list[str]:
        return sorted({t.schema for t in self.tables})

    @property
    def column_count(self) -> int:
        return sum(len(t.columns) for t in self.tables)

    def table(self, qualified_name: str) -> Table | None:
        return next((t for t in self.tables if t.qualified_name == qualified_name), None)
