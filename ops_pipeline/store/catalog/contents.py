"""What completed snapshots hold, read back: their catalogs, table kinds, schema changes and one table."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from ops_pipeline.core.catalog import Catalog, Table, UserType
from ops_pipeline.core.drift import SchemaChange
from ops_pipeline.store.catalog.snapshots import Snapshot, latest_completed, snapshot_of
from ops_pipeline.store.tables import catalog_definitions, catalog_snapshots, catalog_tables, schema_changes


def load_catalog(engine: sa.Engine, snapshot: Snapshot) -> Catalog:
    with engine.connect() as conn:
        return load_catalog_in(conn, snapshot)


def latest_catalogs(engine: sa.Engine) -> dict[str, tuple[Snapshot, Catalog]]:
    """The latest completed snapshot of every source, with its tables."""
    newest = (
        sa.select(sa.func.max(catalog_snapshots.c.id))
        .where(catalog_snapshots.c.status == "completed")
        .group_by(catalog_snapshots.c.source)
    )
    with engine.connect() as conn:
        rows = conn.execute(sa.select(catalog_snapshots).where(catalog_snapshots.c.id.in_(newest))).all()
        snapshots = [snapshot_of(r) for r in rows]
        return {s.source: (s, load_catalog_in(conn, s)) for s in snapshots}


def kind_counts(engine: sa.Engine, snapshot_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Per snapshot, how many relations of each kind (table, view, ...) it holds."""
    query = (
        sa.select(catalog_tables.c.snapshot_id, catalog_tables.c.kind, sa.func.count())
        .where(catalog_tables.c.snapshot_id.in_(list(snapshot_ids)))
        .group_by(catalog_tables.c.snapshot_id, catalog_tables.c.kind)
    )
    counts: dict[int, dict[str, int]] = {}
    with engine.connect() as conn:
        for snapshot_id, kind, count in conn.execute(query):
            counts.setdefault(snapshot_id, {})[kind] = count
    return counts


def changes_for(engine: sa.Engine, snapshot_id: int) -> list[SchemaChange]:
    query = sa.select(schema_changes).where(schema_changes.c.snapshot_id == snapshot_id).order_by(schema_changes.c.id)
    with engine.connect() as conn:
        return [
            SchemaChange(
                kind=r.kind,
                object_name=r.object_name,
                before=r.before,
                after=r.after,
                classification=r.classification,
                description=r.description,
            )
            for r in conn.execute(query)
        ]


def load_catalog_in(conn: sa.Connection, snapshot: Snapshot) -> Catalog:
    rows = conn.execute(
        sa.select(
            catalog_tables.c.definition_hash,
            catalog_tables.c.row_count,
            catalog_tables.c.row_count_exact,
            catalog_tables.c.entity_name,
            catalog_tables.c.entity_rule,
            catalog_tables.c.entity_confidence,
        )
        .where(catalog_tables.c.snapshot_id == snapshot.id)
        .order_by(catalog_tables.c.schema_name, catalog_tables.c.table_name)
    ).all()
    found = definitions(conn, {r.definition_hash for r in rows})
    tables = tuple(
        Table.from_definition(
            found[r.definition_hash],
            row_count=r.row_count,
            row_count_exact=r.row_count_exact,
            entity_name=r.entity_name,
            entity_rule=r.entity_rule,
            entity_confidence=r.entity_confidence,
        )
        for r in rows
    )
    content = conn.execute(
        sa.select(catalog_snapshots.c.user_types, catalog_snapshots.c.notes).where(
            catalog_snapshots.c.id == snapshot.id
        )
    ).one()
    notes = tuple(json.loads(content.notes)) if content.notes else ()
    return Catalog(
        snapshot.source, snapshot.source_type, snapshot.server_version, tables, types_from(content.user_types), notes
    )


def definitions(conn: sa.Connection, hashes: set[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for chunk in chunks(sorted(hashes)):
        query = sa.select(catalog_definitions).where(catalog_definitions.c.hash.in_(chunk))
        found.update((r.hash, json.loads(r.definition)) for r in conn.execute(query))
    return found


def types_from(encoded: str | None) -> tuple[UserType, ...] | None:
    return None if encoded is None else tuple(UserType.from_definition(t) for t in json.loads(encoded)["types"])


def chunks(items: list[str], size: int = 500) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def catalogued_table(engine: sa.Engine, source: str, table: str) -> Table:
    snapshot = latest_completed(engine, source)
    if snapshot is None:
        raise LookupError(f"source {source!r} has no completed catalog scan; materialize schema_catalog for it first")
    found = load_catalog(engine, snapshot).table(table)
    if found is None:
        raise LookupError(f"table {table!r} is not in the latest catalog of {source!r} (snapshot {snapshot.id})")
    return found
