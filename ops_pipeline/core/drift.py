"""Schema drift: what changed between the previous completed scan of a source and the new one.

`diff_catalogs` compares two `Catalog` scans and returns one `SchemaChange` per difference, each classified
as ``compatible`` or ``breaking``. `next_version` moves the catalog version the way OpenMetadata moves an
entity version: compatible changes bump the minor number, any breaking change bumps the major number.

Matching
    Tables are matched by ``qualified_name``, columns by name. Foreign keys, unique constraints and indexes
    are matched by their content (columns and target), never by name, so renaming a constraint or an index
    without changing what it covers is not a change. A renamed table or column shows up as a removal plus
    an addition. Row counts, comments and entity names are not part of the schema and are ignored.

Classification rules
    ============================  ===========================================================
    kind                          classification
    ============================  ===========================================================
    table_added                   compatible
    table_removed                 breaking
    column_added                  compatible if nullable or it has a default; breaking when it is
                                  NOT NULL without a default (existing writers start failing)
    column_removed                breaking
    column_type_changed           compatible only for a widening (see `is_widening`), else breaking
    column_nullability_changed    NOT NULL -> nullable compatible; nullable -> NOT NULL breaking
    column_default_changed        compatible
    primary_key_changed           breaking (also when a key is added or dropped)
    foreign_key_added             breaking (existing rows or writers may violate it)
    foreign_key_removed           compatible
    unique_added                  breaking
    unique_removed                breaking (readers may rely on the uniqueness)
    index_added / index_removed   compatible; breaking for a unique index (it constrains writers)
    table_kind_changed            breaking (e.g. table <-> view)
    ============================  ===========================================================

Two type spellings that normalize to the same type (case, spacing, aliases such as ``int4``/``integer``,
``character varying``/``varchar``, MySQL integer display widths) are not a change at all.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeVar

from ops_pipeline.core.catalog import Catalog, ForeignKey, Index, Table, UniqueConstraint

Classification = Literal["compatible", "breaking"]
COMPATIBLE: Final = "compatible"
BREAKING: Final = "breaking"

TABLE_ADDED: Final = "table_added"
TABLE_REMOVED: Final = "table_removed"
COLUMN_ADDED: Final = "column_added"
COLUMN_REMOVED: Final = "column_removed"
COLUMN_TYPE_CHANGED: Final = "column_type_changed"
COLUMN_NULLABILITY_CHANGED: Final = "column_nullability_changed"
COLUMN_DEFAULT_CHANGED: Final = "column_default_changed"
PRIMARY_KEY_CHANGED: Final = "primary_key_changed"
FOREIGN_KEY_ADDED: Final = "foreign_key_added"
FOREIGN_KEY_REMOVED: Final = "foreign_key_removed"
UNIQUE_ADDED: Final = "unique_added"
UNIQUE_REMOVED: Final = "unique_removed"
INDEX_ADDED: Final = "index_added"
INDEX_REMOVED: Final = "index_removed"
TABLE_KIND_CHANGED: Final = "table_kind_changed"

CHANGE_KINDS: Final[tuple[str, ...]] = (
    TABLE_ADDED,
    TABLE_REMOVED,
    COLUMN_ADDED,
    COLUMN_REMOVED,
    COLUMN_TYPE_CHANGED,
    COLUMN_NULLABILITY_CHANGED,
    COLUMN_DEFAULT_CHANGED,
    PRIMARY_KEY_CHANGED,
    FOREIGN_KEY_ADDED,
    FOREIGN_KEY_REMOVED,
    UNIQUE_ADDED,
    UNIQUE_REMOVED,
    INDEX_ADDED,
    INDEX_REMOVED,
    TABLE_KIND_CHANGED,
)


@dataclass(frozen=True)
class SchemaChange:
    """One difference between two scans of the same source."""

    kind: str
    object_name: str
    before: str | None
    after: str | None
    classification: Classification
    description: str

    @property
    def breaking(self) -> bool:
        return self.classification == BREAKING


# --------------------------------------------------------------------------------------------------------
# Types: normalization and widening
# --------------------------------------------------------------------------------------------------------

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
class _ParsedType:
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


def _parse_type(data_type: str) -> _ParsedType:
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
    return _ParsedType(base=base, params=params, unsigned=unsigned, raw=data_type)


def normalize_type(data_type: str) -> str:
    """Canonical spelling of a column type: lower case, single spaces, aliases resolved.

    >>> normalize_type("Character Varying ( 20 )")
    'varchar(20)'
    """
    return _parse_type(data_type).canonical


def _int_param(params: tuple[str, ...], index: int) -> int | None:
    if len(params) <= index:
        return None
    try:
        return int(params[index])
    except ValueError:
        return None


def _widens(a: _ParsedType, b: _ParsedType) -> bool:
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
    a, b = _parse_type(before), _parse_type(after)
    if a.canonical == b.canonical:
        return False
    return _widens(a, b)


def same_type(before: str, after: str) -> bool:
    """True when two type spellings denote the same type (no change)."""
    return normalize_type(before) == normalize_type(after)


# --------------------------------------------------------------------------------------------------------
# Diff
# --------------------------------------------------------------------------------------------------------


def _qualified(schema: str, table: str) -> str:
    return f"{schema}.{table}" if schema else table


def _cols(columns: Iterable[str]) -> str:
    return "(" + ", ".join(columns) + ")"


def _fk_key(fk: ForeignKey) -> tuple[tuple[tuple[str, str], ...], str, str]:
    return tuple(sorted(zip(fk.columns, fk.target_columns, strict=False))), fk.target_schema, fk.target_table


def _fk_text(fk: ForeignKey) -> str:
    return f"{_cols(fk.columns)} -> {_qualified(fk.target_schema, fk.target_table)}{_cols(fk.target_columns)}"


def _unique_key(uc: UniqueConstraint) -> tuple[str, ...]:
    return tuple(sorted(uc.columns))


def _index_key(ix: Index) -> tuple[tuple[str, ...], bool]:
    return tuple(ix.columns), ix.unique


def _index_text(ix: Index) -> str:
    return ("unique " if ix.unique else "") + _cols(ix.columns)


def _norm_default(default: str | None) -> str | None:
    if default is None:
        return None
    text = default.strip()
    return None if text == "" or text.upper() == "NULL" else text


def _change(
    kind: str,
    object_name: str,
    before: str | None,
    after: str | None,
    classification: Classification,
    description: str,
) -> SchemaChange:
    return SchemaChange(kind, object_name, before, after, classification, description)


_Item = TypeVar("_Item", ForeignKey, UniqueConstraint, Index)


def _diff_multiset(
    table: str,
    previous: Sequence[_Item],
    current: Sequence[_Item],
    key: Callable[[_Item], Hashable],
    text: Callable[[_Item], str],
    label: str,
    added: tuple[str, Classification],
    removed: tuple[str, Classification],
) -> list[SchemaChange]:
    """Content-matched add/remove diff of constraints or indexes (names are ignored)."""
    before_by_key: dict[Hashable, list[_Item]] = {}
    after_by_key: dict[Hashable, list[_Item]] = {}
    for item in previous:
        before_by_key.setdefault(key(item), []).append(item)
    for item in current:
        after_by_key.setdefault(key(item), []).append(item)
    before_counts = Counter({k: len(v) for k, v in before_by_key.items()})
    after_counts = Counter({k: len(v) for k, v in after_by_key.items()})
    changes: list[SchemaChange] = []
    for k, count in (after_counts - before_counts).items():
        for item in after_by_key[k][-count:]:
            desc = text(item)
            changes.append(
                _change(added[0], table, None, desc, added[1], f"{label} {item.name} {desc} added on {table}")
            )
    for k, count in (before_counts - after_counts).items():
        for item in before_by_key[k][-count:]:
            desc = text(item)
            changes.append(
                _change(
                    removed[0],
                    table,
                    desc,
                    None,
                    removed[1],
                    f"{label} {item.name} {desc} removed from {table}",
                )
            )
    return changes


def _diff_columns(table: str, previous: Table, current: Table) -> list[SchemaChange]:
    changes: list[SchemaChange] = []
    before_cols = {c.name: c for c in previous.columns}
    after_cols = {c.name: c for c in current.columns}
    for name, col in after_cols.items():
        if name in before_cols:
            continue
        obj = f"{table}.{name}"
        default = _norm_default(col.default)
        if col.nullable or default is not None:
            detail = col.data_type + ("" if col.nullable else " NOT NULL")
            if default is not None:
                detail += f", default {default}"
            changes.append(
                _change(COLUMN_ADDED, obj, None, col.data_type, COMPATIBLE, f"column {obj} added ({detail})")
            )
        else:
            why = f"column {obj} added as {col.data_type} NOT NULL without a default (existing writers fail)"
            changes.append(_change(COLUMN_ADDED, obj, None, col.data_type, BREAKING, why))
    for name, col in before_cols.items():
        if name not in after_cols:
            obj = f"{table}.{name}"
            changes.append(
                _change(
                    COLUMN_REMOVED,
                    obj,
                    col.data_type,
                    None,
                    BREAKING,
                    f"column {obj} removed (was {col.data_type})",
                )
            )
    for name, old in before_cols.items():
        new = after_cols.get(name)
        if new is None:
            continue
        obj = f"{table}.{name}"
        if not same_type(old.data_type, new.data_type):
            widening = is_widening(old.data_type, new.data_type)
            changes.append(
                _change(
                    COLUMN_TYPE_CHANGED,
                    obj,
                    old.data_type,
                    new.data_type,
                    COMPATIBLE if widening else BREAKING,
                    f"column {obj} type changed {old.data_type} -> {new.data_type} "
                    + ("(widening)" if widening else "(not a widening)"),
                )
            )
        if old.nullable != new.nullable:
            if new.nullable:
                changes.append(
                    _change(
                        COLUMN_NULLABILITY_CHANGED,
                        obj,
                        "not null",
                        "nullable",
                        COMPATIBLE,
                        f"column {obj} became nullable (was NOT NULL)",
                    )
                )
            else:
                changes.append(
                    _change(
                        COLUMN_NULLABILITY_CHANGED,
                        obj,
                        "nullable",
                        "not null",
                        BREAKING,
                        f"column {obj} became NOT NULL (writers of NULL fail)",
                    )
                )
        old_default, new_default = _norm_default(old.default), _norm_default(new.default)
        if old_default != new_default:
            changes.append(
                _change(
                    COLUMN_DEFAULT_CHANGED,
                    obj,
                    old_default,
                    new_default,
                    COMPATIBLE,
                    f"column {obj} default changed {old_default or 'none'} -> {new_default or 'none'}",
                )
            )
    return changes


def _diff_table(previous: Table, current: Table) -> list[SchemaChange]:
    table = current.qualified_name
    changes: list[SchemaChange] = []
    if previous.kind != current.kind:
        changes.append(
            _change(
                TABLE_KIND_CHANGED,
                table,
                previous.kind,
                current.kind,
                BREAKING,
                f"{table} changed from {previous.kind} to {current.kind}",
            )
        )
    changes.extend(_diff_columns(table, previous, current))
    if tuple(previous.primary_key) != tuple(current.primary_key):
        before = _cols(previous.primary_key) if previous.primary_key else None
        after = _cols(current.primary_key) if current.primary_key else None
        changes.append(
            _change(
                PRIMARY_KEY_CHANGED,
                table,
                before,
                after,
                BREAKING,
                f"primary key of {table} changed {before or 'none'} -> {after or 'none'}",
            )
        )
    changes.extend(
        _diff_multiset(
            table,
            previous.foreign_keys,
            current.foreign_keys,
            _fk_key,
            _fk_text,
            "foreign key",
            (FOREIGN_KEY_ADDED, BREAKING),
            (FOREIGN_KEY_REMOVED, COMPATIBLE),
        )
    )
    changes.extend(
        _diff_multiset(
            table,
            previous.unique_constraints,
            current.unique_constraints,
            _unique_key,
            lambda uc: _cols(uc.columns),
            "unique constraint",
            (UNIQUE_ADDED, BREAKING),
            (UNIQUE_REMOVED, BREAKING),
        )
    )
    # A unique index constrains writers exactly as a unique constraint does, so it is graded like one.
    grades: tuple[tuple[bool, Classification], ...] = ((False, COMPATIBLE), (True, BREAKING))
    for unique, grade in grades:
        changes.extend(
            _diff_multiset(
                table,
                [i for i in previous.indexes if i.unique == unique],
                [i for i in current.indexes if i.unique == unique],
                _index_key,
                _index_text,
                "index",
                (INDEX_ADDED, grade),
                (INDEX_REMOVED, grade),
            )
        )
    return changes


def _sort_key(change: SchemaChange) -> tuple[str, str, str, str, str]:
    return (change.object_name, change.kind, change.before or "", change.after or "", change.description)


def diff_catalogs(previous: Catalog | None, current: Catalog) -> list[SchemaChange]:
    """Every schema change from ``previous`` to ``current``, ordered by object name, then kind.

    ``previous`` is None for the first scan of a source: nothing to compare, so no changes.
    """
    if previous is None:
        return []
    before_tables = {t.qualified_name: t for t in previous.tables}
    after_tables = {t.qualified_name: t for t in current.tables}
    changes: list[SchemaChange] = []
    for name, table in after_tables.items():
        old = before_tables.get(name)
        if old is None:
            kind = "" if table.kind == "table" else f" ({table.kind})"
            changes.append(
                _change(
                    TABLE_ADDED,
                    name,
                    None,
                    table.kind,
                    COMPATIBLE,
                    f"table {name}{kind} added with {len(table.columns)} columns",
                )
            )
        else:
            changes.extend(_diff_table(old, table))
    for name, table in before_tables.items():
        if name not in after_tables:
            what = f"table {name}" + ("" if table.kind == "table" else f" ({table.kind})")
            changes.append(_change(TABLE_REMOVED, name, table.kind, None, BREAKING, f"{what} removed"))
    return sorted(changes, key=_sort_key)


# --------------------------------------------------------------------------------------------------------
# Versioning
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class CatalogVersion:
    """OpenMetadata-style ``major.minor`` version of a source's catalog."""

    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    @classmethod
    def parse(cls, text: str) -> CatalogVersion:
        """``"1.2"`` -> ``CatalogVersion(1, 2)``; raises ValueError for anything else."""
        match = re.fullmatch(r"\s*(\d+)\.(\d+)\s*", text)
        if not match:
            raise ValueError(f"not a catalog version: {text!r} (expected 'major.minor', e.g. '0.1')")
        return cls(int(match.group(1)), int(match.group(2)))


