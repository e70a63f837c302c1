from dataclasses import replace

import pytest
import sqlalchemy as sa

from ops_pipeline.core.catalog import Catalog, Column, ForeignKey, Index, Table
from ops_pipeline.store import catalog as store
from ops_pipeline.store.engine import open_store
from ops_pipeline.store.tables import catalog_tables

CUSTOMERS = Table(
    schema="public",
    name="customers",
    primary_key=("id",),
    row_count=10,
    entity_name="customer",
    columns=(Column("id", "integer", nullable=False), Column("email", "varchar(100)")),
    indexes=(Index("ix_email", ("email",)),),
)
ORDERS = Table(
    schema="public",
    name="orders",
    primary_key=("id",),
    columns=(Column("id", "integer", nullable=False), Column("customer_id", "integer")),
    foreign_keys=(ForeignKey("fk_c", ("customer_id",), "public", "customers", ("id",)),),
)


def catalog(*tables: Table) -> Catalog:
    return Catalog("shop", "postgresql", "15.4", tables)


def record(engine: sa.Engine, scanned: Catalog) -> store.CompletedScan:
    snapshot_id = store.create_snapshot(engine, "shop", "postgresql", run_id="run-1")
    store.mark_scanning(engine, snapshot_id)
    return store.complete_snapshot(engine, snapshot_id, scanned)


def test_snapshot_moves_pending_scanning_completed(store_url: str) -> None:
    engine = open_store(store_url)
    snapshot_id = store.create_snapshot(engine, "shop", "postgresql")
    assert store.get_snapshot(engine, snapshot_id).status == "pending"
    store.mark_scanning(engine, snapshot_id)
    assert store.get_snapshot(engine, snapshot_id).status == "scanning"
    done = store.complete_snapshot(engine, snapshot_id, catalog(CUSTOMERS, ORDERS)).snapshot
    assert (done.status, done.version, done.table_count, done.column_count) == ("completed", "0.1", 2, 4)
    assert done.finished_at is not None and done.duration_s is not None and done.duration_s >= 0
    assert store.load_catalog(engine, done) == catalog(CUSTOMERS, ORDERS)


def test_completed_snapshot_cannot_fail_or_complete_again(store_url: str) -> None:
    engine = open_store(store_url)
    done = record(engine, catalog(CUSTOMERS)).snapshot
    with pytest.raises(store.SnapshotStateError):
        store.mark_failed(engine, done.id, "late error")
    with pytest.raises(store.SnapshotStateError):
        store.complete_snapshot(engine, done.id, catalog(CUSTOMERS))


def test_failed_scan_keeps_previous_snapshot_as_latest_good(store_url: str) -> None:
    engine = open_store(store_url)
    good = record(engine, catalog(CUSTOMERS, ORDERS)).snapshot
    failing = store.create_snapshot(engine, "shop", "postgresql")
    store.mark_scanning(engine, failing)
    store.mark_failed(engine, failing, "source 'shop': unreachable: refused")

    failed = store.get_snapshot(engine, failing)
    assert failed.status == "failed" and failed.error == "source 'shop': unreachable: refused"
    assert store.latest_completed(engine, "shop") == good
    assert [s.status for s in store.list_snapshots(engine, "shop")] == ["failed", "completed"]
    assert store.load_catalog(engine, good) == catalog(CUSTOMERS, ORDERS)


def test_version_follows_drift(store_url: str) -> None:
    engine = open_store(store_url)
    assert record(engine, catalog(CUSTOMERS)).snapshot.version == "0.1"
    same = record(engine, catalog(CUSTOMERS))
    assert (same.snapshot.version, same.changes) == ("0.1", [])
    added = record(engine, catalog(CUSTOMERS, ORDERS))
    assert added.snapshot.version == "0.2" and [c.kind for c in added.changes] == ["table_added"]
    dropped_column = replace(CUSTOMERS, columns=CUSTOMERS.columns[:1], indexes=())
    breaking = record(engine, catalog(dropped_column, ORDERS))
    assert breaking.snapshot.version == "1.2"
    assert breaking.snapshot.breaking_change_count == 1
    assert {c.kind for c in store.changes_for(engine, breaking.snapshot.id)} == {"column_removed", "index_removed"}


def test_a_write_that_fails_midway_leaves_nothing_behind(store_url: str) -> None:
    engine = open_store(store_url)
    good = record(engine, catalog(CUSTOMERS)).snapshot
    snapshot_id = store.create_snapshot(engine, "shop", "postgresql")
    store.mark_scanning(engine, snapshot_id)
    duplicate = catalog(CUSTOMERS, ORDERS, ORDERS)  # violates the unique (snapshot, schema, table) key
    with pytest.raises(sa.exc.IntegrityError):
        store.complete_snapshot(engine, snapshot_id, duplicate)
    assert store.get_snapshot(engine, snapshot_id).status == "scanning"
    with engine.connect() as conn:
        written = conn.execute(sa.select(sa.func.count()).where(catalog_tables.c.snapshot_id == snapshot_id)).scalar()
    assert written == 0
    assert store.latest_completed(engine, "shop") == good


def test_latest_catalogs_per_source(store_url: str) -> None:
    engine = open_store(store_url)
    record(engine, catalog(CUSTOMERS))
    record(engine, catalog(CUSTOMERS, ORDERS))
    latest = store.latest_catalogs(engine)
    assert list(latest) == ["shop"]
    snapshot, scanned = latest["shop"]
    assert snapshot.version == "0.2" and len(scanned.tables) == 2
