from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ops_pipeline.core.catalog import Column, Table
from ops_pipeline.core.models import (
    JSON_SCHEMA_DIALECT,
    TICKER_PATTERN,
    ConstraintSpec,
    DataModel,
    ModelType,
    build_model,
    describe_type,
    json_schema_text,
    map_sql_type,
    model_diff,
    pure_identifier,
    to_json_schema,
    to_pure,
)
from ops_pipeline.core.models.types import TypeRules
from ops_pipeline.sources.registry import sql_database_for


def rules(source_type: str) -> TypeRules:
    """The type rules a database declares (core itself names no database)."""
    return sql_database_for(source_type).type_rules


# ------------------------------------------------------------------------------------------------ type mapping

I16 = ModelType("integer", bits=16)
I32 = ModelType("integer", bits=32)
I64 = ModelType("integer", bits=64)
TEXT = ModelType("string")
PG_ENUMS = {"order_status": ["pending", "shipped"], '"Risk Level"': ["low", "high"]}

TYPE_CASES: list[tuple[str, str, ModelType]] = [
    # PostgreSQL (format_type spellings)
    ("postgresql", "smallint", I16),
    ("postgresql", "integer", I32),
    ("postgresql", "bigint", I64),
    ("postgresql", "numeric(12,2)", ModelType("decimal", precision=12, scale=2)),
    ("postgresql", "numeric(5)", ModelType("decimal", precision=5, scale=0)),
    ("postgresql", "numeric", ModelType("decimal")),
    ("postgresql", "real", ModelType("float", bits=32)),
    ("postgresql", "double precision", ModelType("float", bits=64)),
    ("postgresql", "character varying(120)", ModelType("string", max_length=120)),
    ("postgresql", "character varying", TEXT),
    ("postgresql", "character(10)", ModelType("string", max_length=10)),
    ("postgresql", '"char"', ModelType("string", max_length=1)),
    ("postgresql", "text", TEXT),
    ("postgresql", "boolean", ModelType("boolean")),
    ("postgresql", "date", ModelType("date")),
    ("postgresql", "timestamp without time zone", ModelType("datetime")),
    ("postgresql", "timestamp(3) without time zone", ModelType("datetime", precision=3)),
    ("postgresql", "timestamp with time zone", ModelType("datetime", timezone=True)),
    ("postgresql", "timestamp(6) with time zone", ModelType("datetime", precision=6, timezone=True)),
    ("postgresql", "time without time zone", ModelType("time")),
    ("postgresql", "time(3) with time zone", ModelType("time", precision=3, timezone=True)),
    ("postgresql", "uuid", ModelType("uuid")),
    ("postgresql", "json", ModelType("json")),
    ("postgresql", "jsonb", ModelType("json")),
    ("postgresql", "bytea", ModelType("binary")),
    ("postgresql", "integer[]", ModelType("array", item=I32)),
    ("postgresql", "text[]", ModelType("array", item=TEXT)),
    ("postgresql", "character varying(20)[]", ModelType("array", item=ModelType("string", max_length=20))),
    ("postgresql", "numeric(10,2)[]", ModelType("array", item=ModelType("decimal", precision=10, scale=2))),
    ("postgresql", "order_status", ModelType("enum", values=("pending", "shipped"), name="order_status")),
    ("postgresql", "sales.order_status", ModelType("enum", values=("pending", "shipped"), name="order_status")),
    (
        "postgresql",
        "order_status[]",
        ModelType("array", item=ModelType("enum", values=("pending", "shipped"), name="order_status")),
    ),
    ("postgresql", '"Risk Level"', ModelType("enum", values=("low", "high"), name='"Risk Level"')),
    ("postgresql", "oid", ModelType("integer", bits=32, unsigned=True)),
    ("postgresql", "bit(8)", ModelType("string", max_length=8, note="bit string of 0 and 1")),
    ("postgresql", "interval", ModelType("string", note="interval in the database's text form")),
    # MySQL (COLUMN_TYPE spellings)
    ("mysql", "int(11)", I32),
    ("mysql", "int", I32),
    ("mysql", "int(10) unsigned", ModelType("integer", bits=32, unsigned=True)),
    ("mysql", "int(10) unsigned zerofill", ModelType("integer", bits=32, unsigned=True)),
    ("mysql", "bigint unsigned", ModelType("integer", bits=64, unsigned=True)),
    ("mysql", "bigint(20) unsigned", ModelType("integer", bits=64, unsigned=True)),
    ("mysql", "mediumint(8) unsigned", ModelType("integer", bits=24, unsigned=True)),
    ("mysql", "smallint(6)", I16),
    ("mysql", "tinyint(4)", ModelType("integer", bits=8)),
    ("mysql", "tinyint(1)", ModelType("boolean")),
    ("mysql", "TINYINT( 1 )", ModelType("boolean")),
    ("mysql", "tinyint(1) unsigned", ModelType("integer", bits=8, unsigned=True)),
    ("mysql", "bit(1)", ModelType("boolean")),
    ("mysql", "bit(12)", ModelType("integer", bits=12, unsigned=True)),
    ("mysql", "decimal(10,2)", ModelType("decimal", precision=10, scale=2)),
    ("mysql", "decimal(10,2) unsigned", ModelType("decimal", precision=10, scale=2, unsigned=True)),
    ("mysql", "float", ModelType("float", bits=32)),
    ("mysql", "double", ModelType("float", bits=64)),
    ("mysql", "varchar(50)", ModelType("string", max_length=50)),
    ("mysql", "char(2)", ModelType("string", max_length=2)),
    ("mysql", "longtext", TEXT),
    ("mysql", "blob", ModelType("binary")),
    ("mysql", "varbinary(16)", ModelType("binary", max_length=16)),
    ("mysql", "date", ModelType("date")),
    ("mysql", "datetime", ModelType("datetime", precision=0)),
    ("mysql", "datetime(6)", ModelType("datetime", precision=6)),
    ("mysql", "timestamp(3)", ModelType("datetime", precision=3)),
    ("mysql", "json", ModelType("json")),
    ("mysql", "enum('a','b')", ModelType("enum", values=("a", "b"))),
    ("mysql", "enum('it''s','x,y','(z)')", ModelType("enum", values=("it's", "x,y", "(z)"))),
    (
        "mysql",
        "set('red','green')",
        ModelType(
            "array",
            item=ModelType("enum", values=("red", "green")),
            note="MySQL SET: a comma-separated list of the values in SQL",
        ),
    ),
    # SQLite (declared types)
    ("sqlite", "INTEGER", I64),
    ("sqlite", "INT", I64),
    ("sqlite", "BIGINT", I64),
    ("sqlite", "SMALLINT", I16),
    ("sqlite", "VARCHAR(120)", ModelType("string", max_length=120)),
    ("sqlite", "NVARCHAR(40)", ModelType("string", max_length=40)),
    ("sqlite", "TEXT", TEXT),
    ("sqlite", "NUMERIC(10,2)", ModelType("decimal", precision=10, scale=2)),
    ("sqlite", "DECIMAL(8,3)", ModelType("decimal", precision=8, scale=3)),
    ("sqlite", "NUMERIC", ModelType("decimal")),
    ("sqlite", "REAL", ModelType("float", bits=64)),
    ("sqlite", "DOUBLE", ModelType("float", bits=64)),
    ("sqlite", "BOOLEAN", ModelType("boolean")),
    ("sqlite", "DATE", ModelType("date")),
    ("sqlite", "DATETIME", ModelType("datetime")),
    ("sqlite", "TIMESTAMP", ModelType("datetime")),
    ("sqlite", "BLOB", ModelType("binary")),
    ("sqlite", "JSON", ModelType("json")),
    ("sqlite", "UNSIGNED BIG INT", I64),  # affinity rule: contains INT
    ("sqlite", "NATIVE CHARACTER(70)", ModelType("string", max_length=70)),  # affinity rule: contains CHAR
    ("sqlite", "", ModelType("string", note="no declared type: SQLite accepts any value")),
]


