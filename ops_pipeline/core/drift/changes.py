"""A schema change between two scans: its kind and its classification (compatible or breaking)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

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
TABLE_RENAMED: Final = "table_renamed"
COLUMN_RENAMED: Final = "column_renamed"
COLUMN_IDENTITY_CHANGED: Final = "column_identity_changed"
COLUMN_COLLATION_CHANGED: Final = "column_collation_changed"
COLUMN_ON_UPDATE_CHANGED: Final = "column_on_update_changed"
FOREIGN_KEY_ACTION_CHANGED: Final = "foreign_key_action_changed"
CHECK_ADDED: Final = "check_added"
CHECK_REMOVED: Final = "check_removed"
EXCLUSION_ADDED: Final = "exclusion_added"
EXCLUSION_REMOVED: Final = "exclusion_removed"
VIEW_DEFINITION_CHANGED: Final = "view_definition_changed"
PARTITION_KEY_CHANGED: Final = "partition_key_changed"
PARTITION_ADDED: Final = "partition_added"
PARTITION_REMOVED: Final = "partition_removed"
PARTITION_BOUND_CHANGED: Final = "partition_bound_changed"
TYPE_ADDED: Final = "type_added"
TYPE_REMOVED: Final = "type_removed"
ENUM_VALUE_ADDED: Final = "enum_value_added"
ENUM_VALUE_REMOVED: Final = "enum_value_removed"
ENUM_VALUES_REORDERED: Final = "enum_values_reordered"
DOMAIN_CHANGED: Final = "domain_changed"

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
    TABLE_RENAMED,
    COLUMN_RENAMED,
    COLUMN_IDENTITY_CHANGED,
    COLUMN_COLLATION_CHANGED,
    COLUMN_ON_UPDATE_CHANGED,
    FOREIGN_KEY_ACTION_CHANGED,
    CHECK_ADDED,
    CHECK_REMOVED,
    EXCLUSION_ADDED,
    EXCLUSION_REMOVED,
    VIEW_DEFINITION_CHANGED,
    PARTITION_KEY_CHANGED,
    PARTITION_ADDED,
    PARTITION_REMOVED,
    PARTITION_BOUND_CHANGED,
    TYPE_ADDED,
    TYPE_REMOVED,
    ENUM_VALUE_ADDED,
    ENUM_VALUE_REMOVED,
    ENUM_VALUES_REORDERED,
    DOMAIN_CHANGED,
)


def change(
    kind: str, object_name: str, before: str | None, after: str | None, classification: Classification, text: str
) -> SchemaChange:
    return SchemaChange(kind, object_name, before, after, classification, text)


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


def drift_summary(changes: Sequence[SchemaChange]) -> dict[str, Any]:
    """Counts for metadata: ``{"total", "compatible", "breaking", "by_kind": {kind: n}}`` (kinds sorted)."""
    by_kind = Counter(c.kind for c in changes)
    return {
        "total": len(changes),
        "compatible": sum(1 for c in changes if c.classification == COMPATIBLE),
        "breaking": sum(1 for c in changes if c.classification == BREAKING),
        "by_kind": {kind: by_kind[kind] for kind in sorted(by_kind)},
    }
