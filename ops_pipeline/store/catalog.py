"""Catalog snapshots in the ops store: a scan's life (pending -> scanning -> completed | failed) and reads.

A completed snapshot is written in one transaction (tables, changes, status), so a scan that fails at any
point leaves the previous completed snapshot as the latest good one.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.dialects.postgresql
import sqlalchemy.dialects.sqlite

from ops_pipeline.core.catalog import Catalog, Table, UserType, definition_hash, definition_json
from ops_pipeline.core.drift import CatalogVersion, SchemaChange, diff_catalogs, next_version
from ops_pipeline.store.tables import catalog_definitions, catalog_snapshots, catalog_tables, schema_changes

OPEN = ("pending", "scanning")


class SnapshotStateError(RuntimeError):
    """A snapshot was moved along a transition its state does not allow."""


@dataclass(frozen=True)
class Snapshot:
    id: int
    source: str
    source_type: str
    status: str
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_s: float | None
    error: str | None
    version: str | None
    server_version: str | None
    table_count: int | None
    column_count: int | None
    change_count: int | None
    breaking_change_count: int | None
    exact_row_counts: bool
    run_id: str | None
    heartbeat_at: datetime | None


@dataclass(frozen=True)
class CompletedScan:
    snapshot: Snapshot
    catalog: Catalog
    previous: Snapshot | None
    changes: list[SchemaChange]


# Snapshot columns that belong to the scanned catalog, read with it rather than with the snapshot's status.
SCAN_CONTENT = ("user_types", "notes")


def _now() -> datetime:
    return datetime.now(UTC)


def _snapshot(row: sa.Row) -> Snapshot:
    values = dict(row._mapping)
    for column in SCAN_CONTENT:
        values.pop(column, None)
    for column in ("requested_at", "started_at", "finished_at", "heartbeat_at"):
        values[column] = _utc(values[column])
    return Snapshot(**values)


def _utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; the store writes them in UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def create_snapshot(
    engine: sa.Engine, source: str, source_type: str, *, exact_row_counts: bool = False, run_id: str | None = None
) -> int:
    with engine.begin() as conn:
        result = conn.execute(
            catalog_snapshots.insert().values(
                source=source,
                source_type=source_type,
                status="pending",
                requested_at=_now(),
                heartbeat_at=_now(),
                exact_row_counts=exact_row_counts,
                run_id=run_id,
            )
        )
        snapshot_id: int = result.inserted_primary_key[0]  # type: ignore[index]
        return snapshot_id


def mark_scanning(engine: sa.Engine, snapshot_id: int) -> None:
    _transition(engine, snapshot_id, "pending", status="scanning", started_at=_now())


def heartbeat(engine: sa.Engine, snapshot_id: int) -> None:
    """The scan of `snapshot_id` is still alive."""
    with engine.begin() as conn:
        conn.execute(
            catalog_snapshots.update()
            .where(catalog_snapshots.c.id == snapshot_id, catalog_snapshots.c.status.in_(OPEN))
            .values(heartbeat_at=_now())
        )


def open_snapshots(engine: sa.Engine, source: str | None = None) -> list[Snapshot]:
    """Snapshots still pending or scanning, of one source or all."""
    query = sa.select(catalog_snapshots).where(catalog_snapshots.c.status.in_(OPEN))
    if source is not None:
        query = query.where(catalog_snapshots.c.source == source)
    with engine.connect() as conn:
        return [_snapshot(r) for r in conn.execute(query.order_by(catalog_snapshots.c.id))]


def fail_abandoned(engine: sa.Engine, snapshot_id: int, reason: str) -> bool:
    """Mark an open snapshot failed because its scan is gone; False when it finished meanwhile."""
    finished = _now()
    with engine.begin() as conn:
        updated = conn.execute(
            catalog_snapshots.update()
            .where(catalog_snapshots.c.id == snapshot_id, catalog_snapshots.c.status.in_(OPEN))
            .values(status="failed", finished_at=finished, error=reason)
        ).rowcount
    return bool(updated == 1)


def mark_failed(engine: sa.Engine, snapshot_id: int, error: str) -> None:
    snapshot = get_snapshot(engine, snapshot_id)
    if snapshot.status not in ("pending", "scanning"):
        raise SnapshotStateError(f"snapshot {snapshot_id} is {snapshot.status}; only an open scan can fail")
    finished = _now()
    _transition(
        engine,
        snapshot_id,
        snapshot.status,
        status="failed",
        finished_at=finished,
        error=error,
        duration_s=_duration(snapshot.started_at or snapshot.requested_at, finished),
    )


def complete_snapshot(engine: sa.Engine, snapshot_id: int, catalog: Catalog) -> CompletedScan:
    """Write the scanned tables and the drift from the previous completed snapshot, in one transaction.

    Definitions are stored by content hash, so only tables whose shape changed are encoded, stored and diffed.
    """
    encoded = {t.qualified_name: definition_json(t.definition()) for t in catalog.tables}
    hashes = {name: definition_hash(text) for name, text in encoded.items()}
    with engine.begin() as conn:
        _serialise_per_source(conn, catalog.source)
        snapshot = _snapshot(conn.execute(_by_id(snapshot_id)).one())
        if snapshot.status != "scanning":
            raise SnapshotStateError(f"snapshot {snapshot_id} is {snapshot.status}; expected scanning")
        previous = _latest_completed(conn, catalog.source)
        changes = _drift(conn, previous, catalog, hashes) if previous else []
        parent = CatalogVersion.parse(previous.version) if previous and previous.version else None
        version = next_version(parent, changes)
        _insert_definitions(conn, encoded, hashes)
        _insert_tables(conn, snapshot_id, catalog.tables, hashes)
        _insert_changes(conn, snapshot_id, catalog.source, changes)
        finished = _now()
        conn.execute(
            catalog_snapshots.update()
            .where(catalog_snapshots.c.id == snapshot_id)
            .values(
                status="completed",
                finished_at=finished,
                version=str(version),
                duration_s=_duration(snapshot.started_at or snapshot.requested_at, finished),
                server_version=catalog.server_version,
                table_count=len(catalog.tables),
                column_count=catalog.column_count,
                change_count=len(changes),
                breaking_change_count=sum(c.classification == "breaking" for c in changes),
                user_types=_types_json(catalog.types),
                notes=json.dumps(list(catalog.notes)) if catalog.notes else None,
            )
        )
        completed = _snapshot(conn.execute(_by_id(snapshot_id)).one())
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
    old_definitions = _definitions(conn, {before[n] for n in differing if n in before})
    old_tables = tuple(Table.from_definition(old_definitions[before[n]]) for n in sorted(differing) if n in before)
    new_tables = tuple(t for t in catalog.tables if t.qualified_name in differing)
    old_types = _previous_types(conn, previous)
    return diff_catalogs(replace(catalog, tables=old_tables, types=old_types), replace(catalog, tables=new_tables))


def _types_json(types: tuple[UserType, ...] | None) -> str | None:
    return None if types is None else definition_json({"types": [t.definition() for t in types]})


def _types_from(encoded: str | None) -> tuple[UserType, ...] | None:
    return None if encoded is None else tuple(UserType.from_definition(t) for t in json.loads(encoded)["types"])


def _previous_types(conn: sa.Connection, previous: Snapshot) -> tuple[UserType, ...] | None:
    query = sa.select(catalog_snapshots.c.user_types).where(catalog_snapshots.c.id == previous.id)
    return _types_from(conn.execute(query).scalar_one_or_none())


def get_snapshot(engine: sa.Engine, snapshot_id: int) -> Snapshot:
    with engine.connect() as conn:
        row = conn.execute(_by_id(snapshot_id)).one_or_none()
    if row is None:
        raise LookupError(f"no catalog snapshot with id {snapshot_id}")
    return _snapshot(row)


def latest_completed(engine: sa.Engine, source: str) -> Snapshot | None:
    with engine.connect() as conn:
        return _latest_completed(conn, source)


def load_catalog(engine: sa.Engine, snapshot: Snapshot) -> Catalog:
    with engine.connect() as conn:
        return _load_catalog(conn, snapshot)


def latest_catalogs(engine: sa.Engine) -> dict[str, tuple[Snapshot, Catalog]]:
    """The latest completed snapshot of every source, with its tables."""
    newest = (
        sa.select(sa.func.max(catalog_snapshots.c.id))
        .where(catalog_snapshots.c.status == "completed")
        .group_by(catalog_snapshots.c.source)
    )
    with engine.connect() as conn:
        rows = conn.execute(sa.select(catalog_snapshots).where(catalog_snapshots.c.id.in_(newest))).all()
        snapshots = [_snapshot(r) for r in rows]
        return {s.source: (s, _load_catalog(conn, s)) for s in snapshots}


def list_snapshots(engine: sa.Engine, source: str, limit: int = 20) -> list[Snapshot]:
    query = (
        sa.select(catalog_snapshots)
        .where(catalog_snapshots.c.source == source)
        .order_by(catalog_snapshots.c.id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        return [_snapshot(r) for r in conn.execute(query)]


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


def _by_id(snapshot_id: int) -> sa.Select:
    return sa.select(catalog_snapshots).where(catalog_snapshots.c.id == snapshot_id)


def _latest_completed(conn: sa.Connection, source: str) -> Snapshot | None:
    row = conn.execute(
        sa.select(catalog_snapshots)
        .where(catalog_snapshots.c.source == source, catalog_snapshots.c.status == "completed")
        .order_by(catalog_snapshots.c.id.desc())
        .limit(1)
    ).one_or_none()
    return _snapshot(row) if row else None


def _load_catalog(conn: sa.Connection, snapshot: Snapshot) -> Catalog:
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
    definitions = _definitions(conn, {r.definition_hash for r in rows})
    tables = tuple(
        Table.from_definition(
            definitions[r.definition_hash],
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
        snapshot.source, snapshot.source_type, snapshot.server_version, tables, _types_from(content.user_types), notes
    )


def _definitions(conn: sa.Connection, hashes: set[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(sorted(hashes)):
        query = sa.select(catalog_definitions).where(catalog_definitions.c.hash.in_(chunk))
        found.update((r.hash, json.loads(r.definition)) for r in conn.execute(query))
    return found


def _insert_definitions(conn: sa.Connection, encoded: dict[str, str], hashes: dict[str, str]) -> None:
    """Store the definitions not stored yet. Scans of sources sharing tables run at once: a definition another
    scan stores meanwhile is left as it is (same hash, same text), never a unique-key failure."""
    wanted = {hashes[name]: text for name, text in encoded.items()}
    insert = sa.dialects.postgresql.insert if conn.dialect.name == "postgresql" else sa.dialects.sqlite.insert
    for chunk in _chunks(sorted(wanted)):
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


def _chunks(items: list[str], size: int = 500) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


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


def _transition(engine: sa.Engine, snapshot_id: int, expected: str, **values: object) -> None:
    with engine.begin() as conn:
        updated = conn.execute(
            catalog_snapshots.update()
            .where(catalog_snapshots.c.id == snapshot_id, catalog_snapshots.c.status == expected)
            .values(**values)
        ).rowcount
    if updated != 1:
        raise SnapshotStateError(f"snapshot {snapshot_id} is not {expected}; cannot move it to {values['status']}")


def _serialise_per_source(conn: sa.Connection, source: str) -> None:
    """Two scans of one source finishing together must not both compute their version from the same parent."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(source.encode())})


def _duration(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds())


def catalogued_table(engine: sa.Engine, source: str, table: str) -> Table:
    snapshot = latest_completed(engine, source)
    if snapshot is None:
        raise LookupError(f"source {source!r} has no completed catalog scan; materialize schema_catalog for it first")
    found = load_catalog(engine, snapshot).table(table)
    if found is None:
        raise LookupError(f"table {table!r} is not in the latest catalog of {source!r} (snapshot {snapshot.id})")
    return found
