"""JSON Schema (draft 2020-12) of one record of a model's table.

A ``decimal`` is a JSON *string* holding the plain decimal text, checked by a pattern derived from the
precision and scale (``numeric(12,2)``: at most 10 integer digits, at most 2 fraction digits, no
exponent), with ``x-precision``/``x-scale`` annotations. JSON numbers are read as binary floats by most
parsers and ``multipleOf: 0.01`` is unreliable with floats, so a string is the only lossless choice.
Consequently range bounds on a decimal field are enforced by a pattern when the bound is 0 (``> 0``,
``>= 0``, ``< 0``, ``<= 0``); any other decimal bound is recorded exactly as ``x-minimum``,
``x-exclusiveMinimum``, ``x-maximum``, ``x-exclusiveMaximum`` (decimal strings) and enforced in PURE.

Timestamps without a time zone are not RFC 3339 ``date-time`` values (those need an offset), so they
get a pattern (``YYYY-MM-DD[T ]hh:mm:ss[.fraction]``) instead of ``format``; the same holds for times.
JSON Schema property keys are the *column* names (the shape of a record read from the table);
``x-pureProperty`` names the PURE property and ``x-sqlType`` keeps the type as reported.
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any, Final

from ops_pipeline.core.models.model import DataModel, Property
from ops_pipeline.core.models.types import ModelType

JSON_SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"


def _decimal_pattern(t: ModelType) -> str:
    """Plain decimal text (no exponent, no leading zeros) with at most ``precision - scale`` integer digits
    and at most ``scale`` fraction digits; no minus sign when unsigned."""
    sign = "" if t.unsigned else "-?"
    if t.precision is None:
        return f"^{sign}(0|[1-9][0-9]*)(\\.[0-9]+)?$"
    scale = t.scale or 0
    integer_digits = t.precision - scale
    if integer_digits <= 0:
        whole = "0"
    elif integer_digits == 1:
        whole = "[0-9]"
    else:
        whole = f"(0|[1-9][0-9]{{0,{integer_digits - 1}}})"
    fraction = f"(\\.[0-9]{{1,{scale}}})?" if scale > 0 else ""
    return f"^{sign}{whole}{fraction}$"


def _fraction(precision: int | None) -> str:
    if precision is None:
        return "(\\.[0-9]+)?"
    return f"(\\.[0-9]{{1,{precision}}})?" if precision > 0 else ""


_DATE_RE_TEXT: Final = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
_TIME_RE_TEXT: Final = "[0-9]{2}:[0-9]{2}:[0-9]{2}"


def type_schema(t: ModelType) -> dict[str, Any]:
    """JSON Schema of a non-null value of type ``t``."""
    schema: dict[str, Any]
    if t.kind == "integer":
        schema = {"type": "integer"}
        if t.bits:
            low = 0 if t.unsigned else -(2 ** (t.bits - 1))
            high = 2**t.bits - 1 if t.unsigned else 2 ** (t.bits - 1) - 1
            schema.update(minimum=low, maximum=high)
        elif t.unsigned:
            schema["minimum"] = 0
    elif t.kind == "decimal":
        schema = {"type": "string", "pattern": _decimal_pattern(t)}
        if t.precision is not None:
            schema.update({"x-precision": t.precision, "x-scale": t.scale or 0})
    elif t.kind == "float":
        schema = {"type": "number"}
        if t.bits:
            schema["format"] = "float" if t.bits == 32 else "double"
        if t.unsigned:
            schema["minimum"] = 0
    elif t.kind == "string":
        schema = {"type": "string"}
        if t.max_length is not None:
            schema["maxLength"] = t.max_length
    elif t.kind == "date":
        schema = {"type": "string", "format": "date"}
    elif t.kind == "datetime":
        if t.timezone:
            schema = {"type": "string", "format": "date-time"}
            if t.precision is not None:
                schema["x-precision"] = t.precision
        else:
            pattern = f"^{_DATE_RE_TEXT}[T ]{_TIME_RE_TEXT}{_fraction(t.precision)}$"
            schema = {"type": "string", "pattern": pattern}
    elif t.kind == "time":
        if t.timezone:
            schema = {"type": "string", "format": "time"}
            if t.precision is not None:
                schema["x-precision"] = t.precision
        else:
            schema = {"type": "string", "pattern": f"^{_TIME_RE_TEXT}{_fraction(t.precision)}$"}
    elif t.kind == "boolean":
        schema = {"type": "boolean"}
    elif t.kind == "json":
        schema = {}
    elif t.kind == "uuid":
        schema = {"type": "string", "format": "uuid"}
    elif t.kind == "binary":
        schema = {"type": "string", "contentEncoding": "base64"}
        if t.max_length is not None:
            schema.update({"maxLength": 4 * math.ceil(t.max_length / 3), "x-maxBytes": t.max_length})
    elif t.kind == "array":
        schema = {"type": "array", "items": type_schema(t.item if t.item is not None else ModelType("string"))}
    elif t.kind == "enum":
        schema = {"type": "string", "enum": list(t.values)}
    else:  # pragma: no cover - every kind is handled above
        schema = {}
    if t.note:
        schema["$comment"] = t.note
    return schema


def _property_schema(prop: Property) -> dict[str, Any]:
    schema = type_schema(prop.type)
    if not prop.required:
        if isinstance(schema.get("type"), str):
            schema["type"] = [schema["type"], "null"]
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
    if prop.description:
        schema["description"] = prop.description
    schema["x-pureProperty"] = prop.name
    schema["x-sqlType"] = prop.sql_type
    return schema


_TIGHTEN_UP: Final = frozenset({"minimum", "exclusiveMinimum", "minLength", "minItems"})
_TIGHTEN_DOWN: Final = frozenset({"maximum", "exclusiveMaximum", "maxLength", "maxItems"})


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def merge_keyword(target: dict[str, Any], key: str, value: Any) -> None:
    """Add one keyword to a schema so that both the old and the new condition hold."""
    if key not in target:
        target[key] = copy.deepcopy(value)
        return
    current = target[key]
    if _same(current, value):
        return
    if key == "type":
        have = current if isinstance(current, list) else [current]
        want = value if isinstance(value, list) else [value]
        kept = [t for t in have if t in want]
        target[key] = kept[0] if len(kept) == 1 else kept
    elif key in _TIGHTEN_UP:
        target[key] = max(current, value)
    elif key in _TIGHTEN_DOWN:
        target[key] = min(current, value)
    elif key == "enum":
        target[key] = [v for v in current if any(_same(v, w) for w in value)]
    else:
        target.setdefault("allOf", []).append({key: copy.deepcopy(value)})


def to_json_schema(model: DataModel) -> dict[str, Any]:
    """A draft 2020-12 JSON Schema for one record of the table (see the module docs for the mappings)."""
    properties = {p.column: _property_schema(p) for p in model.properties}
    required = {p.column for p in model.properties if p.required}
    comments: list[str] = []
    schema: dict[str, Any] = {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": f"urn:ops-pipeline:model:{model.path}",
        "title": model.name,
        "type": "object",
        "properties": properties,
        "x-class": model.path,
        "x-primaryKey": list(model.primary_key),
        "x-source": model.source,
        "x-table": model.table,
    }
    if model.description:
        schema["description"] = model.description
    for c in model.constraints:
        for key, value in c.json_schema.items():
            if key == "required":
                required.update(value)
            elif key == "properties":
                for column, fragment in value.items():
                    for keyword, sub in fragment.items():
                        merge_keyword(properties[column], keyword, sub)
            elif key == "$comment":
                comments.append(value)
            else:
                merge_keyword(schema, key, value)
    schema["required"] = [p.column for p in model.properties if p.column in required]
    if comments:
        schema["$comment"] = "\n".join(comments)
    schema["x-constraints"] = [
        {
            "name": c.name,
            "label": c.label,
            "field": c.field,
            "origin": c.origin,
            "expression": c.expression,
            "description": c.description,
        }
        for c in model.constraints
    ]
    return schema


def json_schema_text(model: DataModel) -> str:
    """`to_json_schema` as deterministic text: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(to_json_schema(model), indent=2, sort_keys=True) + "\n"
