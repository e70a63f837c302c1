"""SQL column types -> `ModelType`.

`map_sql_type` turns a column type, spelled as the database reports it (PostgreSQL ``format_type``,
MySQL ``COLUMN_TYPE``, SQLite declared types), into a `ModelType`. Precision is kept: ``numeric(12,2)``
is ``decimal`` with precision 12 and scale 2 (never a float), ``varchar(120)`` keeps its length,
timestamps keep their time zone flag and fractional-second digits, integers their width and sign.
PostgreSQL user enum types are recognised by name from the ``enums`` mapping; MySQL ``enum(...)`` is read
inline and ``set(...)`` becomes an array of an enum. A type nobody knows maps to ``string`` with a ``note``;
the mapping never raises for a type spelling.

Where databases read one spelling differently, the database says how through its `TypeRules` (declared by
each database under ``ops_pipeline.sources``; this module names none): whether ``tinyint(1)`` and ``bit(1)``
are booleans (MySQL reports ``BOOLEAN`` so), how wide ``INTEGER`` and ``REAL`` are, whether ``unsigned``
means anything, the fractional-second digits of a bare ``timestamp``, and whether an unknown declaration falls
back to affinity rules (SQLite does not enforce declared types: lengths and precision are kept as the
declaration's intent and unrecognised declarations follow https://sqlite.org/datatype3.html, 3.1).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

from ops_pipeline.core.sql_types import normalize_type

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

NO_ENUMS: Final[Mapping[str, Sequence[str]]] = MappingProxyType({})


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


@dataclass(frozen=True)
class TypeRules:
    """How one database reads the type spellings that databases disagree on.

    ``label`` names the database in generated models' headers. ``tinyint1_is_boolean``: ``tinyint(1)`` is a
    boolean (how MySQL reports ``BOOLEAN``). ``integer_bits`` is the width of ``integer`` (``int``, ``int4``),
    ``real_bits`` the width of ``real`` (``float4``, a bare MySQL ``float``). ``unsigned``: the word makes a
    type unsigned (SQLite ignores it).
    ``default_fraction_digits`` is the fractional-second precision of a ``timestamp``/``time`` spelled without
    one (None: unknown). ``bit_string``: ``bit(n)`` is a string of n 0/1 characters; otherwise ``bit(1)`` is
    a boolean and ``bit(n)`` an n-bit unsigned integer. ``affinity``: declared types are affinities, so an
    unknown declaration falls back to the affinity rules. ``untyped_note``: a column without a declared type
    holds any value, as this note says (None: such a column is unmapped).
    """

    label: str
    tinyint1_is_boolean: bool = False
    integer_bits: int = 32
    real_bits: int = 32
    unsigned: bool = True
    default_fraction_digits: int | None = None
    time_note: str | None = None
    bit_string: bool = False
    affinity: bool = False
    untyped_note: str | None = None


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


def _map(data_type: str, rules: TypeRules, enums: Mapping[str, Sequence[str]]) -> ModelType:
    text = data_type.strip()
    array = _ARRAY_SUFFIX_RE.search(text)
    if array and text[: array.start()].strip():
        return ModelType("array", item=_map(text[: array.start()], rules, enums))
    found = _enum_lookup(text, enums)
    if found is not None:
        return ModelType("enum", values=found[1], name=found[0])
    inline = _INLINE_ENUM_RE.match(text)
    if inline:
        enum = ModelType("enum", values=_parse_quoted_values(inline.group(2)))
        if inline.group(1).lower() == "set":
            return ModelType("array", item=enum, note="MySQL SET: a comma-separated list of the values in SQL")
        return enum
    if rules.tinyint1_is_boolean and _TINYINT1_RE.match(text):
        return ModelType("boolean")
    if text == '"char"':
        return ModelType("string", max_length=1)
    if text.lower() == "bpchar":
        return ModelType("string")
    if not text:
        return ModelType("string", note=rules.untyped_note) if rules.untyped_note else _unmapped(data_type)

    match = _CANONICAL_RE.match(normalize_type(text))
    if match is None:
        return _unmapped(data_type)
    base = match.group("base").strip()
    params = tuple(p.strip() for p in (match.group("params") or "").split(",") if p.strip())
    unsigned = bool(match.group("unsigned")) and rules.unsigned
    return _map_base(base, params, unsigned, data_type, rules)


def _map_base(base: str, params: tuple[str, ...], unsigned: bool, data_type: str, rules: TypeRules) -> ModelType:
    first = _int(params[0]) if params else None
    if base in _INT_BITS:
        bits = rules.integer_bits if base == "integer" else _INT_BITS[base]
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
        return ModelType("float", bits=64 if base == "double precision" else rules.real_bits, unsigned=unsigned)
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
        precision = first if params else rules.default_fraction_digits
        return ModelType("datetime", precision=precision, timezone=base == "timestamptz")
    if base in ("time", "timetz"):
        precision = first if params else rules.default_fraction_digits
        return ModelType("time", precision=precision, timezone=base == "timetz", note=rules.time_note)
    if base in ("json", "jsonb"):
        return ModelType("json")
    if base == "uuid":
        return ModelType("uuid")
    if base == "bit":
        return _bit(first if first is not None else 1, rules)
    if base in _TEXT_NOTES:
        return ModelType("string", max_length=first if base == "varbit" else None, note=_TEXT_NOTES[base])
    if rules.affinity:
        return _affinity(base, first, data_type)
    return _unmapped(data_type)


def _bit(width: int, rules: TypeRules) -> ModelType:
    if rules.bit_string:
        return ModelType("string", max_length=width, note="bit string of 0 and 1")
    if width == 1:
        return ModelType("boolean")
    return ModelType("integer", bits=width, unsigned=True)


def _affinity(base: str, length: int | None, data_type: str) -> ModelType:
    """The affinity rules for a declared type nobody knows (https://sqlite.org/datatype3.html, 3.1)."""
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
    rules: TypeRules,
    enums: Mapping[str, Sequence[str]] = NO_ENUMS,
) -> ModelType:
    """The `ModelType` of a column type as the database with these `rules` reports it; never raises for a type
    spelling.

    ``enums`` maps PostgreSQL enum type names (as ``format_type`` prints them, schema-qualified or not) to
    their labels in order. An unknown type maps to ``string`` with a ``note``.
    """
    if not isinstance(rules, TypeRules):
        raise ValueError(f"unknown dialect {rules!r}; pass the database's TypeRules (database_for(type).type_rules)")
    try:
        return _map(data_type, rules, enums)
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
