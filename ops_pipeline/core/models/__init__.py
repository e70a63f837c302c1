"""Data models generated from a scanned table: SQL types -> model types -> JSON Schema and a Legend PURE class.

Pure domain logic (stdlib + pydantic, no Dagster). The flow is::

    Table --build_model--> DataModel --to_json_schema / json_schema_text--> JSON Schema (draft 2020-12)
                                     --to_pure------------------------------> Legend PURE (Enum blocks + Class)
                                     --model_diff(old, new)-----------------> human-readable change lines

Both outputs are deterministic: the same table, options and constraint specs (in any order) give the
same bytes.

Modules
    `types`: SQL type spellings -> `ModelType` (`TypeRules`, `map_sql_type`, `describe_type`);
    `naming`: PURE identifiers (`pure_identifier`);
    `model`: `Property`, `EnumType`, `Constraint`, `DataModel`;
    `constraint_spec`: `ConstraintSpec`, a constraint as ops.yaml requests it;
    `constraints`: the predefined constraints, rendering, and the merge without duplicates;
    `build`: `build_model`;
    `json_schema`: `to_json_schema`, `json_schema_text`;
    `pure`: `to_pure`, `pure_type`;
    `diff`: `model_diff`.
"""

from __future__ import annotations

from ops_pipeline.core.models.build import build_model
from ops_pipeline.core.models.constraint_spec import PREDEFINED_CONSTRAINTS, TICKER_PATTERN, ConstraintSpec
from ops_pipeline.core.models.constraints import (
    not_null,
    predefined_constraint,
    qty_positive,
    valid_ticker,
)
from ops_pipeline.core.models.diff import model_diff
from ops_pipeline.core.models.json_schema import JSON_SCHEMA_DIALECT, json_schema_text, to_json_schema
from ops_pipeline.core.models.model import Constraint, DataModel, EnumType, Property
from ops_pipeline.core.models.naming import pure_identifier
from ops_pipeline.core.models.pure import pure_type, to_pure
from ops_pipeline.core.models.types import ModelType, TypeRules, describe_type, map_sql_type

__all__ = [
    "JSON_SCHEMA_DIALECT",
    "PREDEFINED_CONSTRAINTS",
    "TICKER_PATTERN",
    "Constraint",
    "ConstraintSpec",
    "DataModel",
    "EnumType",
    "ModelType",
    "Property",
    "TypeRules",
    "build_model",
    "describe_type",
    "json_schema_text",
    "map_sql_type",
    "model_diff",
    "not_null",
    "predefined_constraint",
    "pure_identifier",
    "pure_type",
    "qty_positive",
    "to_json_schema",
    "to_pure",
    "valid_ticker",
]
