"""How PostgreSQL spells types: its rules for reading `format_type` spellings into model types, and the column
type it gives a model type when it is a backfill's destination."""

from __future__ import annotations

from ops_pipeline.core.models import ModelType, TypeRules

TYPE_RULES = TypeRules(label="postgresql", bit_string=True)

SIMPLE_TYPES = {
    "float": "double precision",
    "date": "date",
    "time": "time",
    "boolean": "boolean",
    "uuid": "uuid",
    "binary": "bytea",
}


def destination_type(model: ModelType) -> str:
    """The narrowest PostgreSQL type that holds every value of `model`, keeping precision and length."""
    kind = model.kind
    if kind == "integer":
        return {16: "smallint", 32: "integer"}.get(model.bits or 64, "bigint") if not model.unsigned else "bigint"
    if kind == "decimal":
        return f"numeric({model.precision},{model.scale or 0})" if model.precision else "numeric"
    if kind in SIMPLE_TYPES:
        return SIMPLE_TYPES[kind]
    if kind == "datetime":
        return "timestamp with time zone" if model.timezone else "timestamp"
    if kind == "string" and model.max_length:
        return f"varchar({model.max_length})"
    return "text"  # strings without a length, JSON (kept as its text), arrays, enums