@pytest.mark.parametrize(("dialect", "data_type", "expected"), TYPE_CASES, ids=[f"{d}:{t}" for d, t, _ in TYPE_CASES])
def test_map_sql_type(dialect, data_type, expected):
    assert map_sql_type(data_type, rules(dialect), PG_ENUMS) == expected


@pytest.mark.parametrize(
    ("dialect", "data_type"),
    [("postgresql", "tsvector"), ("postgresql", "mood"), ("mysql", "geometry"), ("sqlite", "WIDGET")],
)
def test_unknown_type_maps_to_string_with_a_note(dialect, data_type):
    mapped = map_sql_type(data_type, rules(dialect))
    assert mapped.kind == "string"
    assert mapped.note == f"unmapped SQL type {data_type!r}; kept as a string"


def test_pg_enum_is_only_an_enum_when_named_in_enums():
    assert map_sql_type("order_status", rules("postgresql")).kind == "string"
    assert map_sql_type("order_status", rules("postgresql"), {"order_status": ["a"]}).kind == "enum"


def test_mysql_tinyint_1_is_boolean_only_outside_postgresql():
    assert map_sql_type("tinyint(1)", rules("mysql")).kind == "boolean"
    in_postgres = map_sql_type("tinyint(1)", rules("postgresql"))
    assert in_postgres == ModelType("integer", bits=8)  # no MySQL boolean alias there


def test_unknown_dialect_is_an_error():
    with pytest.raises(ValueError, match="unknown dialect 'oracle'"):
        map_sql_type("integer", "oracle")  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40), st.sampled_from(["postgresql", "mysql", "sqlite"]))
def test_map_sql_type_never_raises(data_type, dialect):
    assert isinstance(map_sql_type(data_type, rules(dialect)), ModelType)


@pytest.mark.parametrize(
    ("model_type", "label"),
    [
        (ModelType("decimal", precision=12, scale=2), "Decimal(12,2)"),
        (ModelType("integer", bits=64, unsigned=True), "Integer(uint64)"),
        (ModelType("string", max_length=120), "String(120)"),
        (ModelType("datetime", precision=3, timezone=True), "DateTime(fsp=3,tz)"),
        (ModelType("array", item=ModelType("string")), "Array<String>"),
        (ModelType("enum", values=("a", "b")), "Enum(a|b)"),
    ],
)
def test_describe_type(model_type, label):
    assert describe_type(model_type) == label


# ------------------------------------------------------------------------------------------------ a tiny validator

_JSON_TYPES: dict[str, Any] = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}
_HANDLED = {
    "type", "enum", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "maxLength",
    "items", "allOf", "not", "required", "properties",
}  # fmt: skip


def validate(schema: dict[str, Any], value: Any, path: str = "$") -> list[str]:
    """The subset of draft 2020-12 the generated schemas use; annotations (format, x-*, ...) are ignored."""
    errors: list[str] = []
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_JSON_TYPES[t](value) for t in types):
            return [f"{path}: {value!r} is not {types}"]
    if "enum" in schema and not any(type(value) is type(e) and value == e for e in schema["enum"]):
        errors.append(f"{path}: {value!r} not in enum")
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{path}: {value!r} does not match {schema['pattern']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(f"{path}: longer than {schema['maxLength']}")
    if _JSON_TYPES["number"](value):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{path}: below minimum")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{path}: above maximum")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            errors.append(f"{path}: not above exclusiveMinimum")
        if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
            errors.append(f"{path}: not below exclusiveMaximum")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            errors.extend(validate(schema["items"], item, f"{path}[{i}]"))
    if isinstance(value, dict):
        errors.extend(f"{path}: missing {name}" for name in schema.get("required", []) if name not in value)
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                errors.extend(validate(sub, value[name], f"{path}.{name}"))
    for sub in schema.get("allOf", []):
        errors.extend(validate(sub, value, path))
    if "not" in schema and not validate(schema["not"], value, path):
        errors.append(f"{path}: matches a forbidden schema")
    return errors