INITIAL_VERSION: Final = CatalogVersion(0, 1)


def next_version(previous: CatalogVersion | None, changes: Sequence[SchemaChange]) -> CatalogVersion:
    """The version after applying ``changes``.

    No previous version (first scan) -> 0.1; no changes -> unchanged; only compatible changes -> minor + 1
    (0.1 -> 0.2); any breaking change -> major + 1 keeping the minor (0.2 -> 1.2), as OpenMetadata does.
    """
    if previous is None:
        return INITIAL_VERSION
    if not changes:
        return previous
    if any(c.classification == BREAKING for c in changes):
        return CatalogVersion(previous.major + 1, previous.minor)
    return CatalogVersion(previous.major, previous.minor + 1)


# --------------------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------------------


def drift_summary(changes: Sequence[SchemaChange]) -> dict[str, Any]:
    """Counts for metadata: ``{"total", "compatible", "breaking", "by_kind": {kind: n}}`` (kinds sorted)."""
    by_kind = Counter(c.kind for c in changes)
    return {
        "total": len(changes),
        "compatible": sum(1 for c in changes if c.classification == COMPATIBLE),
        "breaking": sum(1 for c in changes if c.classification == BREAKING),
        "by_kind": {kind: by_kind[kind] for kind in sorted(by_kind)},
    }


def _md_cell(value: str | None) -> str:
    if value is None or value == "":
        return "—"
    return " ".join(value.split()).replace("|", "\\|")


def changes_markdown(changes: Sequence[SchemaChange], limit: int = 50) -> str:
    """A markdown table ``classification | kind | object | before | after`` of the first ``limit`` changes.

    Rows keep the given order; when truncated a final line says ``… and N more``.
    """
    if not changes:
        return "No schema changes."
    shown = list(changes[: max(limit, 0)])
    lines: list[str] = []
    if shown:
        lines.append("| classification | kind | object | before | after |")
        lines.append("|---|---|---|---|---|")
        for c in shown:
            cells = (c.classification, c.kind, c.object_name, c.before, c.after)
            lines.append("| " + " | ".join(_md_cell(v) for v in cells) + " |")
    remaining = len(changes) - len(shown)
    if remaining > 0:
        if lines:
            lines.append("")
        lines.append(f"… and {remaining} more")
    return "\n".join(lines)
