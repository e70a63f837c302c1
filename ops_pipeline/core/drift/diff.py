"""Comparing two scans of one source: one `SchemaChange` per difference, classified by the rules in the
package docstring."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import replace
from typing import TypeVar

from ops_pipeline.core.catalog import DETAIL, Catalog, ForeignKey, Index, Table, UniqueConstraint
from ops_pipeline.core.drift.changes import (
    BREAKING,
    COLUMN_ADDED,
    COLUMN_DEFAULT_CHANGED,
    COLUMN_NULLABILITY_CHANGED,
    COLUMN_REMOVED,
    COLUMN_RENAMED,
    COLUMN_TYPE_CHANGED,
    COMPATIBLE,
    FOREIGN_KEY_ADDED,
    FOREIGN_KEY_REMOVED,
    INDEX_ADDED,
    INDEX_REMOVED,
    PRIMARY_KEY_CHANGED,
    TABLE_ADDED,
    TABLE_KIND_CHANGED,
    TABLE_REMOVED,
    TABLE_RENAMED,
    UNIQUE_ADDED,
    UNIQUE_REMOVED,
    Classification,
    SchemaChange,
)
from ops_pipeline.core.drift.details import detail_changes
from ops_pipeline.core.drift.renames import column_renames, table_renames, with_renames
from ops_pipeline.core.drift.user_types import type_changes
from ops_pipeline.core.sql_types import is_widening, same_type


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


def _index_key(ix: Index) -> tuple[tuple[str, ...], bool, str | None, str | None]:
    return tuple(ix.columns), ix.unique, ix.method, ix.predicate


def _index_text(ix: Index) -> str:
    method = f" using {ix.method}" if ix.method else ""
    predicate = f" where {ix.predicate}" if ix.predicate else ""
    return ("unique " if ix.unique else "") + _cols(ix.columns) + method + predicate


def _without_index_details(table: Table) -> Table:
    """A format-1 definition has no index methods or predicates; compare the other side without them too."""
    return replace(table, indexes=tuple(replace(i, method=None, predicate=None) for i in table.indexes))


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
    detailed = previous.detail >= DETAIL and current.detail >= DETAIL
    if not detailed:
        previous, current = _without_index_details(previous), _without_index_details(current)
    renames = column_renames(previous, current)
    for old, new in sorted(renames.items()):
        changes.append(
            _change(
                COLUMN_RENAMED,
                f"{table}.{new}",
                old,
                new,
                BREAKING,
                f"column {table}.{old} renamed to {new} (readers and writers of {old} fail)",
            )
        )
    previous = with_renames(previous, renames, {})
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
    if detailed:
        changes.extend(detail_changes(previous, current, _fk_key, _fk_text))
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
    renames = table_renames(
        {n: t for n, t in before_tables.items() if n not in after_tables},
        {n: t for n, t in after_tables.items() if n not in before_tables},
    )
    changes: list[SchemaChange] = [
        _change(TABLE_RENAMED, new, old, new, BREAKING, f"table {old} renamed to {new} (consumers of {old} fail)")
        for old, new in renames.items()
    ]
    # Foreign keys that pointed at a renamed table now point at its new name: re-pointed, not removed and added.
    before_tables = {n: with_renames(t, {}, renames) for n, t in before_tables.items() if n not in renames} | {
        new: with_renames(before_tables[old], {}, renames) for old, new in renames.items()
    }
    if previous.types is not None and current.types is not None:
        changes.extend(type_changes(previous.types, current.types))
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