def keywords(schema: Any) -> set[str]:
    """Every keyword used anywhere in a schema (property names under "properties" excluded)."""
    found: set[str] = set()
    if isinstance(schema, dict):
        for key, value in schema.items():
            found.add(key)
            if key == "properties":
                for sub in value.values():
                    found |= keywords(sub)
            elif key in ("items", "not"):
                found |= keywords(value)
            elif key == "allOf":
                for sub in value:
                    found |= keywords(sub)
    return found


# ------------------------------------------------------------------------------------------------ a realistic table


def trades_table() -> Table:
    return Table(
        schema="public",
        name="trades",
        entity_name="trade",
        comment="Executed trades",
        columns=(
            Column("id", "bigint", nullable=False),
            Column("trade_ref", "uuid", nullable=False),
            Column("ticker", "character varying(12)", nullable=False),
            Column("quantity", "integer", nullable=False),
            Column("price", "numeric(12,4)", nullable=False, comment="price per share"),
            Column("fee", "numeric(8,2)", nullable=True),
            Column("fx_rate", "double precision", nullable=True),
            Column("status", "trade_status", nullable=False),
            Column("tags", "text[]", nullable=True),
            Column("trade_date", "date", nullable=False),
            Column("executed_at", "timestamp(3) with time zone", nullable=False),
            Column("booked_at", "timestamp without time zone", nullable=True),
            Column("attributes", "jsonb", nullable=True),
            Column("is_block", "boolean", nullable=True),
            Column("raw_message", "bytea", nullable=True),
        ),
        primary_key=("id",),
    )


TRADE_ENUMS = {"trade_status": ["new", "filled", "cancelled"]}
TRADE_SPECS = (
    ConstraintSpec(name="qtyPositive", kind="predefined", field="quantity"),
    ConstraintSpec(name="validTicker", field="ticker"),
    ConstraintSpec(name="qtyPositive", field="price"),
    ConstraintSpec(name="feeRange", kind="range", field="fee", min=Decimal(0), max=Decimal("999.99")),
    ConstraintSpec(
        name="fxRange", kind="range", field="fx_rate", min=Decimal(0), exclusive_min=True, max=Decimal(1000)
    ),
    ConstraintSpec(name="openStatus", kind="one_of", field="status", values=("new", "filled")),
    ConstraintSpec(name="notNull", field="is_block"),
    ConstraintSpec(name="settles", kind="expression", pure_expression="$this.tradeDate <= $this.executedAt"),
)


def trades_model(specs=TRADE_SPECS) -> DataModel:
    return build_model(
        trades_table(), rules=rules("postgresql"), package="model::trading", constraints=specs, enums=TRADE_ENUMS
    )


GOOD_TRADE: dict[str, Any] = {
    "id": 9007199254740993,
    "trade_ref": "0b7e2a3c-6f1d-4b8e-9a57-3c2d1e0f4a5b",
    "ticker": "BRK.B",
    "quantity": 100,
    "price": "12345678.1234",
    "fee": "0.00",
    "fx_rate": None,
    "status": "filled",
    "tags": ["algo", "dark"],
    "trade_date": "2024-05-01",
    "executed_at": "2024-05-01T14:30:00.123Z",
    "booked_at": "2024-05-01 14:30:05.5",
    "attributes": {"venue": "XNYS", "legs": [1, 2]},
    "is_block": False,
    "raw_message": "AAEC",
}


