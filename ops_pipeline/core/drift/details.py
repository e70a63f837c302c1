"""Drift in what a format-2 definition records beyond columns and keys: identity, collation, ON UPDATE, foreign
key actions, checks, exclusions, view definitions and partitions. Compared only when both scans recorded them."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ops_pipeline.core.catalog import Column, ForeignKey, Table
from ops_pipeline.core.drift.changes import (
    BREAKING,
    CHECK_ADDED,
    CHECK_REMOVED,
    COLUMN_COLLATION_CHANGED,
    COLUMN_IDENTITY_CHANGED,
    COLUMN_ON_UPDATE_CHANGED,
    COMPATIBLE,
    EXCLUSION_ADDED,
    EXCLUSION_REMOVED,
    FOREIGN_KEY_ACTION_CHANGED,
    PARTITION_ADDED,
    PARTITION_BOUND_CHANGED,
    PARTITION_KEY_CHANGED,
    PARTITION_REMOVED,
    VIEW_DEFINITION_CHANGED,
    Classification,
    SchemaChange,
    change,
)

FkKey = Callable[[ForeignKey], object]


def detail_changes(
    previous: Table, current: Table, fk_key: FkKey, fk_text: Callable[[ForeignKey], str]
) -> list[SchemaChange]:
    table = current.qualified_name
    return [
        *_column_details(table, previous, current),
        *_foreign_key_actions(table, previous.foreign_keys, current.foreign_keys, fk_key, fk_text),
        *_named_texts(
            table,
            "check",
            {c.name: c.expression for c in previous.checks},
            {c.name: c.expression for c in current.checks},
            (CHECK_ADDED, BREAKING),
            (CHECK_REMOVED, COMPATIBLE),
        ),
        *_named_texts(
            table,
            "exclusion constraint",
            {x.name: x.definition for x in previous.exclusions},
            {x.name: x.definition for x in current.exclusions},
            (EXCLUSION_ADDED, BREAKING),
            (EXCLUSION_REMOVED, COMPATIBLE),
        ),
        *_view_definition(table, previous, current),
        *_partitions(table, previous, current),
    ]


def _column_details(table: str, previous: Table, current: Table) -> list[SchemaChange]:
    before = {c.name: c for c in previous.columns}
    changes: list[SchemaChange] = []
    for new in current.columns:
        old = before.get(new.name)
        if old is not None:
            changes.extend(_column_detail(f"{table}.{new.name}", old, new))
    return changes


def _column_detail(obj: str, old: Column, new: Column) -> list[SchemaChange]:
    changes: list[SchemaChange] = []
    if old.identity != new.identity:
        # Losing a generated value breaks writers that leave the column out; GENERATED ALWAYS rejects writers
        # that set it. Gaining one, or relaxing ALWAYS to BY DEFAULT, breaks no one.
        grade: Classification = BREAKING if new.identity is None or new.identity == "always" else COMPATIBLE
        changes.append(
            change(
                COLUMN_IDENTITY_CHANGED,
                obj,
                old.identity,
                new.identity,
                grade,
                f"column {obj} generated value changed {old.identity or 'none'} -> {new.identity or 'none'}",
            )
        )
    if old.collation != new.collation:
        changes.append(
            change(
                COLUMN_COLLATION_CHANGED,
                obj,
                old.collation,
                new.collation,
                BREAKING,
                f"column {obj} collation changed {old.collation or 'default'} -> {new.collation or 'default'} "
                "(comparisons, ordering and uniqueness change)",
            )
        )
    if old.on_update != new.on_update:
        grade = BREAKING if new.on_update is None else COMPATIBLE
        changes.append(
            change(
                COLUMN_ON_UPDATE_CHANGED,
                obj,
                old.on_update,
                new.on_update,
                grade,
                f"column {obj} ON UPDATE changed {old.on_update or 'none'} -> {new.on_update or 'none'}",
            )
        )
    return changes


def _foreign_key_actions(
    table: str,
    previous: Sequence[ForeignKey],
    current: Sequence[ForeignKey],
    fk_key: FkKey,
    fk_text: Callable[[ForeignKey], str],
) -> list[SchemaChange]:
    before = {fk_key(fk): fk for fk in previous}
    changes: list[SchemaChange] = []
    for fk in current:
        old = before.get(fk_key(fk))
        if old is None:
            continue
        old_actions, new_actions = _actions(old), _actions(fk)
        if old_actions != new_actions:
            changes.append(
                change(
                    FOREIGN_KEY_ACTION_CHANGED,
                    table,
                    old_actions,
                    new_actions,
                    BREAKING,
                    f"foreign key {fk.name} {fk_text(fk)} on {table}: {old_actions} -> {new_actions}",
                )
            )
    return changes


def _actions(fk: ForeignKey) -> str:
    return f"ON DELETE {fk.on_delete} ON UPDATE {fk.on_update}"


def _named_texts(
    table: str,
    label: str,
    previous: dict[str, str],
    current: dict[str, str],
    added: tuple[str, Classification],
    removed: tuple[str, Classification],
) -> list[SchemaChange]:
    """Constraints matched by their text, not their name: renaming one is not a change."""
    before_texts, after_texts = set(previous.values()), set(current.values())
    changes = [
        change(added[0], table, None, text, added[1], f"{label} {name} {text} added on {table}")
        for name, text in sorted(current.items())
        if text not in before_texts
    ]
    changes += [
        change(removed[0], table, text, None, removed[1], f"{label} {name} {text} removed from {table}")
        for name, text in sorted(previous.items())
        if text not in after_texts
    ]
    return changes


def _view_definition(table: str, previous: Table, current: Table) -> list[SchemaChange]:
    if _squeezed(previous.view_definition) == _squeezed(current.view_definition):
        return []
    # A new filter or join keeps readers working; new, dropped or retyped columns do not (reported as well).
    columns_changed = [(c.name, c.data_type) for c in previous.columns] != [
        (c.name, c.data_type) for c in current.columns
    ]
    return [
        change(
            VIEW_DEFINITION_CHANGED,
            table,
            previous.view_definition,
            current.view_definition,
            BREAKING if columns_changed else COMPATIBLE,
            f"definition of view {table} changed" + (" with its columns" if columns_changed else ", columns unchanged"),
        )
    ]


def _squeezed(text: str | None) -> str | None:
    return " ".join(text.split()) if text is not None else None


def _partitions(table: str, previous: Table, current: Table) -> list[SchemaChange]:
    changes: list[SchemaChange] = []
    if previous.partition_key != current.partition_key:
        changes.append(
            change(
                PARTITION_KEY_CHANGED,
                table,
                previous.partition_key,
                current.partition_key,
                BREAKING,
                f"partitioning of {table} changed {previous.partition_key or 'none'} -> "
                f"{current.partition_key or 'none'}",
            )
        )
    before = {p.name: p.bound for p in previous.partitions}
    after = {p.name: p.bound for p in current.partitions}
    for name, bound in sorted(after.items()):
        if name not in before:
            text = f"partition {name} {bound} added to {table}"
            changes.append(change(PARTITION_ADDED, f"{table}:{name}", None, bound, COMPATIBLE, text))
        elif before[name] != bound:
            text = f"partition {name} of {table} bound changed {before[name]} -> {bound}"
            changes.append(change(PARTITION_BOUND_CHANGED, f"{table}:{name}", before[name], bound, BREAKING, text))
    for name, bound in sorted(before.items()):
        if name not in after:
            text = f"partition {name} {bound} removed from {table} (its rows left the table)"
            changes.append(change(PARTITION_REMOVED, f"{table}:{name}", bound, None, BREAKING, text))
    return changes
