"""SQL column types as text: one parser for every dialect's spelling, shared by drift and model generation.

`normalize_type` gives the canonical spelling (lower case, single spaces, aliases resolved: ``int4`` and
``integer``, ``character varying`` and ``varchar``, MySQL integer display widths dropped), so two spellings of
one type compare equal. `is_widening` says whether every value of one type fits another unchanged.
`parse_type` exposes the parsed parts (base, parameters, unsigned) to callers that map types further.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

_BASE_ALIASES: Final[dict[str, str]] = {
    "int1": "tinyint",
    "int2": "smallint",
    "smallserial": "smallint",
    "serial2": "smallint",
    "int3": "mediumint",
    "middleint": "mediumint",
    "int": "integer",
    "int4": "integer",
    "serial": "integer",
    "serial4": "integer",
    "int8": "bigint",
    "bigserial": "bigint",
    "serial8": "bigint",
    "decimal": "numeric",
    "dec": "numeric",
    "fixed": "numeric",
    "float4": "real",
    "float8": "double precision",
    "double": "double precision",
    "character varying": "varchar",
    "char varying": "varchar",
    "national character varying": "varchar",
    "nvarchar": "varchar",
    "varchar2": "varchar",
    "nvarchar2": "varchar",
    "character": "char",
    "national character": "char",
    "nchar": "char",
    "bpchar": "char",
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamptz",
    "time without time zone": "time",
    "time with time zone": "timetz",
    "bool": "boolean",
    "binary varying": "varbinary",
    "bit varying": "varbit",
}

# Integer ladder: rank and the number of decimal digits the type can hold (signed, unsigned).
_INTEGER_RANK: Final[dict[str, int]] = {
    "tinyint": 0,
    "smallint": 1,
    "mediumint": 2,
    "integer": 3,
    "bigint": 4,
}
_INTEGER_DIGITS: Final[dict[str, tuple[int, int]]] = {
    "tinyint": (3, 3),
    "smallint": (5, 5),
    "mediumint": (7, 8),
    "integer": (10, 10),
    "bigint": (19, 20),
}
_FLOAT_RANK: Final[dict[str, int]] = {"real": 0, "double precision": 1}
# Unbounded strings: PostgreSQL `text` and length-less `varchar` are the same capacity.
_TEXT_RANK: Final[dict[str, int]] = {"tinytext": 0, "text": 1, "varchar": 1, "mediumtext": 2, "longtext": 3}
_BLOB_RANK: Final[dict[str, int]] = {"tinyblob": 0, "blob": 1, "bytea": 1, "mediumblob": 2, "longblob": 3}
_BOUNDED_STRINGS: Final = frozenset({"char", "varchar"})
_BOUNDED_BINARIES: Final = frozenset({"binary", "varbinary"})
_TEMPORAL: Final = frozenset({"timestamp", "timestamptz", "time", "timetz", "datetime"})

_PARAMS_RE: Final = re.compile(r"\(([^()]*)\)")
_ENUM_VALUE_RE: Final = re.compile(r"'((?:[^']|'')*)'")


@dataclass(frozen=True)
class ParsedType:
    base: str
    params: tuple[str, ...]
    unsigned: bool
    raw: str

    @property
    def canonical(self) -> str:
        text = self.base
        if self.params and self.base in ("enum", "set"):
            text += "(" + ",".join("'" + v.replace("'", "''") + "'" for v in self.params) + ")"
        elif self.params:
            text += "(" + ",".join(self.params) + ")"
        if self.unsigned:
            text += " unsigned"
        return text


def parse_type(data_type: str) -> ParsedType:
    original = data_type.strip()
    params: tuple[str, ...] = ()
    match = _PARAMS_RE.search(original)
    if match:
        inner = match.group(1)
        if _ENUM_VALUE_RE.search(inner):
            # enum/set values keep their case and order
            params = tuple(v.replace("''", "'") for v in _ENUM_VALUE_RE.findall(inner))
        else:
            params = tuple(p.strip().lower() for p in inner.split(",") if p.strip())
        original = original[: match.start()] + " " + original[match.end() :]
    text = " ".join(original.lower().split())
    words = text.split(" ")
    unsigned = "unsigned" in words
    base = " ".join(w for w in words if w not in ("unsigned", "signed", "zerofill"))
    base = _BASE_ALIASES.get(base, base)
    if base == "float":
        # MySQL FLOAT(p): single precision up to p=24, double above; a bare FLOAT is single precision.
        base = "double precision" if params and params[0].isdigit() and int(params[0]) > 24 else "real"
        params = ()
    if base in _INTEGER_RANK or base in _FLOAT_RANK or base == "boolean":
        params = ()  # MySQL display widths (int(11), tinyint(1)) do not change what the column holds
    if base == "numeric" and len(params) == 1:
        params = (params[0], "0")
    if base == "char" and not params:
        params = ("1",)
    return ParsedType(base=base, params=params, unsigned=unsigned, raw=data_type)


def normalize_type(data_type: str) -> str:
    """Canonical spelling of a column type: lower case, single spaces, aliases resolved.

    >>> normalize_type("Character Varying ( 20 )")
    'varchar(20)'
    """
    return parse_type(data_type).canonical


def _int_param(params: tuple[str, ...], index: int) -> int | None:
    if len(params) <= index:
        return None
    try:
        return int(params[index])
    except ValueError:
        return None


def _widens(a: ParsedType, b: ParsedType) -> bool:
    if a.unsigned and not b.unsigned and a.base in _INTEGER_RANK and b.base in _INTEGER_RANK:
        return _INTEGER_RANK[b.base] > _INTEGER_RANK[a.base]
    if b.unsigned and not a.unsigned:
        return False  # negative values no longer fit

    if a.base in _INTEGER_RANK:
        if b.base in _INTEGER_RANK:
            return _INTEGER_RANK[b.base] > _INTEGER_RANK[a.base]
        if b.base == "numeric":
            if not b.params:
                return True
            precision, scale = _int_param(b.params, 0), _int_param(b.params, 1)
            if precision is None or scale is None:
                return False
            return precision - scale >= _INTEGER_DIGITS[a.base][1 if a.unsigned else 0]
        return False

    if a.base == "numeric" and b.base == "numeric":
        if not b.params:
            return True
        if not a.params:
            return False
        p1, s1 = _int_param(a.params, 0), _int_param(a.params, 1)
        p2, s2 = _int_param(b.params, 0), _int_param(b.params, 1)
        if p1 is None or s1 is None or p2 is None or s2 is None:
            return False
        return s2 >= s1 and p2 - s2 >= p1 - s1

    if a.base in _FLOAT_RANK and b.base in _FLOAT_RANK:
        return _FLOAT_RANK[b.base] > _FLOAT_RANK[a.base]

    for bounded, unbounded, widths in (
        (_BOUNDED_STRINGS, _TEXT_RANK, "varchar"),
        (_BOUNDED_BINARIES, _BLOB_RANK, "varbinary"),
    ):
        a_len = _int_param(a.params, 0) if a.base in bounded else None
        if a_len is not None:
            if b.base == widths and b.params:
                b_len = _int_param(b.params, 0)
                return b_len is not None and b_len >= a_len
            # any unbounded target except the smallest (tinytext/tinyblob) holds a bounded value
            return b.base in unbounded and not b.params and unbounded[b.base] >= 1
        if a.base in unbounded and not a.params:
            return b.base in unbounded and not b.params and unbounded[b.base] >= unbounded[a.base]

    if a.base in _TEMPORAL and a.base == b.base:
        p1, p2 = _int_param(a.params, 0), _int_param(b.params, 0)
        return p1 is not None and p2 is not None and p2 > p1

    if a.base in ("enum", "set") and a.base == b.base:
        return set(a.params) < set(b.params)

    return False


def is_widening(before: str, after: str) -> bool:
    """True when every value of type ``before`` fits ``after`` unchanged (a compatible type change).

    Case-insensitive and tolerant of spaces. Recognized widenings:

    * integer ladder ``tinyint -> smallint/int2 -> mediumint -> integer/int/int4 -> bigint/int8 ->
      numeric/decimal`` (no precision, or a precision with enough integer digits); unsigned -> a larger
      signed integer; signed -> unsigned never widens;
    * ``numeric(p,s) -> numeric(p2,s2)`` with ``s2 >= s`` and ``p2 - s2 >= p - s``; any numeric -> bare
      numeric;
    * ``varchar(n)/character varying(n)/char(n) -> varchar(m)`` with ``m >= n``, or -> unbounded
      ``character varying``/``text``/``mediumtext``/``longtext``; ``tinytext -> text -> mediumtext ->
      longtext`` (the same for ``varbinary`` and the blob ladder);
    * ``real/float4 -> double precision/float8``;
    * a higher fractional-seconds precision of the same temporal type (``timestamp(3) -> timestamp(6)``);
    * ``enum``/``set`` gaining values.

    Not widening: ``timestamp -> timestamp with time zone`` (and any other change of meaning), every
    narrowing, and a type to itself (that is no change at all).
    """
    a, b = parse_type(before), parse_type(after)
    if a.canonical == b.canonical:
        return False
    return _widens(a, b)


def same_type(before: str, after: str) -> bool:
    """True when two type spellings denote the same type (no change)."""
    return normalize_type(before) == normalize_type(after)