def test_json_schema_document_structure():
    schema = to_json_schema(trades_model())
    assert schema["$schema"] == JSON_SCHEMA_DIALECT == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "urn:ops-pipeline:model:model::trading::Trade"
    assert schema["title"] == "Trade"
    assert schema["description"] == "Executed trades"
    assert schema["type"] == "object"
    assert schema["x-primaryKey"] == ["id"]
    assert schema["x-table"] == "public.trades"
    assert schema["x-class"] == "model::trading::Trade"
    # NOT NULL columns plus the requested notNull(is_block), in column order
    assert schema["required"] == [
        "id", "trade_ref", "ticker", "quantity", "price", "status", "trade_date", "executed_at", "is_block",
    ]  # fmt: skip
    props = schema["properties"]
    assert list(props) == [c.name for c in trades_table().columns]
    assert props["id"] == {
        "type": "integer",
        "minimum": -(2**63),
        "maximum": 2**63 - 1,
        "x-pureProperty": "id",
        "x-sqlType": "bigint",
    }
    assert props["trade_ref"] == {
        "type": "string",
        "format": "uuid",
        "x-pureProperty": "tradeRef",
        "x-sqlType": "uuid",
    }
    assert props["ticker"] == {
        "type": "string",
        "maxLength": 12,
        "pattern": TICKER_PATTERN,
        "x-pureProperty": "ticker",
        "x-sqlType": "character varying(12)",
    }
    assert props["quantity"] == {
        "type": "integer",
        "minimum": -(2**31),
        "maximum": 2**31 - 1,
        "exclusiveMinimum": 0,
        "x-pureProperty": "quantity",
        "x-sqlType": "integer",
    }
    # exact numerics are strings; qtyPositive on a decimal is a pattern next to the precision pattern
    assert props["price"] == {
        "type": "string",
        "pattern": r"^-?(0|[1-9][0-9]{0,7})(\.[0-9]{1,4})?$",
        "allOf": [{"pattern": r"^(?!-)(?![0.]*$)"}],
        "x-precision": 12,
        "x-scale": 4,
        "description": "price per share",
        "x-pureProperty": "price",
        "x-sqlType": "numeric(12,4)",
    }
    assert props["fee"] == {
        "type": ["string", "null"],
        "pattern": r"^-?(0|[1-9][0-9]{0,5})(\.[0-9]{1,2})?$",
        "allOf": [{"pattern": r"^(?!-(?![0.]*$))"}],
        "x-maximum": "999.99",
        "$comment": "exact decimal bounds (x-minimum, x-maximum, ...) are enforced by the PURE model",
        "x-precision": 8,
        "x-scale": 2,
        "x-pureProperty": "fee",
        "x-sqlType": "numeric(8,2)",
    }
    assert props["fx_rate"] == {
        "type": ["number", "null"],
        "format": "double",
        "exclusiveMinimum": 0,
        "maximum": 1000,
        "x-pureProperty": "fxRate",
        "x-sqlType": "double precision",
    }
    assert props["status"] == {
        "type": "string",
        "enum": ["new", "filled"],  # the enum's values narrowed by one_of
        "x-pureProperty": "status",
        "x-sqlType": "trade_status",
    }
    assert props["tags"] == {
        "type": ["array", "null"],
        "items": {"type": "string"},
        "x-pureProperty": "tags",
        "x-sqlType": "text[]",
    }
    assert props["trade_date"]["format"] == "date"
    assert props["executed_at"] == {
        "type": "string",
        "format": "date-time",
        "x-precision": 3,
        "x-pureProperty": "executedAt",
        "x-sqlType": "timestamp(3) with time zone",
    }
    assert props["booked_at"]["pattern"] == r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?$"
    assert "format" not in props["booked_at"]  # RFC 3339 date-time needs an offset
    assert props["attributes"] == {"x-pureProperty": "attributes", "x-sqlType": "jsonb"}  # any JSON value
    assert props["is_block"]["type"] == "boolean"  # notNull removed "null"
    assert props["raw_message"] == {
        "type": ["string", "null"],
        "contentEncoding": "base64",
        "x-pureProperty": "rawMessage",
        "x-sqlType": "bytea",
    }
    assert schema["$comment"] == "settles: enforced by the PURE model only: $this.tradeDate <= $this.executedAt"
    listed = {(c["label"], c["origin"]) for c in schema["x-constraints"]}
    assert ("qtyPositive_quantity", "predefined") in listed
    assert ("qtyPositive_price", "predefined") in listed
    assert ("settles", "config") in listed
    assert all(
        set(c) == {"name", "label", "field", "origin", "expression", "description"} for c in schema["x-constraints"]
    )


def test_json_schema_is_a_well_formed_2020_12_document():
    schema = to_json_schema(trades_model())
    standard = {
        "$schema", "$id", "$comment", "title", "description", "type", "properties", "required", "items", "enum",
        "pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "maxLength",
        "contentEncoding", "allOf", "not",
    }  # fmt: skip
    used = keywords(schema)
    assert {k for k in used if not k.startswith("x-")} <= standard
    for prop in schema["properties"].values():
        for pattern in [prop.get("pattern")] + [s["pattern"] for s in prop.get("allOf", [])]:
            if pattern is not None:
                re.compile(pattern)  # ECMA-262 subset: anchors, classes, groups, lookaheads
    json.loads(json_schema_text(trades_model()))  # plain JSON, no NaN or Decimal


def test_json_schema_validates_sample_records():
    schema = to_json_schema(trades_model())
    assert validate(schema, GOOD_TRADE) == []
    nullable_empty = {k: v for k, v in GOOD_TRADE.items() if k in schema["required"]}
    assert validate(schema, nullable_empty) == []
    bad_cases = {
        "quantity": 0,  # qtyPositive
        "ticker": "brk.b",  # validTicker
        "price": "0.0000",  # qtyPositive on a decimal
        "fee": "-1.00",  # feeRange min 0
        "status": "cancelled",  # openStatus
        "is_block": None,  # notNull requested
        "id": 2**63,  # bigint range
        "fx_rate": 0,  # exclusive minimum
        "tags": ["ok", 3],  # item type
        "booked_at": "2024-05-01T14:30:05+02:00",  # no time zone in a timestamp without one
    }
    for column, value in bad_cases.items():
        assert validate(schema, {**GOOD_TRADE, column: value}) != [], column
    assert validate(schema, {k: v for k, v in GOOD_TRADE.items() if k != "trade_ref"}) == ["$: missing trade_ref"]


def test_json_schema_with_jsonschema_when_installed():
    jsonschema = pytest.importorskip("jsonschema")
    schema = to_json_schema(trades_model())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(GOOD_TRADE)


@pytest.mark.parametrize(
    ("dialect", "data_type", "good", "bad"),
    [
        ("postgresql", "numeric(12,2)", ["0", "-5", "1234567890.12", "0.5", "10.50"], ["12345678901", "1.234", "1e5"]),
        ("postgresql", "numeric(12,2)", [], ["01", "", ".", "1.", ".5", "+1", "1,5", " 1"]),
        ("postgresql", "numeric(5)", ["99999", "-1", "0"], ["100000", "1.0"]),
        ("postgresql", "numeric(3,3)", ["0.123", "0", "-0.5"], ["1.0", "0.1234"]),
        ("mysql", "decimal(4,1) unsigned", ["999.9", "0.0"], ["-1", "1000"]),
        ("postgresql", "numeric", ["123456789012345678901234567890.123456789"], ["1e3", "+1"]),
    ],
)
def test_decimal_pattern_keeps_precision(dialect, data_type, good, bad):
    table = Table("s", "t", columns=(Column("v", data_type, nullable=False),))
    schema = to_json_schema(build_model(table, rules=rules(dialect), package="m"))
    assert [v for v in good if validate(schema, {"v": v})] == []
    assert [v for v in bad if not validate(schema, {"v": v})] == []


