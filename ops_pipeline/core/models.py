r"""Data models generated from a scanned table: SQL types -> model types -> JSON Schema and a Legend PURE class.

Pure domain logic (stdlib + pydantic, no Dagster). The flow is::

    Table --build_model--> DataModel --to_json_schema / json_schema_text--> JSON Schema (draft 2020-12)
                                     --to_pure------------------------------> Legend PURE (Enum blocks + Class)
                                     --model_diff(old, new)-----------------> human-readable change lines

Both outputs are deterministic: the same table, options and constraint specs (in any order) give the
same bytes.

Types
    `map_sql_type` turns a column type, spelled as the database reports it (PostgreSQL ``format_type``,
    MySQL ``COLUMN_TYPE``, SQLite declared types), into a `ModelType`. Precision is kept: ``numeric(12,2)``
    is ``decimal`` with precision 12 and scale 2 (never a float), ``varchar(120)`` keeps its length,
    timestamps keep their time zone flag and fractional-second digits, integers their width and sign.
    MySQL ``tinyint(1)`` (how MySQL reports ``BOOLEAN``) and ``bit(1)`` are booleans; PostgreSQL user enum
    types are recognised by name from the ``enums`` mapping; MySQL ``enum(...)`` is read inline and
    ``set(...)`` becomes an array of an enum. A type nobody knows maps to ``string`` with a ``note``; the
    mapping never raises for a type spelling. SQLite does not enforce declared types: lengths and precision
    are kept as the declaration's intent, ``INTEGER``/``INT``/``BIGINT`` are 64-bit and unrecognised
    declarations fall back to SQLite's affinity rules.

Exact numerics in JSON Schema
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

PURE
    Types: Integer, Float, Decimal, String, StrictDate, DateTime, StrictTime, Boolean; enums become an
    ``Enum`` block before the class; arrays use multiplicity ``[*]``; json, uuid and binary (base64) are
    ``String``. NOT NULL is ``[1]``, nullable ``[0..1]``. Primary-key properties carry the
    ``meta::pure::profiles::equality.Key`` stereotype. Whatever a PURE type cannot say (length, precision
    and scale, time zone, unsigned, 32-bit float, a note, a column name that camelCase cannot give back) is
    kept in ``meta::pure::profiles::doc.doc`` tagged values, e.g. ``doc.doc = 'sql: numeric(12,2)'``.

Identifiers
    Property names are the camelCase of the column, folded to ASCII; a leading digit gets a ``_`` prefix
    (``2fa_enabled`` -> ``_2faEnabled``), a PURE keyword (compared case-insensitively) gets a ``_`` suffix
    (``class`` -> ``class_``), an empty result becomes ``column<N>`` and clashes get ``2``, ``3``, ... in
    column order. Enum values keep their text when it is an identifier; otherwise every run of other
    characters becomes ``_`` (the original is kept as a doc tagged value).

Constraints
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

import copy
import json
import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from ops_pipeline.core.catalog import Table
from ops_pipeline.core.drift import normalize_type
from ops_pipeline.core.resolver import camel_case, pascal_case, snake_case

__all__ = [
    "DIALECTS",
    "JSON_SCHEMA_DIALECT",
    "PREDEFINED_CONSTRAINTS",
    "TICKER_PATTERN",
    "Constraint",
    "ConstraintSpec",
    "DataModel",
    "Dialect",
    "EnumType",
    "ModelType",
    "Property",
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

Dialect = Literal["postgresql", "mysql", "sqlite"]
DIALECTS: Final[tuple[str, ...]] = get_args(Dialect)

TypeKind = Literal[
    "integer",
    "decimal",
    "float",
    "string",
    "date",
    "datetime",
    "time",
    "boolean",
    "json",
    "uuid",
    "binary",
    "array",
    "enum",
]
Origin = Literal["predefined", "config", "model"]
ConstraintKind = Literal["predefined", "range", "pattern", "not_null", "one_of", "expression"]

JSON_SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
TICKER_PATTERN: Final = r"^[A-Z]{1,5}(\.[A-Z]{1,2})?$"
QTY_POSITIVE: Final = "qtyPositive"
VALID_TICKER: Final = "validTicker"
NOT_NULL: Final = "notNull"
PREDEFINED_CONSTRAINTS: Final[tuple[str, ...]] = (NOT_NULL, QTY_POSITIVE, VALID_TICKER)

_NO_ENUMS: Final[Mapping[str, Sequence[str]]] = MappingProxyType({})
_ORIGIN_RANK: Final[dict[str, int]] = {"model": 0, "predefined": 1, "config": 2}
_DOC_TAG: Final = "meta::pure::profiles::doc.doc"
_KEY_STEREOTYPE: Final = "meta::pure::profiles::equality.Key"
_IDENTIFIER_RE: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
_CONSTRAINT_NAME_RE: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Keyword tokens of the Legend lexers that either cannot be an identifier at all (true, false, toBytes,
# byteStream) or start a declaration or statement (Class, Enum, function, let, import, ...). An identifier equal
# to one of them, compared case-insensitively so `class` is treated like `Class`, gets a "_" suffix. Other
# lexer words (all, tags, as, none, ...) are valid identifiers in the grammar and are left alone.
_PURE_RESERVED: Final = frozenset(
    w.casefold()
    for w in (
        "true", "false", "toBytes", "byteStream", "Class", "Enum", "Profile", "Association", "Measure",
        "function", "native", "extends", "import", "let",
    )
)  # fmt: skip


# ========================================================================================================
# Model types
# ========================================================================================================


@dataclass(frozen=True)
class ModelType:
    """What a SQL column type holds, independent of the dialect that spelled it.

    ``bits`` is the storage width of an integer (8, 16, 24, 32, 64, or n for MySQL ``bit(n)``) or a float
    (32, 64); ``precision`` is the number of digits of a decimal or the fractional-second digits of a
    datetime/time; ``name`` is the database type name of a named enum (PostgreSQL); ``note`` explains a
    lossy or unknown mapping.
    """

    kind: TypeKind
    precision: int | None = None
    scale: int | None = None
    max_length: int | None = None
    timezone: bool = False
    item: ModelType | None = None
    values: tuple[str, ...] = ()
    bits: int | None = None
    unsigned: bool = False
    name: str | None = None
    note: str | None = None


def _unmapped(data_type: str) -> ModelType:
    return ModelType("string", note=f"unmapped SQL type {data_type.strip()!r}; kept as a string")


_ARRAY_SUFFIX_RE: Final = re.compile(r"\[\s*\d*\s*\]\s*$")
_INLINE_ENUM_RE: Final = re.compile(r"^\s*(enum|set)\s*\((.*)\)\s*$", re.IGNORECASE | re.DOTALL)
_TINYINT1_RE: Final = re.compile(r"^\s*tinyint\s*\(\s*1\s*\)\s*$", re.IGNORECASE)
_CANONICAL_RE: Final = re.compile(r"^(?P<base>[^()]*?)(?:\((?P<params>[^()]*)\))?(?P<unsigned> unsigned)?$")

_INT_BITS: Final[dict[str, int]] = {"tinyint": 8, "smallint": 16, "mediumint": 24, "integer": 32, "bigint": 64}
_TEXT_TYPES: Final = frozenset(
    {"text", "tinytext", "mediumtext", "longtext", "citext", "name", "clob", "string", "ntext", "bpchar"}
)
_BLOB_TYPES: Final = frozenset({"bytea", "blob", "tinyblob", "mediumblob", "longblob", "image"})
_TEXT_NOTES: Final[dict[str, str]] = {
    "interval": "interval in the database's text form",
    "money": "money in the database's locale-formatted text form",
    "inet": "network address text",
    "cidr": "network address text",
    "macaddr": "MAC address text",
    "macaddr8": "MAC address text",
    "xml": "XML document text",
    "varbit": "bit string of 0 and 1",
}


def _parse_quoted_values(inner: str) -> tuple[str, ...]:
    """The values of MySQL ``enum('a','it''s')`` / ``set(...)`` (quotes doubled inside a value)."""
    values: list[str] = []
    i, n = 0, len(inner)
    while i < n:
        if inner[i] in " ,\t\r\n":
            i += 1
            continue
        if inner[i] != "'":
            raise ValueError(f"not a quoted value list: {inner!r}")
        i += 1
        chars: list[str] = []
        while True:
            if i >= n:
                raise ValueError(f"unterminated value in {inner!r}")
            if inner[i] == "'":
                if inner[i + 1 : i + 2] == "'":
                    chars.append("'")
                    i += 2
                    continue
                i += 1
                break
            chars.append(inner[i])
            i += 1
        values.append("".join(chars))
    return tuple(values)


def _enum_lookup(data_type: str, enums: Mapping[str, Sequence[str]]) -> tuple[str, tuple[str, ...]] | None:
    """A PostgreSQL enum type by name: exact, then without quotes, then by its unqualified name, then casefolded."""
    if not enums:
        return None
    if data_type in enums:
        return data_type, tuple(enums[data_type])
    keys = sorted(enums)

    def unquoted(name: str) -> str:
        return name.replace('"', "")

    def last(name: str) -> str:
        return unquoted(name).rsplit(".", 1)[-1]

    tests: tuple[Callable[[str], str], ...] = (unquoted, last, lambda n: last(n).casefold())
    for key_of in tests:
        wanted = key_of(data_type)
        for key in keys:
            if key_of(key) == wanted:
                return key, tuple(enums[key])
    return None


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        return None


def _map(data_type: str, dialect: Dialect, enums: Mapping[str, Sequence[str]]) -> ModelType:
    text = data_type.strip()
    array = _ARRAY_SUFFIX_RE.search(text)
    if array and text[: array.start()].strip():
        return ModelType("array", item=_map(text[: array.start()], dialect, enums))
    found = _enum_lookup(text, enums)
    if found is not None:
        return ModelType("enum", values=found[1], name=found[0])
    inline = _INLINE_ENUM_RE.match(text)
    if inline:
        enum = ModelType("enum", values=_parse_quoted_values(inline.group(2)))
        if inline.group(1).lower() == "set":
            return ModelType("array", item=enum, note="MySQL SET: a comma-separated list of the values in SQL")
        return enum
    if dialect != "postgresql" and _TINYINT1_RE.match(text):
        return ModelType("boolean")
    if text == '"char"':
        return ModelType("string", max_length=1)
    if text.lower() == "bpchar":
        return ModelType("string")
    if not text:
        if dialect == "sqlite":
            return ModelType("string", note="no declared type: SQLite accepts any value")
        return _unmapped(data_type)

    match = _CANONICAL_RE.match(normalize_type(text))
    if match is None:
        return _unmapped(data_type)
    base = match.group("base").strip()
    params = tuple(p.strip() for p in (match.group("params") or "").split(",") if p.strip())
    unsigned = bool(match.group("unsigned")) and dialect != "sqlite"
    first = _int(params[0]) if params else None

    if base in _INT_BITS:
        bits = 64 if dialect == "sqlite" and base == "integer" else _INT_BITS[base]
        return ModelType("integer", bits=bits, unsigned=unsigned)
    if base == "oid":
        return ModelType("integer", bits=32, unsigned=True)
    if base == "year":
        return ModelType("integer", bits=16, unsigned=True, note="MySQL YEAR: 1901-2155, or 0")
    if base == "numeric":
        if not params:
            return ModelType("decimal", unsigned=unsigned)
        precision, scale = first, _int(params[1]) if len(params) > 1 else 0
        if precision is None or scale is None:
            return ModelType("decimal", unsigned=unsigned, note=f"unreadable precision in {data_type.strip()!r}")
        return ModelType("decimal", precision=precision, scale=scale, unsigned=unsigned)
    if base in ("real", "double precision"):
        bits = 64 if dialect == "sqlite" or base == "double precision" else 32
        return ModelType("float", bits=bits, unsigned=unsigned)
    if base == "boolean":
        return ModelType("boolean")
    if base in ("char", "varchar"):
        return ModelType("string", max_length=first)
    if base in _TEXT_TYPES:
        return ModelType("string")
    if base in ("binary", "varbinary"):
        return ModelType("binary", max_length=first)
    if base in _BLOB_TYPES:
        return ModelType("binary")
    if base == "date":
        return ModelType("date")
    if base in ("timestamp", "datetime", "timestamptz"):
        precision = first if params else (0 if dialect == "mysql" else None)
        return ModelType("datetime", precision=precision, timezone=base == "timestamptz")
    if base in ("time", "timetz"):
        precision = first if params else (0 if dialect == "mysql" else None)
        note = "MySQL TIME is a duration: -838:59:59 to 838:59:59" if dialect == "mysql" else None
        return ModelType("time", precision=precision, timezone=base == "timetz", note=note)
    if base in ("json", "jsonb"):
        return ModelType("json")
    if base == "uuid":
        return ModelType("uuid")
    if base == "bit":
        width = first if first is not None else 1
        if dialect == "postgresql":
            return ModelType("string", max_length=width, note="bit string of 0 and 1")
        if width == 1:
            return ModelType("boolean")
        return ModelType("integer", bits=width, unsigned=True)
    if base in _TEXT_NOTES:
        return ModelType("string", max_length=first if base == "varbit" else None, note=_TEXT_NOTES[base])
    if dialect == "sqlite":
        return _sqlite_affinity(base, first, data_type)
    return _unmapped(data_type)


def _sqlite_affinity(base: str, length: int | None, data_type: str) -> ModelType:
    """SQLite's rules for a declared type it does not know (https://sqlite.org/datatype3.html, 3.1)."""
    upper = base.upper()
    if "INT" in upper:
        return ModelType("integer", bits=64)
    if any(word in upper for word in ("CHAR", "CLOB", "TEXT")):
        return ModelType("string", max_length=length)
    if "BLOB" in upper:
        return ModelType("binary")
    if any(word in upper for word in ("REAL", "FLOA", "DOUB")):
        return ModelType("float", bits=64)
    if "BOOL" in upper:
        return ModelType("boolean")
    return _unmapped(data_type)


