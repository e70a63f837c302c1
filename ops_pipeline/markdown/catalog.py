"""The catalog's tables for people: schema changes (the UI's drift check and `ops-pipeline catalog changes`)."""

from __future__ import annotations

from collections.abc import Sequence

from ops_pipeline.core.drift import SchemaChange
from ops_pipeline.markdown.table import table


def changes_markdown(changes: Sequence[SchemaChange], limit: int = 50) -> str:
    """``classification | kind | object | before | after`` for the first `limit` changes, in the given order;
    when truncated a final line says ``… and N more``."""
    return table(
        ["classification", "kind", "object", "before", "after"],
        ((c.classification, c.kind, c.object_name, c.before, c.after) for c in changes),
        empty="No schema changes.",
        limit=limit,
    )
