"""Completing a scan: the scanned tables and the drift from the previous completed snapshot, in one transaction.

Definitions are stored by content hash, so only tables whose shape changed are encoded, stored and diffed.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from dataclasses import replace

import sqlalchemy as sa
import sqlalchemy.dialects.postgresql
import sqlalchemy.dialects.sqlite

from ops_pipeline.core.catalog import Catalog, Table, UserType, definition_hash, definition_json
from ops_pipeline.core.drift import CatalogVersion, SchemaChange, diff_catalogs, next_version
from ops_pipeline.store.catalog.contents import chunks, definitions, types_from
from ops_pipeline.store.catalog.snapshots import (
    CompletedScan,
    Snapshot,
    SnapshotStateError,
    by_id,
    duration,
    latest_completed_in,
    now,
    snapshot_of,
)
from ops_pipeline.store.tables import catalog_definitions, catalog_snapshots, catalog_tables, schema_changes


def complete_snapshot(engine: sa.Engine, snapshot_id: int, catalog: Catalog) -> CompletedScan:
    """Write the scanned tables and the drift from the previous completed snapshot, in one transaction."""
    encoded = {t.qualified_name: definition_json(t.definition()) for t in catalog.tables}
    hashes = {name: definition_hash(text) for name, text in encoded.items()}
    with engine.begin() as conn:
        _serialise_per_source(conn, catalog.source)
        snapshot = snapshot_of(conn.execute(by_id(snapshot_id)).one())
        if snapshot.status != "scanning":
            raise SnapshotStateError(f"snapshot {snapshot_id} is {snapshot.status}; expected scanning")
        previous = latest_completed_in(conn, catalog.source)
        changes = _drift(conn, previous, catalog, hashes) if previous else []
        parent = CatalogVersion.parse(previous.version) if previous and previous.version else None
        version = next_version(parent, changes)
        _insert_definitions(conn, encoded, hashes)
        _insert_tables(conn, snapshot_id, catalog.tables, hashes)
        _insert_changes(conn, snapshot_id, catalog.source, changes)
        finished = now()
        conn.execute(
            catalog_snapshots.update()
            .where(catalog_snapshots.c.id == snapshot_id)
            .values(
                status="completed",
                finished_at=finished,
                version=str(version),
                duration_s=duration(snapshot.started_at or snapshot.requested_at, finished),
                server_version=catalog.server_version,
                table_count=len(catalog.tables),
                column_count=catalog.column_count,
                change_count=len(changes),
                breaking_change_count=sum(c.classification == "breaking" for c in changes),
                user_types=_types_json(catalog.types),
                notes=json.dumps(list(catalog.notes)) if catalog.notes else None,
            )
        )
        completed = snapshot_of(conn.execute(by_id(snapshot_id)).one())
    return CompletedScan(completed, catalog, previous, changes)


def _drift(conn: sa.Connection, previous: Snapshot, catalog: Catalog, hashes: dict[str, str]) -> list[SchemaChange]:
    """Diff only the tables whose definition hash differs: equal hashes cannot hold a schema change."""
    before = {
        _qualified(r.schema_name, r.table_name): r.definition_hash
        for r in conn.execute(
            sa.select(
                catalog_tables.c.schema_name, catalog_tables.c.table_name, catalog_tables.c.definition_hash
            ).where(catalog_tables.c.snapshot_id == previous.id)
        )
    }
    differing = {name for name in before.keys() | hashes.keys() if before.get(name) != hashes.get(name)}
    if not differing:
        # Types can change with no table changing (an enum gaining a value).
        return diff_catalogs(
            replace(catalog, tables=(), types=_previous_types(conn, previous)), replace(catalog, tables=())
        )
    old_definitions = definitions(conn, {before[n] for n in differing if n in before})
    old_tables = tuple(Table.from_definition(old_definitions[before[n]]) for n in sorted(differing) if n in before)
    new_tables = tuple(t for t in catalog.tables if t.qualified_name in differing)
    old_types = _previous_types(conn, previous)
    return diff_catalogs(replace(catalog, tables=old_tables, types=old_types), replace(catalog, tables=new_tables))


def _types_json(types: tuple[UserType, ...] | None) -> str | None:
    return None if types is None else definition_json({"types": [t.definition() for t in types]})


def _previous_types(conn: sa.Connection, previous: Snapshot) -> tuple[UserType, ...] | None:
    query = sa.select(catalog_snapshots.c.user_types).where(catalog_snapshots.c.id == previous.id)
    return types_from(conn.execute(query).scalar_one_or_none())


def _insert_definitions(conn: sa.Connection, encoded: dict[str, str], hashes: dict[str, str]) -> None:
    """Store the definitions not stored yet. Scans of sources sharing tables run at once: a definition another
    scan stores meanwhile is left as it is (same hash, same text), never a unique-key failure."""
    wanted = {hashes[name]: text for name, text in encoded.items()}
    insert = sa.dialects.postgresql.insert if conn.dialect.name == "postgresql" else sa.dialects.sqlite.insert
    for chunk in chunks(sorted(wanted)):
        statement = insert(catalog_definitions).on_conflict_do_nothing(index_elements=["hash"])
        conn.execute(statement, [{"hash": h, "definition": wanted[h]} for h in chunk])


def _insert_tables(conn: sa.Connection, snapshot_id: int, tables: Sequence[Table], hashes: dict[str, str]) -> None:
    if not tables:
        return
    conn.execute(
        catalog_tables.insert(),
        [
            {
                "snapshot_id": snapshot_id,
                "schema_name": t.schema,
                "table_name": t.name,
                "kind": t.kind,
                "entity_name": t.entity_name,
                "entity_rule": t.entity_rule,
                "entity_confidence": t.entity_confidence,
                "row_count": t.row_count,
                "row_count_exact": t.row_count_exact,
                "definition_hash": hashes[t.qualified_name],
            }
            for t in tables
        ],
    )


def _qualified(schema: str, table: str) -> str:
    return f"{schema}.{table}" if schema else table


def _insert_changes(conn: sa.Connection, snapshot_id: int, source: str, changes: Sequence[SchemaChange]) -> None:
    if not changes:
        return
    conn.execute(
        schema_changes.insert(),
        [
            {
                "snapshot_id": snapshot_id,
                "source": source,
                "kind": c.kind,
                "object_name": c.object_name,
                "before": c.before,
                "after": c.after,
                "classification": c.classification,
                "description": c.description,
            }
            for c in changes
        ],
    )


def _serialise_per_source(conn: sa.Connection, source: str) -> None:
    """Two scans of one source finishing together must not both compute their version from the same parent."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(source.encode())})
