"""The generated model: its properties, enums and constraints, as `build_model` assembles them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ops_pipeline.core.models.types import ModelType

Origin = Literal["predefined", "config", "model"]


@dataclass(frozen=True)
class Property:
    """One column as a model property. ``name`` is the PURE identifier; ``column`` the original column name."""

    name: str
    column: str
    type: ModelType
    required: bool
    description: str | None = None
    sql_type: str = ""
    enum: str | None = None  # simple name of the PURE enum when the type (or its array item) is an enum


@dataclass(frozen=True)
class EnumType:
    """A generated PURE enum. ``identifiers`` are the PURE value names, aligned with ``values``."""

    name: str
    values: tuple[str, ...]
    identifiers: tuple[str, ...]
    source_type: str | None = None


@dataclass(frozen=True)
class Constraint:
    """One constraint of a model, rendered in PURE (``expression``) and JSON Schema (``json_schema``).

    ``json_schema`` is a fragment merged into the schema: ``{"properties": {column: {...}}}``,
    ``{"required": [column]}`` or a ``$comment``. ``field`` is the column it is about, if any; ``label`` is
    the constraint's name in the PURE class (unique within the model).
    """

    name: str
    expression: str
    json_schema: dict[str, Any] = field(hash=False)
    description: str
    origin: Origin
    field: str | None = None
    label: str = ""


@dataclass(frozen=True)
class DataModel:
    name: str
    package: str
    source: str
    table: str
    properties: tuple[Property, ...]
    primary_key: tuple[str, ...]
    constraints: tuple[Constraint, ...]
    enums: tuple[EnumType, ...] = ()
    description: str | None = None
    dialect: str = ""  # the source database's label (`TypeRules.label`), shown in generated headers

    @property
    def path(self) -> str:
        return f"{self.package}::{self.name}"

    def property(self, name_or_column: str) -> Property | None:
        """The property with this column name, else with this PURE name."""
        found = next((p for p in self.properties if p.column == name_or_column), None)
        return found or next((p for p in self.properties if p.name == name_or_column), None)

    def enum(self, name: str) -> EnumType | None:
        return next((e for e in self.enums if e.name == name), None)


@dataclass
class DraftModel:
    """A model being built: what `ConstraintSpec` fields are resolved against."""

    table: str
    package: str
    properties: list[Property]
    enums: dict[str, EnumType]

    def find(self, name: str) -> Property | None:
        found = next((p for p in self.properties if p.column == name), None)
        return found or next((p for p in self.properties if p.name == name), None)
