"""Drift in a source's own types: enums gaining, losing or reordering labels, domains changing their rules."""

from __future__ import annotations

from collections.abc import Sequence

from ops_pipeline.core.catalog import UserType
from ops_pipeline.core.drift.changes import (
    BREAKING,
    COMPATIBLE,
    DOMAIN_CHANGED,
    ENUM_VALUE_ADDED,
    ENUM_VALUE_REMOVED,
    ENUM_VALUES_REORDERED,
    TYPE_ADDED,
    TYPE_REMOVED,
    Classification,
    SchemaChange,
    change,
)
from ops_pipeline.core.sql_types import is_widening, same_type


def type_changes(previous: Sequence[UserType], current: Sequence[UserType]) -> list[SchemaChange]:
    before = {t.qualified_name: t for t in previous}
    after = {t.qualified_name: t for t in current}
    changes: list[SchemaChange] = []
    for name, new in after.items():
        old = before.get(name)
        if old is None:
            changes.append(change(TYPE_ADDED, name, None, new.kind, COMPATIBLE, f"{new.kind} type {name} added"))
        elif old.kind != new.kind:
            text = f"type {name} changed from {old.kind} to {new.kind}"
            changes.append(change(DOMAIN_CHANGED, name, old.kind, new.kind, BREAKING, text))
        elif new.kind == "enum":
            changes.extend(_enum_changes(name, old.labels, new.labels))
        else:
            changes.extend(_domain_changes(name, old, new))
    for name, old in before.items():
        if name not in after:
            changes.append(change(TYPE_REMOVED, name, old.kind, None, BREAKING, f"{old.kind} type {name} removed"))
    return changes


def _enum_changes(name: str, old: tuple[str, ...], new: tuple[str, ...]) -> list[SchemaChange]:
    changes = [
        change(ENUM_VALUE_ADDED, name, None, label, COMPATIBLE, f"enum {name} gained value {label!r}")
        for label in new
        if label not in old
    ]
    changes += [
        change(ENUM_VALUE_REMOVED, name, label, None, BREAKING, f"enum {name} lost value {label!r} (its rows fail)")
        for label in old
        if label not in new
    ]
    kept_old = [label for label in old if label in new]
    kept_new = [label for label in new if label in old]
    if kept_old != kept_new:
        # Only the sort order of values changes; nothing a writer sends is refused.
        text = f"enum {name} reordered {', '.join(kept_old)} -> {', '.join(kept_new)}"
        changes.append(change(ENUM_VALUES_REORDERED, name, ",".join(kept_old), ",".join(kept_new), COMPATIBLE, text))
    return changes


def _domain_changes(name: str, old: UserType, new: UserType) -> list[SchemaChange]:
    changes: list[SchemaChange] = []
    if old.base_type and new.base_type and not same_type(old.base_type, new.base_type):
        grade: Classification = COMPATIBLE if is_widening(old.base_type, new.base_type) else BREAKING
        text = f"domain {name} base type changed {old.base_type} -> {new.base_type}"
        changes.append(change(DOMAIN_CHANGED, name, old.base_type, new.base_type, grade, text))
    if old.not_null != new.not_null:
        grade = BREAKING if new.not_null else COMPATIBLE
        before, after = ("not null" if v else "nullable" for v in (old.not_null, new.not_null))
        changes.append(change(DOMAIN_CHANGED, name, before, after, grade, f"domain {name} became {after}"))
    if old.default != new.default:
        text = f"domain {name} default changed {old.default or 'none'} -> {new.default or 'none'}"
        changes.append(change(DOMAIN_CHANGED, name, old.default, new.default, COMPATIBLE, text))
    old_checks = {c.expression for c in old.checks}
    new_checks = {c.expression for c in new.checks}
    for check in sorted(new_checks - old_checks):
        changes.append(change(DOMAIN_CHANGED, name, None, check, BREAKING, f"domain {name} check added: {check}"))
    for check in sorted(old_checks - new_checks):
        changes.append(change(DOMAIN_CHANGED, name, check, None, COMPATIBLE, f"domain {name} check removed: {check}"))
    return changes
