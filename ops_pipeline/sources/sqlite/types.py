"""How SQLite spells types: declared types are affinities (lengths and precision kept as the declaration's
intent, INTEGER 64-bit), and the declared type it gives a model type when it is a backfill's destination."""

from __future__ import annotations

from ops_pipeline.core.models import ModelType, TypeRules

TYPE_RULES = TypeRules(
    label="sqlite",
    tinyint1_is_boolean=True,
    integer_bits=64,
    real_bits=64,
    unsigned=False,
    affinity=True,
    untyped_note="no declared type: SQLite accepts any value",
)

DECLARED_TYPES = {
    "integer": "INTEGER",
    "decimal": "NUMERIC",
    "float": "REAL",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "boolean": "BOOLEAN",
    "binary": "BLOB",
}


def destination_type(model: ModelType) -> str:
    if model.kind == "decimal" and model.precision:
        return f"NUMERIC({model.precision},{model.scale or 0})"
    return DECLARED_TYPES.get(model.kind, "TEXT")
