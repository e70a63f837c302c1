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


def drift_summary(changes: Sequence[SchemaChange]) -> dict[str, Any]:
    """Counts for metadata: ``{"total", "compatible", "breaking", "by_kind": {kind: n}}`` (kinds sorted)."""
    by_kind = Counter(c.kind for c in changes)
    return {
        "total": len(changes),
        "compatible": sum(1 for c in changes if c.classification == COMPATIBLE),
        "breaking": sum(1 for c in changes if c.classification == BREAKING),
        "by_kind": {kind: by_kind[kind] for kind in sorted(by_kind)},
    }