@pytest.mark.parametrize(
    ("spec", "accepted", "rejected"),
    [
        ({"min": 0, "exclusive_min": True}, ["0.01", "5"], ["0", "0.00", "-0.01", "-0"]),
        ({"min": 0}, ["0", "0.00", "-0", "7"], ["-0.01", "-3"]),
        ({"max": 0, "exclusive_max": True}, ["-0.01", "-3"], ["0", "-0.00", "2"]),
        ({"max": 0}, ["0", "-0.00", "-4"], ["0.01", "4"]),
    ],
)
def test_decimal_zero_bounds_are_patterns(spec, accepted, rejected):
    table = Table("s", "t", columns=(Column("v", "numeric(8,2)", nullable=False),))
    model = build_model(
        table,
        rules=rules("postgresql"),
        package="m",
        constraints=[ConstraintSpec(name="r", kind="range", field="v", **spec)],
    )
    schema = to_json_schema(model)
    assert [v for v in accepted if validate(schema, {"v": v})] == []
    assert [v for v in rejected if not validate(schema, {"v": v})] == []


# ------------------------------------------------------------------------------------------------ PURE

GOLDEN_PURE = r"""// Generated by ops_pipeline from shop.order_lines (source broker, mysql). Do not edit by hand.

Enum model::trading::OrderLineSide
{
  buy,
  sell,
  {meta::pure::profiles::doc.doc = 'short sell'} short_sell
}

Class {meta::pure::profiles::doc.doc = 'One line of a client\'s order'} model::trading::OrderLine
[
  notNull_id: $this.id->isNotEmpty(),
  notNull_ticker: $this.ticker->isNotEmpty(),
  notNull_quantity: $this.quantity->isNotEmpty(),
  notNull_side: $this.side->isNotEmpty(),
  qtyPositive: $this.quantity > 0,
  validTicker: $this.ticker->matches('^[A-Z]{1,5}(\\.[A-Z]{1,2})?$')
]
{
  <<meta::pure::profiles::equality.Key>> id: Integer[1];
  {meta::pure::profiles::doc.doc = 'sql: varchar(12)'} ticker: String[1];
  quantity: Integer[1];
  {meta::pure::profiles::doc.doc = 'each', meta::pure::profiles::doc.doc = 'sql: decimal(12,4)'} price: Decimal[0..1];
  side: model::trading::OrderLineSide[1];
  {meta::pure::profiles::doc.doc = 'sql: varchar(20)'} class_: String[0..1];
  fills: Integer[0..1];
  {meta::pure::profiles::doc.doc = 'sql: datetime(6)'} filledAt: DateTime[0..1];
}
"""


def order_lines_table() -> Table:
    return Table(
        schema="shop",
        name="order_lines",
        entity_name="order_line",
        comment="One line of a client's order",
        columns=(
            Column("id", "int(11)", nullable=False),
            Column("ticker", "varchar(12)", nullable=False),
            Column("quantity", "int(11)", nullable=False),
            Column("price", "decimal(12,4)", nullable=True, comment="each"),
            Column("side", "enum('buy','sell','short sell')", nullable=False),
            Column("class", "varchar(20)", nullable=True),
            Column("fills", "int(11)", nullable=True),
            Column("filled_at", "datetime(6)", nullable=True),
        ),
        primary_key=("id",),
    )


ORDER_LINE_SPECS = (
    ConstraintSpec(name="validTicker", field="ticker"),
    ConstraintSpec(name="qtyPositive", field="quantity"),
)


def order_lines_model(specs=ORDER_LINE_SPECS) -> DataModel:
    return build_model(
        order_lines_table(), rules=rules("mysql"), package="model::trading", constraints=specs, source="broker"
    )


def test_pure_golden_text():
    assert to_pure(order_lines_model()) == GOLDEN_PURE


def test_pure_types_and_multiplicities():
    pure = to_pure(trades_model())
    for line in [
        "  <<meta::pure::profiles::equality.Key>> id: Integer[1];",
        "  {meta::pure::profiles::doc.doc = 'sql: uuid', meta::pure::profiles::doc.doc = 'UUID as text'}"
        " tradeRef: String[1];",
        "  {meta::pure::profiles::doc.doc = 'price per share', meta::pure::profiles::doc.doc = 'sql: numeric(12,4)'}"
        " price: Decimal[1];",
        "  fxRate: Float[0..1];",
        "  status: model::trading::TradeStatus[1];",
        "  tags: String[*];",
        "  tradeDate: StrictDate[1];",
        "  {meta::pure::profiles::doc.doc = 'sql: timestamp(3) with time zone'} executedAt: DateTime[1];",
        "  isBlock: Boolean[0..1];",
        "  {meta::pure::profiles::doc.doc = 'sql: bytea', meta::pure::profiles::doc.doc = "
        "'binary data, base64-encoded'} rawMessage: String[0..1];",
    ]:
        assert line in pure.splitlines(), line
    assert "Enum model::trading::TradeStatus\n{\n  new,\n  filled,\n  cancelled\n}\n" in pure
    assert pure.index("Enum model::trading::TradeStatus") < pure.index("Class ")


def test_time_is_strict_time():
    table = Table("s", "shifts", columns=(Column("starts", "time without time zone", nullable=False),))
    pure = to_pure(build_model(table, rules=rules("postgresql"), package="m"))
    assert "{meta::pure::profiles::doc.doc = 'sql: time without time zone'} starts: StrictTime[1];" in pure


