"""What a schema scan finds: tables (or key patterns), their columns, keys and indexes.

Plain frozen dataclasses so scanners, drift detection, the store and the Dagster layer share one shape.
Each object turns into a JSON-ready dict and back, which is how the ops store keeps a table.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

TableKind = Literal["table", "view", "materialized_view", "foreign_table", "key_pattern"]


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    nullable: bool = True
    default: str | None = None
    comment: str | None = None


@dataclass(frozen=True)
class ForeignKey:
    name: str
    columns: tuple[str, ...]
    target_schema: str
    target_table: str
    target_columns: tuple[str, ...]


@dataclass(frozen=True)
class UniqueConstraint:
    name: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Index:
    name: str
    columns: tuple[str, ...]
    unique: bool = False


@dataclass(frozen=True)
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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Table:
        return cls(
            schema=data["schema"],
            name=data["name"],
            kind=data.get("kind", "table"),
            columns=tuple(Column(**c) for c in data.get("columns", ())),
            primary_key=tuple(data.get("primary_key", ())),
            foreign_keys=tuple(
                ForeignKey(
                    name=fk["name"],
                    columns=tuple(fk["columns"]),
                    target_schema=fk["target_schema"],
                    target_table=fk["target_table"],
                    target_columns=tuple(fk["target_columns"]),
                )
                for fk in data.get("foreign_keys", ())
            ),
            unique_constraints=tuple(
                UniqueConstraint(name=u["name"], columns=tuple(u["columns"]))
                for u in data.get("unique_constraints", ())
            ),
            indexes=tuple(
                Index(name=i["name"], columns=tuple(i["columns"]), unique=i.get("unique", False))
                for i in data.get("indexes", ())
            ),
            row_count=data.get("row_count"),
            row_count_exact=data.get("row_count_exact", False),
            comment=data.get("comment"),
            entity_name=data.get("entity_name"),
        )


@dataclass(frozen=True)
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
