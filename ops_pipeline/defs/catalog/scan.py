"""Scan one configured source and record the snapshot: the whole catalog workflow, free of Dagster.

The snapshot row exists before the connection is opened, so a failed scan is recorded as failed with its
error, and the previous completed snapshot stays the latest good one.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import replace

import sqlalchemy as sa

from ops_pipeline.core.catalog import Catalog
from ops_pipeline.core.resolver import EntityResolver, ResolverSpec
from ops_pipeline.defs.catalog.gc_pause import cyclic_gc_paused
from ops_pipeline.defs.catalog.liveness import RunEnded, fail_abandoned_scans, heartbeats
from ops_pipeline.settings import SourceConfig
from ops_pipeline.sources.registry import database_for
from ops_pipeline.store import catalog as catalog_store


def scan_source(
    engine: sa.Engine,
    name: str,
    config: SourceConfig,
    resolver: ResolverSpec | None,
    *,
    exact_row_counts: bool = False,
    run_id: str | None = None,
    run_ended: RunEnded | None = None,
) -> catalog_store.CompletedScan:
    """Scan source `name`, name its tables' entities with `resolver` (None: the table names), and record it.
    Earlier scans of the source that were killed (their run, per `run_ended`, or their heartbeat gone) are marked
    failed first."""
    fail_abandoned_scans(engine, source=name, run_ended=run_ended)
    snapshot_id = catalog_store.create_snapshot(
        engine, name, config.type, exact_row_counts=exact_row_counts, run_id=run_id
    )
    try:
        with heartbeats(engine, snapshot_id):
            catalog_store.mark_scanning(engine, snapshot_id)
            with cyclic_gc_paused():
                catalog = database_for(config.type).scan(name, config, exact_row_counts=exact_row_counts)
                catalog = name_entities(catalog, resolver)
                return catalog_store.complete_snapshot(engine, snapshot_id, catalog)
    except BaseException as error:
        with suppress(catalog_store.SnapshotStateError):  # already marked failed as abandoned
            catalog_store.mark_failed(engine, snapshot_id, str(error) or type(error).__name__)
        raise


def name_entities(catalog: Catalog, spec: ResolverSpec | None) -> Catalog:
    """Give every table the canonical entity name its source's resolver decides (the table name if none), with
    the rule that decided it and that rule's confidence. Partitions are listed under their table, so they share
    its entity."""
    if spec is None:
        return replace(catalog, tables=tuple(replace(t, entity_name=t.name) for t in catalog.tables))
    resolver = EntityResolver(spec)
    tables = []
    for table in catalog.tables:
        resolution = resolver.resolve(table.name)
        tables.append(
            replace(
                table,
                entity_name=resolution.output,
                entity_rule=resolution.rule,
                entity_confidence=resolution.confidence,
            )
        )
    return replace(catalog, tables=tuple(tables))