# ------------------------------------------------------------------------------------------------ determinism


def test_same_input_same_bytes():
    assert json_schema_text(trades_model()) == json_schema_text(trades_model())
    assert to_pure(trades_model()) == to_pure(trades_model())
    assert json_schema_text(trades_model()).endswith("}\n")


def test_output_independent_of_constraint_spec_order():
    reference = trades_model()
    for specs in itertools.islice(itertools.permutations(TRADE_SPECS), 0, None, 997):
        model = trades_model(specs)
        assert model == reference
        assert json_schema_text(model) == json_schema_text(reference)
        assert to_pure(model) == to_pure(reference)
    assert trades_model(tuple(reversed(TRADE_SPECS))) == reference


HASH_SEED_SCRIPT = """
from ops_pipeline.core.catalog import Column, Table
from ops_pipeline.core.models import ConstraintSpec, build_model, json_schema_text, to_pure
from ops_pipeline.sources.registry import sql_database_for
table = Table("s", "t", columns=(
    Column("id", "integer", False), Column("state", "st", True), Column("Größe", "numeric(4,1)", False),
    Column("tags", "st[]", True), Column("Order Date", "date", False), Column("order_date", "date", True),
))
specs = [ConstraintSpec(name="notNull", field="state"), ConstraintSpec(name="qtyPositive", field="id"),
         ConstraintSpec(name="big", kind="range", field="Größe", min=0, max=99)]
rules = sql_database_for("postgresql").type_rules
m = build_model(table, rules=rules, package="m::x", constraints=specs, enums={"st": ["b", "a", "c"]})
print(json_schema_text(m) + to_pure(m))
"""


def test_output_independent_of_hash_seed():
    outputs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", HASH_SEED_SCRIPT], capture_output=True, text=True, env=env, check=True
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1


# ------------------------------------------------------------------------------------------------ constraints


def test_not_null_from_the_table_and_requested_merge_into_one():
    specs = (
        ConstraintSpec(name="notNull", field="quantity"),
        ConstraintSpec(name="notNull", field="quantity"),  # repeated in config
        ConstraintSpec(name="qtyPositive", field="quantity"),
        ConstraintSpec(name="qtyPositive", field="quantity"),
    )
    model = order_lines_model(specs)
    about_quantity = [c for c in model.constraints if c.field == "quantity"]
    assert [(c.name, c.origin, c.label) for c in about_quantity] == [
        ("notNull", "model", "notNull_quantity"),
        ("qtyPositive", "predefined", "qtyPositive"),
    ]
    labels = [c.label for c in model.constraints]
    assert len(labels) == len(set(labels))
    assert [x["label"] for x in to_json_schema(model)["x-constraints"]] == labels


def test_constraints_are_ordered_by_origin_then_name_then_column():
    model = trades_model()
    assert [(c.origin, c.label) for c in model.constraints] == [
        ("model", "notNull_id"),
        ("model", "notNull_tradeRef"),
        ("model", "notNull_ticker"),
        ("model", "notNull_quantity"),
        ("model", "notNull_price"),
        ("model", "notNull_status"),
        ("model", "notNull_tradeDate"),
        ("model", "notNull_executedAt"),
        ("predefined", "notNull_isBlock"),
        ("predefined", "qtyPositive_quantity"),
        ("predefined", "qtyPositive_price"),
        ("predefined", "validTicker"),
        ("config", "feeRange"),
        ("config", "fxRange"),
        ("config", "openStatus"),
        ("config", "settles"),
    ]


def test_qty_positive_renders_in_both_outputs():
    model = order_lines_model()
    pure = to_pure(model)
    assert "  qtyPositive: $this.quantity > 0," in pure
    assert to_json_schema(model)["properties"]["quantity"]["exclusiveMinimum"] == 0


def test_qty_positive_on_a_nullable_decimal():
    model = order_lines_model((ConstraintSpec(name="qtyPositive", field="price"),))
    (c,) = [c for c in model.constraints if c.name == "qtyPositive"]
    assert c.expression == "$this.price->isEmpty() || ($this.price->toOne() > 0)"
    price = to_json_schema(model)["properties"]["price"]
    assert price["allOf"] == [{"pattern": r"^(?!-)(?![0.]*$)"}]
    assert validate(price, None) == []
    assert validate(price, "0.0001") == []
    assert validate(price, "0.0000") != []


def test_valid_ticker_renders_in_both_outputs():
    model = order_lines_model()
    assert "  validTicker: $this.ticker->matches('^[A-Z]{1,5}(\\\\.[A-Z]{1,2})?$')" in to_pure(model)
    ticker = to_json_schema(model)["properties"]["ticker"]
    assert ticker["pattern"] == TICKER_PATTERN
    for good in ("A", "MSFT", "BRK.B", "ABCDE.XY"):
        assert validate(ticker, good) == [], good
    for bad in ("", "msft", "ABCDEF", "BRK.", "BRK.BCD", "BRK-B"):
        assert validate(ticker, bad) != [], bad


def test_not_null_on_a_nullable_column_renders_in_both_outputs():
    model = order_lines_model((ConstraintSpec(name="notNull", field="fills"),))
    assert "  notNull_fills: $this.fills->isNotEmpty()" in to_pure(model).splitlines()
    assert "  fills: Integer[0..1];" in to_pure(model)  # the column stays nullable; the constraint forbids null
    schema = to_json_schema(model)
    assert "fills" in schema["required"]
    assert schema["properties"]["fills"]["type"] == "integer"


