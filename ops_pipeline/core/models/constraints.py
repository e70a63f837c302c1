r"""Constraints of a model: requested in configuration (`ConstraintSpec`), predefined, or from the table.

Three sources, merged and de-duplicated by (name, expression with whitespace collapsed):

* ``model``: every NOT NULL column (arrays excepted: ``[*]`` cannot say "not null but maybe empty")
  gives ``notNull`` on that column;
* ``predefined``: ``qtyPositive`` (field > 0), ``validTicker`` (``^[A-Z]{1,5}(\.[A-Z]{1,2})?$``) and
  ``notNull`` (required and non-null), requested with a `ConstraintSpec` of kind ``predefined``;
* ``config``: `ConstraintSpec` of kind ``range``, ``pattern``, ``not_null``, ``one_of`` (rendered into
  both outputs) or ``expression`` (a raw PURE expression; in JSON Schema only a ``$comment``).

When duplicates meet, the first origin in the order model, predefined, config wins. The result is
ordered by (origin, name, column position, expression). A constraint's PURE label is its name when no
other constraint has that name, else ``<name>_<property>``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from ops_pipeline.core.models.constraint_spec import (
    NOT_NULL,
    PREDEFINED_CONSTRAINTS,
    QTY_POSITIVE,
    TICKER_PATTERN,
    VALID_TICKER,
    ConstraintSpec,
)
from ops_pipeline.core.models.json_schema import merge_keyword, type_schema
from ops_pipeline.core.models.model import Constraint, DraftModel, EnumType, Origin, Property
from ops_pipeline.core.models.naming import unique_name
from ops_pipeline.core.models.pure import pure_string

_ORIGIN_RANK: Final[dict[str, int]] = {"model": 0, "predefined": 1, "config": 2}


_NUMERIC_KINDS: Final = frozenset({"integer", "decimal", "float"})
_PURE_STRING_KINDS: Final = frozenset({"string", "json", "uuid", "binary"})


# ========================================================================================================
# Constraint rendering
# ========================================================================================================


def _decimal_text(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _pure_number(value: Decimal, kind: str) -> str:
    text = _decimal_text(value)
    if value == value.to_integral_value():
        return text
    return text + "D" if kind == "decimal" else text


def _pure_float(value: float) -> str:
    text = _decimal_text(Decimal(repr(value)))
    return text if "." in text else text + ".0"


def _guarded(prop: Property, body: Callable[[str], str]) -> str:
    """``body`` over ``$this.<prop>``; an optional property passes when empty."""
    this = f"$this.{prop.name}"
    if prop.required:
        return body(this)
    return f"{this}->isEmpty() || ({body(this + '->toOne()')})"


def _base_json_type(prop: Property) -> str | None:
    schema_type = type_schema(prop.type).get("type")
    return schema_type if isinstance(schema_type, str) else None


def _fragment(column: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"properties": {column: schema}}


def _not_null(prop: Property, name: str, origin: Origin, description: str | None) -> Constraint:
    if prop.type.kind == "array":
        raise ValueError(f"constraint {name!r}: field {prop.column!r} is an array; PURE [*] cannot express not-null")
    json_type = _base_json_type(prop)
    schema: dict[str, Any] = {"type": json_type} if json_type else {"not": {"type": "null"}}
    return Constraint(
        name=name,
        expression=f"$this.{prop.name}->isNotEmpty()",
        json_schema={"required": [prop.column], **_fragment(prop.column, schema)},
        description=description or f"{prop.column} must not be null",
        origin=origin,
        field=prop.column,
    )


_ZERO_PATTERNS: Final[dict[tuple[str, bool], str]] = {
    ("min", True): r"^(?!-)(?![0.]*$)",  # > 0
    ("min", False): r"^(?!-(?![0.]*$))",  # >= 0
    ("max", True): r"^-(?![0.]*$)",  # < 0
    ("max", False): r"^(?:-|[0.]*$)",  # <= 0
}


def _range(
    prop: Property,
    name: str,
    origin: Origin,
    description: str | None,
    low: Decimal | None,
    low_exclusive: bool,
    high: Decimal | None,
    high_exclusive: bool,
) -> Constraint:
    kind = prop.type.kind
    if kind not in _NUMERIC_KINDS:
        raise ValueError(f"constraint {name!r}: field {prop.column!r} is {kind}, not a number")
    bounds = [
        (side, value, exclusive)
        for side, value, exclusive in (("min", low, low_exclusive), ("max", high, high_exclusive))
        if value is not None
    ]
    ops = {("min", True): ">", ("min", False): ">=", ("max", True): "<", ("max", False): "<="}
    comparisons = [f"{ops[(side, exclusive)]} {_pure_number(value, kind)}" for side, value, exclusive in bounds]

    def body(this: str) -> str:
        if len(comparisons) == 1:
            return f"{this} {comparisons[0]}"
        return " && ".join(f"({this} {c})" for c in comparisons)

    schema: dict[str, Any] = {}
    texts: list[str] = []
    for side, value, exclusive in bounds:
        keyword = ("exclusive" + side.capitalize() + "imum") if exclusive else (side + "imum")
        texts.append(f"{ops[(side, exclusive)]} {_decimal_text(value)}")
        if kind != "decimal":
            merge_keyword(schema, keyword, _json_number(value))
        elif value == 0:
            merge_keyword(schema, "pattern", _ZERO_PATTERNS[(side, exclusive)])
        else:
            schema["x-" + keyword] = _decimal_text(value)
            schema["$comment"] = "exact decimal bounds (x-minimum, x-maximum, ...) are enforced by the PURE model"
    return Constraint(
        name=name,
        expression=_guarded(prop, body),
        json_schema=_fragment(prop.column, schema),
        description=description or f"{prop.column} must be {' and '.join(texts)}",
        origin=origin,
        field=prop.column,
    )


def _pattern(prop: Property, name: str, origin: Origin, description: str | None, pattern: str) -> Constraint:
    if prop.type.kind not in _PURE_STRING_KINDS:
        raise ValueError(f"constraint {name!r}: field {prop.column!r} is {prop.type.kind}, not a string")
    return Constraint(
        name=name,
        expression=_guarded(prop, lambda this: f"{this}->matches({pure_string(pattern)})"),
        json_schema=_fragment(prop.column, {"pattern": pattern}),
        description=description or f"{prop.column} must match {pattern}",
        origin=origin,
        field=prop.column,
    )


def _one_of(
    prop: Property,
    name: str,
    origin: Origin,
    description: str | None,
    values: Sequence[bool | int | float | str],
    package: str,
    enums: Mapping[str, EnumType],
) -> Constraint:
    kind = prop.type.kind

    def wrong(what: str) -> ValueError:
        return ValueError(f"constraint {name!r}: field {prop.column!r} ({kind}) {what}")

    literals: list[str] = []
    if kind == "enum":
        enum = enums[prop.enum or ""]
        for value in values:
            if not isinstance(value, str) or value not in enum.values:
                raise wrong(f"has no value {value!r}")
            literals.append(f"{package}::{enum.name}.{enum.identifiers[enum.values.index(value)]}")
    elif kind in _PURE_STRING_KINDS:
        if not all(isinstance(v, str) for v in values):
            raise wrong("takes only string values")
        literals = [pure_string(str(v)) for v in values]
    elif kind == "integer":
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise wrong("takes only integer values")
        literals = [str(v) for v in values]
    elif kind == "float":
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            raise wrong("takes only numbers")
        literals = [_pure_float(float(v)) for v in values]
    elif kind == "boolean":
        if not all(isinstance(v, bool) for v in values):
            raise wrong("takes only true/false")
        literals = ["true" if v else "false" for v in values]
    else:
        raise wrong("cannot take a one_of constraint (use range for numbers)")
    json_values: list[Any] = list(values) + ([] if prop.required else [None])
    if kind == "float":
        json_values = [float(v) if v is not None else None for v in json_values]
    shown = ", ".join(json.dumps(v) for v in values)
    return Constraint(
        name=name,
        expression=_guarded(prop, lambda this: f"{this}->in([{', '.join(literals)}])"),
        json_schema=_fragment(prop.column, {"enum": json_values}),
        description=description or f"{prop.column} must be one of {shown}",
        origin=origin,
        field=prop.column,
    )


def qty_positive(prop: Property, *, origin: Origin = "predefined", description: str | None = None) -> Constraint:
    """``qtyPositive``: the (numeric) field is greater than 0."""
    return _range(prop, QTY_POSITIVE, origin, description, Decimal(0), True, None, False)


def valid_ticker(prop: Property, *, origin: Origin = "predefined", description: str | None = None) -> Constraint:
    """``validTicker``: the (string) field is a ticker symbol, 1-5 capitals with an optional ``.XX`` class."""
    text = description or f"{prop.column} must be a ticker symbol (1-5 capital letters, optional .XX suffix)"
    return _pattern(prop, VALID_TICKER, origin, text, TICKER_PATTERN)


def not_null(prop: Property, *, origin: Origin = "predefined", description: str | None = None) -> Constraint:
    """``notNull``: the field is present and not null."""
    return _not_null(prop, NOT_NULL, origin, description)


_PREDEFINED: Final[dict[str, Callable[..., Constraint]]] = {
    NOT_NULL: not_null,
    QTY_POSITIVE: qty_positive,
    VALID_TICKER: valid_ticker,
}


def predefined_constraint(name: str, prop: Property, *, origin: Origin = "predefined") -> Constraint:
    """One of `PREDEFINED_CONSTRAINTS` applied to ``prop``."""
    if name not in _PREDEFINED:
        raise ValueError(f"unknown predefined constraint {name!r}; expected one of {', '.join(PREDEFINED_CONSTRAINTS)}")
    return _PREDEFINED[name](prop, origin=origin)


def from_spec(spec: ConstraintSpec, model: DraftModel) -> Constraint:
    prop: Property | None = None
    if spec.field is not None:
        prop = model.find(spec.field)
        if prop is None:
            raise ValueError(f"constraint {spec.name!r}: unknown field {spec.field!r} in table {model.table}")
    if spec.kind == "expression":
        expression = (spec.pure_expression or "").strip()
        return Constraint(
            name=spec.name,
            expression=expression,
            json_schema={"$comment": f"{spec.name}: enforced by the PURE model only: {expression}"},
            description=spec.description or f"PURE expression {expression}",
            origin="config",
            field=prop.column if prop else None,
        )
    if prop is None:  # ConstraintSpec validation requires a field for every other kind
        raise ValueError(f"constraint {spec.name!r}: kind {spec.kind!r} needs a field")
    if prop.type.kind == "array":
        raise ValueError(
            f"constraint {spec.name!r}: field {prop.column!r} is an array; array constraints are not supported"
        )
    if spec.kind == "predefined":
        return _PREDEFINED[spec.name](prop, origin="predefined", description=spec.description)
    if spec.kind == "range":
        return _range(
            prop, spec.name, "config", spec.description, spec.min, spec.exclusive_min, spec.max, spec.exclusive_max
        )
    if spec.kind == "pattern":
        return _pattern(prop, spec.name, "config", spec.description, spec.pattern or "")
    if spec.kind == "not_null":
        return _not_null(prop, spec.name, "config", spec.description)
    return _one_of(prop, spec.name, "config", spec.description, spec.values or (), model.package, model.enums)


def normalized_expression(expression: str) -> str:
    return " ".join(expression.split())


def merge_constraints(candidates: Sequence[Constraint], properties: Sequence[Property]) -> tuple[Constraint, ...]:
    position = {p.column: i for i, p in enumerate(properties)}
    chosen: dict[tuple[str, str], Constraint] = {}
    for c in candidates:
        key = (c.name, normalized_expression(c.expression))
        current = chosen.get(key)
        rank = (_ORIGIN_RANK[c.origin], c.description, json.dumps(c.json_schema, sort_keys=True))
        if current is None or rank < (
            _ORIGIN_RANK[current.origin],
            current.description,
            json.dumps(current.json_schema, sort_keys=True),
        ):
            chosen[key] = c
    ordered = sorted(
        chosen.values(),
        key=lambda c: (
            _ORIGIN_RANK[c.origin],
            c.name,
            position.get(c.field, len(position)) if c.field is not None else len(position),
            normalized_expression(c.expression),
        ),
    )
    by_column = {p.column: p for p in properties}
    counts: dict[str, int] = {}
    for c in ordered:
        counts[c.name] = counts.get(c.name, 0) + 1
    taken: set[str] = set()
    result: list[Constraint] = []
    for c in ordered:
        label = c.name
        if counts[c.name] > 1 and c.field is not None:
            label = f"{c.name}_{by_column[c.field].name}"
        result.append(_replace_label(c, unique_name(label, taken)))
    return tuple(result)


def _replace_label(c: Constraint, label: str) -> Constraint:
    return Constraint(c.name, c.expression, c.json_schema, c.description, c.origin, c.field, label)
