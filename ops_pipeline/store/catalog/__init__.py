"""Catalog snapshots in the ops store: a scan's life (pending -> scanning -> completed | failed), completing one
in a single transaction with its drift, and reading back what completed snapshots hold.

A completed snapshot is written in one transaction (tables, changes, status), so a scan that fails at any
point leaves the previous completed snapshot as the latest good one.
"""

from ops_pipeline.store.catalog.completion import complete_snapshot
from ops_pipeline.store.catalog.contents import (
    catalogued_table,
    changes_for,
    kind_counts,
    latest_catalogs,
    load_catalog,
)
from ops_pipeline.store.catalog.snapshots import (
    OPEN,
    CompletedScan,
    Snapshot,
    SnapshotStateError,
    create_snapshot,
    fail_abandoned,
    get_snapshot,
    heartbeat,
    latest_completed,
    list_snapshots,
    mark_failed,
    mark_scanning,
    open_snapshots,
)

__all__ = [
    "OPEN",
    "CompletedScan",
    "Snapshot",
    "SnapshotStateError",
    "catalogued_table",
    "changes_for",
    "complete_snapshot",
    "create_snapshot",
    "fail_abandoned",
    "get_snapshot",
    "heartbeat",
    "kind_counts",
    "latest_catalogs",
    "latest_completed",
    "list_snapshots",
    "load_catalog",
    "mark_failed",
    "mark_scanning",
    "open_snapshots",
]