def map_sql_type(
    data_type: str,
    dialect: Dialect,
    enums: Mapping[str, Sequence[str]] = _NO_ENUMS,
) -> ModelType:
    """The `ModelType` of a column type as ``dialect`` reports it; never raises for a type spelling.

    ``enums`` maps PostgreSQL enum type names (as ``format_type`` prints them, schema-qualified or not) to
    their labels in order. An unknown type maps to ``string`` with a ``note``.
    """
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; expected one of {', '.join(DIALECTS)}")
    try:
        return _map(data_type, dialect, enums)
    except (ValueError, IndexError, TypeError, KeyError):
        return _unmapped(str(data_type))


def describe_type(model_type: ModelType, enum_name: str | None = None) -> str:
    """A short, detailed label for diffs: ``Decimal(12,2)``, ``String(120)``, ``Integer(uint64)``, ..."""
    t = model_type
    if t.kind == "integer":
        width = f"{'u' if t.unsigned else ''}int{t.bits}" if t.bits else ("unsigned" if t.unsigned else "")
        return f"Integer({width})" if width else "Integer"
    if t.kind == "decimal":
        label = "Decimal" if t.precision is None else f"Decimal({t.precision},{t.scale or 0})"
        return label + (" unsigned" if t.unsigned else "")
    if t.kind == "float":
        return f"Float(float{t.bits})" if t.bits else "Float"
    if t.kind in ("string", "binary"):
        label = "String" if t.kind == "string" else "Binary"
        return f"{label}({t.max_length})" if t.max_length is not None else label
    if t.kind in ("datetime", "time"):
        label = "DateTime" if t.kind == "datetime" else "Time"
        details = [f"fsp={t.precision}"] if t.precision is not None else []
        if t.timezone:
            details.append("tz")
        return f"{label}({','.join(details)})" if details else label
    if t.kind == "enum":
        return f"{enum_name or 'Enum'}({'|'.join(t.values)})"
    if t.kind == "array":
        item = t.item if t.item is not None else ModelType("string")
        return f"Array<{describe_type(item, enum_name)}>"
    return {"date": "StrictDate", "boolean": "Boolean", "json": "Json", "uuid": "Uuid"}.get(t.kind, t.kind)