def test_user_range_pattern_and_one_of_render_in_both_outputs():
    specs = (
        ConstraintSpec(
            name="fillsRange", kind="range", field="fills", min=Decimal(1), max=Decimal(50), exclusive_max=True
        ),
        ConstraintSpec(name="classCode", kind="pattern", field="class", pattern="^[A-Z]{2}[0-9]$"),
        ConstraintSpec(name="sides", kind="one_of", field="side", values=("buy", "short sell")),
        ConstraintSpec(name="tickers", kind="one_of", field="ticker", values=("IBM", "SAP")),
        ConstraintSpec(name="priceCap", kind="range", field="price", max=Decimal("1000.5")),
    )
    model = order_lines_model(specs)
    expressions = {c.label: c.expression for c in model.constraints}
    assert (
        expressions["fillsRange"]
        == "$this.fills->isEmpty() || (($this.fills->toOne() >= 1) && ($this.fills->toOne() < 50))"
    )
    assert expressions["classCode"] == "$this.class_->isEmpty() || ($this.class_->toOne()->matches('^[A-Z]{2}[0-9]$'))"
    assert expressions["sides"] == (
        "$this.side->in([model::trading::OrderLineSide.buy, model::trading::OrderLineSide.short_sell])"
    )
    assert expressions["tickers"] == "$this.ticker->in(['IBM', 'SAP'])"
    assert expressions["priceCap"] == "$this.price->isEmpty() || ($this.price->toOne() <= 1000.5D)"
    pure = to_pure(model)
    for label, expression in expressions.items():
        assert f"  {label}: {expression}" in pure
    props = to_json_schema(model)["properties"]
    assert props["fills"]["minimum"] == 1  # tighter than the int32 minimum it replaced
    assert props["fills"]["exclusiveMaximum"] == 50
    assert props["fills"]["maximum"] == 2**31 - 1
    assert props["class"]["pattern"] == "^[A-Z]{2}[0-9]$"
    assert props["side"]["enum"] == ["buy", "short sell"]
    assert props["ticker"]["enum"] == ["IBM", "SAP"]
    assert props["price"]["x-maximum"] == "1000.5"


def test_expression_constraint_is_pure_only():
    spec = ConstraintSpec(name="smallLots", kind="expression", pure_expression="$this.quantity   <= 10000")
    model = order_lines_model((spec,))
    assert "  smallLots: $this.quantity   <= 10000" in to_pure(model)
    schema = to_json_schema(model)
    assert schema["$comment"] == "smallLots: enforced by the PURE model only: $this.quantity   <= 10000"
    assert {"name": "smallLots", "origin": "config"}.items() <= schema["x-constraints"][-1].items()


def test_duplicate_expression_constraints_differing_only_in_spacing_merge():
    specs = (
        ConstraintSpec(name="lots", kind="expression", pure_expression="$this.quantity <= 10"),
        ConstraintSpec(name="lots", kind="expression", pure_expression="$this.quantity  <=  10"),
    )
    assert len([c for c in order_lines_model(specs).constraints if c.name == "lots"]) == 1


def test_unknown_field_names_the_constraint_and_the_field():
    with pytest.raises(ValueError, match=r"constraint 'qtyPositive': unknown field 'qty' in table shop.order_lines"):
        order_lines_model((ConstraintSpec(name="qtyPositive", field="qty"),))
    with pytest.raises(ValueError, match=r"constraint 'lots': unknown field 'nope'"):
        order_lines_model((ConstraintSpec(name="lots", kind="range", field="nope", min=Decimal(1)),))