# ========================================================================================================
# Identifiers
# ========================================================================================================


def _ascii_char(char: str) -> str:
    if char.isascii():
        return char if char.isalnum() or char == "_" else "_"
    folded = char.casefold()  # ß -> ss
    return folded if folded.isascii() and folded.isalnum() else "_"


def _ascii_fold(text: str) -> str:
    """ASCII letters, digits and ``_`` only: accents dropped (é -> e), ß -> ss, anything else -> ``_``."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(_ascii_char(c) for c in decomposed if not unicodedata.combining(c))


def pure_identifier(text: str, *, style: Literal["camel", "pascal"] = "camel", fallback: str = "field") -> str:
    """A valid PURE identifier for ``text``: camelCase/PascalCase, ASCII, no leading digit, no keyword."""
    cased = camel_case(text) if style == "camel" else pascal_case(text)
    name = _ascii_fold(cased)
    if not name.strip("_"):
        name = fallback
    if name[0].isdigit():
        name = "_" + name
    if name.casefold() in _PURE_RESERVED:
        name += "_"
    return name


def _enum_value_identifier(value: str) -> str:
    name = re.sub(r"_+", "_", _ascii_fold(value)) if not _IDENTIFIER_RE.match(value) else value
    if not name.strip("_"):
        name = "EMPTY" if value == "" else "VALUE"
    if name[0].isdigit():
        name = "_" + name
    if name.casefold() in _PURE_RESERVED:
        name += "_"
    return name


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate = f"{name}{n}"
        n += 1
    taken.add(candidate)
    return candidate


# ========================================================================================================
# Model
# ========================================================================================================


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
    dialect: Dialect = "postgresql"

    @property
    def path(self) -> str:
        return f"{self.package}::{self.name}"

    def property(self, name_or_column: str) -> Property | None:
        """The property with this column name, else with this PURE name."""
        found = next((p for p in self.properties if p.column == name_or_column), None)
        return found or next((p for p in self.properties if p.name == name_or_column), None)

    def enum(self, name: str) -> EnumType | None:
        return next((e for e in self.enums if e.name == name), None)


# ========================================================================================================
# Constraint config
# ========================================================================================================

_NUMERIC_KINDS: Final = frozenset({"integer", "decimal", "float"})
_PURE_STRING_KINDS: Final = frozenset({"string", "json", "uuid", "binary"})


class ConstraintSpec(BaseModel):
    """A constraint requested in configuration.

    ``kind`` decides which other keys apply (any other key is an error):

    * ``predefined``: ``name`` is one of ``notNull``, ``qtyPositive``, ``validTicker``; ``field``;
    * ``range``: ``field`` plus ``min`` and/or ``max``; ``exclusive_min``/``exclusive_max`` make a bound strict;
    * ``pattern``: ``field`` plus ``pattern`` (a regex, used by PURE ``matches`` and JSON Schema ``pattern``);
    * ``not_null``: ``field``;
    * ``one_of``: ``field`` plus ``values``;
    * ``expression``: ``pure_expression`` (a PURE boolean expression over ``$this``), ``field`` optional.

    ``field`` is a column name or a PURE property name.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    kind: ConstraintKind = "predefined"
    field: str | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    exclusive_min: bool = False
    exclusive_max: bool = False
    pattern: str | None = None
    values: tuple[StrictBool | StrictInt | StrictFloat | StrictStr, ...] | None = None
    pure_expression: str | None = None
    description: str | None = None

    @field_validator("name")
    @classmethod
    def _identifier(cls, name: str) -> str:
        if not _CONSTRAINT_NAME_RE.match(name):
            raise ValueError(f"constraint name {name!r} is not an identifier (letters, digits, _; no leading digit)")
        return name

    @field_validator("min", "max")
    @classmethod
    def _finite(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and not value.is_finite():
            raise ValueError("bounds must be finite numbers")
        return value

    @field_validator("pattern")
    @classmethod
    def _regex(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"invalid regular expression {pattern!r}: {error}") from None
        return pattern

    @model_validator(mode="after")
    def _fits_kind(self) -> ConstraintSpec:
        allowed: dict[str, set[str]] = {
            "predefined": set(),
            "range": {"min", "max", "exclusive_min", "exclusive_max"},
            "pattern": {"pattern"},
            "not_null": set(),
            "one_of": {"values"},
            "expression": {"pure_expression"},
        }
        optional = {"min", "max", "exclusive_min", "exclusive_max", "pattern", "values", "pure_expression"}
        extra = sorted(k for k in optional - allowed[self.kind] if k in self.model_fields_set)
        if extra:
            raise ValueError(f"constraint {self.name!r}: {', '.join(extra)} not allowed for kind {self.kind!r}")
        if self.kind != "expression" and not self.field:
            raise ValueError(f"constraint {self.name!r}: kind {self.kind!r} needs a field")
        if self.kind == "predefined" and self.name not in PREDEFINED_CONSTRAINTS:
            raise ValueError(
                f"constraint {self.name!r}: not a predefined constraint ({', '.join(PREDEFINED_CONSTRAINTS)})"
            )
        if self.kind != "predefined" and self.name in PREDEFINED_CONSTRAINTS:
            raise ValueError(f"constraint {self.name!r}: the name is reserved for the predefined constraint")
        if self.kind == "range":
            if self.min is None and self.max is None:
                raise ValueError(f"constraint {self.name!r}: a range needs min and/or max")
            if self.min is not None and self.max is not None:
                empty = self.min > self.max or (self.min == self.max and (self.exclusive_min or self.exclusive_max))
                if empty:
                    raise ValueError(f"constraint {self.name!r}: empty range {self.min}..{self.max}")
        if self.kind == "pattern" and not self.pattern:
            raise ValueError(f"constraint {self.name!r}: kind 'pattern' needs a pattern")
        if self.kind == "one_of" and not self.values:
            raise ValueError(f"constraint {self.name!r}: kind 'one_of' needs at least one value")
        if self.kind == "expression" and not (self.pure_expression or "").strip():
            raise ValueError(f"constraint {self.name!r}: kind 'expression' needs a pure_expression")
        return self


# ========================================================================================================
# Constraint rendering
# ========================================================================================================


def _pure_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\r", "\\r")
    return "'" + escaped.replace("\t", "\\t") + "'"


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
    schema_type = _type_schema(prop.type).get("type")
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
            _merge_keyword(schema, keyword, _json_number(value))
        elif value == 0:
            _merge_keyword(schema, "pattern", _ZERO_PATTERNS[(side, exclusive)])
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
        expression=_guarded(prop, lambda this: f"{this}->matches({_pure_string(pattern)})"),
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
        literals = [_pure_string(str(v)) for v in values]
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


def _from_spec(spec: ConstraintSpec, model: _Draft) -> Constraint:
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


def _normalized(expression: str) -> str:
    return " ".join(expression.split())


def _merge_constraints(candidates: Sequence[Constraint], properties: Sequence[Property]) -> tuple[Constraint, ...]:
    position = {p.column: i for i, p in enumerate(properties)}
    chosen: dict[tuple[str, str], Constraint] = {}
    for c in candidates:
        key = (c.name, _normalized(c.expression))
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
            _normalized(c.expression),
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
        result.append(_replace_label(c, _unique(label, taken)))
    return tuple(result)


def _replace_label(c: Constraint, label: str) -> Constraint:
    return Constraint(c.name, c.expression, c.json_schema, c.description, c.origin, c.field, label)


# ========================================================================================================
# build_model
# ========================================================================================================


@dataclass
class _Draft:
    table: str
    package: str
    properties: list[Property]
    enums: dict[str, EnumType]

    def find(self, name: str) -> Property | None:
        found = next((p for p in self.properties if p.column == name), None)
        return found or next((p for p in self.properties if p.name == name), None)


def _check_package(package: str) -> None:
    segments = package.split("::")
    if not package or not all(_IDENTIFIER_RE.match(s) for s in segments):
        raise ValueError(f"invalid PURE package {package!r}: expected identifiers joined by '::', e.g. 'model::shop'")


def _enum_of(model_type: ModelType) -> ModelType | None:
    if model_type.kind == "enum":
        return model_type
    if model_type.kind == "array" and model_type.item is not None:
        return _enum_of(model_type.item)
    return None


def build_model(
    table: Table,
    *,
    dialect: Dialect,
    package: str,
    constraints: Sequence[ConstraintSpec] = (),
    enums: Mapping[str, Sequence[str]] = _NO_ENUMS,
    source: str = "",
) -> DataModel:
    """The model of ``table``: properties from its columns, enums, and the merged constraints.

    Raises ValueError for an invalid package, or a constraint spec that names an unknown field or does not
    fit the field's type (the message names the constraint and the field).
    """
    _check_package(package)
    class_name = pure_identifier(table.entity_name or table.name, style="pascal", fallback="Model")
    taken: set[str] = set()
    properties: list[Property] = []
    for index, column in enumerate(table.columns, start=1):
        name = _unique(pure_identifier(column.name, fallback=f"column{index}"), taken)
        properties.append(
            Property(
                name=name,
                column=column.name,
                type=map_sql_type(column.data_type, dialect, enums),
                required=not column.nullable,
                description=column.comment or None,
                sql_type=column.data_type,
            )
        )

    enum_types: dict[str, EnumType] = {}
    by_key: dict[tuple[str | None, tuple[str, ...], str], str] = {}
    type_names: set[str] = {class_name}
    for i, prop in enumerate(properties):
        enum = _enum_of(prop.type)
        if enum is None:
            continue
        if enum.name is not None:
            key: tuple[str | None, tuple[str, ...], str] = (enum.name, enum.values, "")
            base = pure_identifier(enum.name.replace('"', "").rsplit(".", 1)[-1], style="pascal", fallback="Enum")
        else:
            key = (None, enum.values, prop.column)
            base = class_name + pure_identifier(prop.column, style="pascal", fallback=f"Column{i + 1}")
        if key not in by_key:
            enum_name = _unique(base, type_names)
            by_key[key] = enum_name
            idents: set[str] = set()
            identifiers = tuple(_unique(_enum_value_identifier(v), idents) for v in enum.values)
            enum_types[enum_name] = EnumType(enum_name, enum.values, identifiers, enum.name)
        properties[i] = Property(
            prop.name, prop.column, prop.type, prop.required, prop.description, prop.sql_type, by_key[key]
        )

    draft = _Draft(table.qualified_name, package, properties, enum_types)
    candidates = [not_null(p, origin="model") for p in properties if p.required and p.type.kind != "array"]
    candidates.extend(_from_spec(spec, draft) for spec in constraints)
    return DataModel(
        name=class_name,
        package=package,
        source=source,
        table=table.qualified_name,
        properties=tuple(properties),
        primary_key=tuple(table.primary_key),
        constraints=_merge_constraints(candidates, properties),
        enums=tuple(enum_types.values()),
        description=table.comment or None,
        dialect=dialect,
    )


# ========================================================================================================
# JSON Schema
# ========================================================================================================


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


def _type_schema(t: ModelType) -> dict[str, Any]:
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
        schema = {"type": "array", "items": _type_schema(t.item if t.item is not None else ModelType("string"))}
    elif t.kind == "enum":
        schema = {"type": "string", "enum": list(t.values)}
    else:  # pragma: no cover - every kind is handled above
        schema = {}
    if t.note:
        schema["$comment"] = t.note
    return schema


def _property_schema(prop: Property) -> dict[str, Any]:
    schema = _type_schema(prop.type)
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


def _merge_keyword(target: dict[str, Any], key: str, value: Any) -> None:
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
                        _merge_keyword(properties[column], keyword, sub)
            elif key == "$comment":
                comments.append(value)
            else:
                _merge_keyword(schema, key, value)
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


# ========================================================================================================
# PURE
# ========================================================================================================

_PURE_TYPES: Final[dict[str, str]] = {
    "integer": "Integer",
    "decimal": "Decimal",
    "float": "Float",
    "string": "String",
    "date": "StrictDate",
    "datetime": "DateTime",
    "time": "StrictTime",
    "boolean": "Boolean",
    "json": "String",
    "uuid": "String",
    "binary": "String",
}
_KIND_NOTES: Final[dict[str, str]] = {
    "json": "JSON document as text",
    "uuid": "UUID as text",
    "binary": "binary data, base64-encoded",
}


def pure_type(prop: Property, package: str) -> str:
    """The PURE type and multiplicity of a property, e.g. ``Decimal[1]``, ``String[*]``."""
    t = prop.type
    multiplicity = "[1]" if prop.required else "[0..1]"
    if t.kind == "array":
        multiplicity = "[*]"
        t = t.item if t.item is not None else ModelType("string")
    if t.kind == "enum":
        return f"{package}::{prop.enum}{multiplicity}"
    return _PURE_TYPES.get(t.kind, "String") + multiplicity


def _is_lossy(t: ModelType) -> bool:
    if t.kind == "array":
        return t.item is None or _is_lossy(t.item)
    if t.kind in ("decimal", "json", "uuid", "binary", "datetime", "time"):
        return True
    if t.kind in ("string", "integer", "float"):
        return t.max_length is not None or t.unsigned or (t.kind == "float" and t.bits == 32)
    return False


def _notes(t: ModelType) -> list[str]:
    notes = [t.note] if t.note else []
    if t.kind == "array" and t.item is not None:
        notes.extend(_notes(t.item))
    elif t.kind in _KIND_NOTES:
        notes.append(_KIND_NOTES[t.kind])
    return notes


def _tagged(docs: Sequence[str]) -> str:
    if not docs:
        return ""
    return "{" + ", ".join(f"{_DOC_TAG} = {_pure_string(d)}" for d in docs) + "} "


def _property_docs(prop: Property) -> list[str]:
    docs: list[str] = []
    if prop.description:
        docs.append(prop.description)
    if snake_case(prop.name) != prop.column:
        docs.append(f"column: {prop.column}")
    if _is_lossy(prop.type):
        docs.append(f"sql: {prop.sql_type}")
    docs.extend(_notes(prop.type))
    return docs


def to_pure(model: DataModel) -> str:
    """Legend PURE text: a header comment, one ``Enum`` block per enum, then the ``Class``."""
    where = f"source {model.source}, " if model.source else ""
    lines = [f"// Generated by ops_pipeline from {model.table} ({where}{model.dialect}). Do not edit by hand.", ""]
    for enum in model.enums:
        lines.append(f"Enum {model.package}::{enum.name}")
        lines.append("{")
        entries = [
            "  " + _tagged([value] if ident != value else []) + ident
            for value, ident in zip(enum.values, enum.identifiers, strict=True)
        ]
        lines.extend(entry + ("," if i < len(entries) - 1 else "") for i, entry in enumerate(entries))
        lines.append("}")
        lines.append("")
    class_docs = [model.description] if model.description else []
    lines.append(f"Class {_tagged(class_docs)}{model.path}")
    if model.constraints:
        lines.append("[")
        lines.extend(
            f"  {c.label}: {c.expression}" + ("," if i < len(model.constraints) - 1 else "")
            for i, c in enumerate(model.constraints)
        )
        lines.append("]")
    lines.append("{")
    for prop in model.properties:
        stereotype = f"<<{_KEY_STEREOTYPE}>> " if prop.column in model.primary_key else ""
        lines.append(f"  {stereotype}{_tagged(_property_docs(prop))}{prop.name}: {pure_type(prop, model.package)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


# ========================================================================================================
# Diff
# ========================================================================================================


def _prop_ref(prop: Property) -> str:
    return prop.name if prop.name == prop.column else f"{prop.name} (column {prop.column})"


def _multiplicity(prop: Property) -> str:
    return "[" + pure_type(prop, "").rsplit("[", 1)[1]


def model_diff(old: DataModel | None, new: DataModel) -> list[str]:
    """Human-readable lines for what changed from ``old`` to ``new`` (``old`` None: everything is new).

    ``+``/``-`` for added/removed properties, enums and constraints, ``~`` for changes. Properties are
    matched by column, enums and constraints by name (the constraint's PURE label).
    """
    lines: list[str] = []
    is_new = old is None
    if old is None:
        lines.append(f"+ class {new.path}")
        old = DataModel(new.name, new.package, new.source, new.table, (), (), (), dialect=new.dialect)
    elif old.path != new.path:
        lines.append(f"~ class {old.path} -> {new.path}")

    old_props = {p.column: p for p in old.properties}
    new_columns = {p.column for p in new.properties}
    for prop in new.properties:
        before = old_props.get(prop.column)
        if before is None:
            lines.append(f"+ property {_prop_ref(prop)}: {pure_type(prop, new.package).split('::')[-1]}")
            continue
        if before.name != prop.name:
            lines.append(f"~ property {_prop_ref(before)} renamed -> {prop.name}")
        old_label = describe_type(before.type, before.enum)
        new_label = describe_type(prop.type, prop.enum)
        if old_label != new_label:
            lines.append(f"~ property {_prop_ref(prop)}: {old_label} -> {new_label}")
        elif before.type != prop.type or before.sql_type != prop.sql_type:
            lines.append(f"~ property {_prop_ref(prop)}: sql type {before.sql_type} -> {prop.sql_type}")
        if _multiplicity(before) != _multiplicity(prop):
            lines.append(f"~ property {_prop_ref(prop)}: multiplicity {_multiplicity(before)} -> {_multiplicity(prop)}")
        if (before.description or "") != (prop.description or ""):
            lines.append(f"~ property {_prop_ref(prop)}: description changed")
    lines.extend(f"- property {_prop_ref(p)}" for p in old.properties if p.column not in new_columns)

    if old.primary_key != new.primary_key and not is_new:
        lines.append(f"~ primary key ({', '.join(old.primary_key)}) -> ({', '.join(new.primary_key)})")

    old_enums = {e.name: e for e in old.enums}
    new_enum_names = {e.name for e in new.enums}
    for enum in new.enums:
        previous = old_enums.get(enum.name)
        if previous is None:
            lines.append(f"+ enum {enum.name}: {'|'.join(enum.values)}")
        elif previous.values != enum.values:
            lines.append(f"~ enum {enum.name}: {'|'.join(previous.values)} -> {'|'.join(enum.values)}")
    lines.extend(f"- enum {e.name}" for e in old.enums if e.name not in new_enum_names)

    old_constraints = {c.label: c for c in old.constraints}
    new_labels = {c.label for c in new.constraints}
    for c in new.constraints:
        previous_c = old_constraints.get(c.label)
        if previous_c is None:
            lines.append(f"+ constraint {c.label}: {c.expression}")
        elif _normalized(previous_c.expression) != _normalized(c.expression):
            lines.append(f"~ constraint {c.label}: {previous_c.expression} -> {c.expression}")
    lines.extend(f"- constraint {c.label}" for c in old.constraints if c.label not in new_labels)
    return lines