def test_a_field_can_be_named_by_its_pure_property_name():
    model = order_lines_model((ConstraintSpec(name="notNull", field="class_"),))
    assert any(c.field == "class" and c.origin == "predefined" for c in model.constraints)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (ConstraintSpec(name="qtyPositive", field="ticker"), "field 'ticker' is string, not a number"),
        (ConstraintSpec(name="validTicker", field="quantity"), "field 'quantity' is integer, not a string"),
        (ConstraintSpec(name="s", kind="one_of", field="side", values=("hold",)), "has no value 'hold'"),
        (ConstraintSpec(name="s", kind="one_of", field="fills", values=("1",)), "takes only integer values"),
        (ConstraintSpec(name="s", kind="one_of", field="price", values=("1",)), "cannot take a one_of"),
    ],
)
def test_constraint_that_does_not_fit_the_field_type(spec, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        order_lines_model((spec,))


def test_not_null_on_an_array_is_rejected():
    with pytest.raises(ValueError, match="field 'tags' is an array"):
        trades_model((ConstraintSpec(name="notNull", field="tags"),))
    assert not any(c.field == "tags" for c in trades_model().constraints)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "qtyPositiv", "field": "q"}, "not a predefined constraint"),
        ({"name": "notNull", "kind": "range", "field": "q", "min": 1}, "reserved for the predefined"),
        ({"name": "r", "kind": "range", "field": "q"}, "needs min and/or max"),
        ({"name": "r", "kind": "range", "field": "q", "min": 5, "max": 1}, "empty range"),
        ({"name": "r", "kind": "range", "field": "q", "min": 1, "pattern": "x"}, "pattern not allowed"),
        ({"name": "p", "kind": "pattern", "field": "q", "pattern": "("}, "invalid regular expression"),
        ({"name": "o", "kind": "one_of", "field": "q", "values": []}, "at least one value"),
        ({"name": "e", "kind": "expression"}, "needs a pure_expression"),
        ({"name": "bad name", "kind": "not_null", "field": "q"}, "not an identifier"),
        ({"name": "n", "kind": "not_null"}, "needs a field"),
        ({"name": "n", "kind": "not_null", "field": "q", "colour": "red"}, "Extra inputs"),
    ],
)
def test_constraint_spec_validation(data, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ConstraintSpec.model_validate(data)


def test_invalid_package_is_rejected():
    with pytest.raises(ValueError, match="invalid PURE package 'model/shop'"):
        build_model(order_lines_table(), rules=rules("mysql"), package="model/shop")


# ------------------------------------------------------------------------------------------------ identifiers


def test_pure_identifier_sanitising():
    table = Table(
        "s",
        "2024 trade-log",
        columns=(
            Column("class", "text"),
            Column("2fa_enabled", "boolean"),
            Column("Order Date", "date"),
            Column("order_date", "date"),
            Column("Größe", "integer"),
            Column("true", "boolean"),
            Column("tags", "text"),
            Column("!!!", "text"),
        ),
    )
    model = build_model(table, rules=rules("postgresql"), package="m")
    assert model.name == "_2024TradeLog"
    assert [p.name for p in model.properties] == [
        "class_", "_2faEnabled", "orderDate", "orderDate2", "grosse", "true_", "tags", "column8",
    ]  # fmt: skip
    assert [p.column for p in model.properties] == [c.name for c in table.columns]
    pure = to_pure(model)
    assert "  class_: String[0..1];" in pure
    assert "  _2faEnabled: Boolean[0..1];" in pure
    assert "  {meta::pure::profiles::doc.doc = 'column: Order Date'} orderDate: StrictDate[0..1];" in pure
    assert "  {meta::pure::profiles::doc.doc = 'column: order_date'} orderDate2: StrictDate[0..1];" in pure
    assert "  {meta::pure::profiles::doc.doc = 'column: !!!'} column8: String[0..1];" in pure


@pytest.mark.parametrize(
    ("text", "expected"),
    [("customer_name", "customerName"), ("HTTPServer", "httpServer"), ("let", "let_"), ("Class", "class_")],
)
def test_pure_identifier(text, expected):
    assert pure_identifier(text) == expected


def test_enum_values_become_identifiers_and_keep_their_text():
    table = Table("s", "t", columns=(Column("state", "enum('in progress','in-progress','1st','','true')", False),))
    model = build_model(table, rules=rules("mysql"), package="m")
    (enum,) = model.enums
    assert enum.name == "TState"
    assert enum.identifiers == ("in_progress", "in_progress2", "_1st", "EMPTY", "true_")
    assert enum.values == ("in progress", "in-progress", "1st", "", "true")
    pure = to_pure(model)
    assert "  {meta::pure::profiles::doc.doc = 'in-progress'} in_progress2," in pure
    assert "  {meta::pure::profiles::doc.doc = ''} EMPTY," in pure


def test_one_pg_enum_type_used_twice_is_one_enum_block():
    table = Table(
        "s",
        "moves",
        columns=(Column("from_status", "trade_status", False), Column("to_status", "trade_status[]", True)),
    )
    model = build_model(table, rules=rules("postgresql"), package="m", enums=TRADE_ENUMS)
    assert [e.name for e in model.enums] == ["TradeStatus"]
    pure = to_pure(model)
    assert pure.count("Enum m::TradeStatus") == 1
    assert "  fromStatus: m::TradeStatus[1];" in pure
    assert "  toStatus: m::TradeStatus[*];" in pure


# ------------------------------------------------------------------------------------------------ model_diff


def test_model_diff_lines():
    old_table = Table(
        "s",
        "orders",
        entity_name="order",
        columns=(
            Column("id", "integer", False),
            Column("total", "numeric(10,2)", False),
            Column("note", "text", True),
            Column("legacy_code", "varchar(8)", True),
        ),
        primary_key=("id",),
    )
    new_table = Table(
        "s",
        "orders",
        entity_name="order",
        columns=(
            Column("id", "integer", False),
            Column("total", "numeric(12,2)", False),
            Column("note", "text", False),
            Column("discount", "numeric(5,2)", True),
            Column("quantity", "integer", False),
        ),
        primary_key=("id",),
    )
    old = build_model(old_table, rules=rules("postgresql"), package="model::shop")
    new = build_model(
        new_table,
        rules=rules("postgresql"),
        package="model::shop",
        constraints=[ConstraintSpec(name="qtyPositive", field="quantity")],
    )
    assert model_diff(old, new) == [
        "~ property total: Decimal(10,2) -> Decimal(12,2)",
        "~ property note: multiplicity [0..1] -> [1]",
        "+ property discount: Decimal[0..1]",
        "+ property quantity: Integer[1]",
        "- property legacyCode (column legacy_code)",
        "+ constraint notNull_note: $this.note->isNotEmpty()",
        "+ constraint notNull_quantity: $this.quantity->isNotEmpty()",
        "+ constraint qtyPositive: $this.quantity > 0",
    ]
    assert model_diff(new, new) == []


def test_model_diff_from_nothing_and_enum_changes():
    first = model_diff(None, order_lines_model())
    assert first[0] == "+ class model::trading::OrderLine"
    assert "+ property class_ (column class): String[0..1]" in first
    assert "+ enum OrderLineSide: buy|sell|short sell" in first
    assert "+ constraint validTicker: $this.ticker->matches('^[A-Z]{1,5}(\\\\.[A-Z]{1,2})?$')" in first

    table = order_lines_table()
    columns = tuple(Column(c.name, "enum('buy','sell')", c.nullable) if c.name == "side" else c for c in table.columns)
    narrower = build_model(
        Table(table.schema, table.name, columns=columns, primary_key=table.primary_key, entity_name="order_line"),
        rules=rules("mysql"),
        package="model::trading",
        constraints=ORDER_LINE_SPECS,
    )
    assert model_diff(order_lines_model(), narrower) == [
        "~ property side: OrderLineSide(buy|sell|short sell) -> OrderLineSide(buy|sell)",
        "~ enum OrderLineSide: buy|sell|short sell -> buy|sell",
    ]
