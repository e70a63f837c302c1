"""The schema catalog: one partition per source, a snapshot in the ops store per materialization.

Each scanned table is also reported as a materialization of its own asset (`catalog/<source>/<schema>/<table>`)
carrying its column schema and row count, and the drift check grades the changes since the last good scan.
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg
from pydantic import Field

from ops_pipeline.defs.catalog.metadata import scan_metadata, table_asset_key, table_metadata
from ops_pipeline.defs.catalog.partitions import source_partitions
from ops_pipeline.defs.catalog.scan import scan_source
from ops_pipeline.markdown.catalog import changes_markdown
from ops_pipeline.resources.ops_store import OpsStoreResource
from ops_pipeline.resources.sources import SourceRegistry
from ops_pipeline.sources.base import SourceError
from ops_pipeline.store.catalog import CompletedScan

DRIFT_CHECK = "schema_drift"


class CatalogScanConfig(dg.Config):
    exact_row_counts: bool = Field(
        default=False, description="count rows exactly (one COUNT(*) per table) instead of catalog estimates"
    )


@dg.asset(
    partitions_def=source_partitions,
    group_name="catalog",
    kinds={"catalog"},
    check_specs=[
        dg.AssetCheckSpec(
            DRIFT_CHECK,
            asset="schema_catalog",
            partitions_def=source_partitions,
            description="Schema changes since the previous completed scan: warn if compatible, error if breaking.",
        )
    ],
)
def schema_catalog(
    context: dg.AssetExecutionContext,
    config: CatalogScanConfig,
    ops_store: OpsStoreResource,
    sources: SourceRegistry,
) -> Iterator[Any]:
    """Tables, views, columns, keys, indexes and row counts of one source, versioned by schema drift."""
    source = context.partition_key
    try:
        outcome = scan_source(
            ops_store.engine(),
            sources.settings(),
            source,
            exact_row_counts=config.exact_row_counts,
            run_id=context.run_id,
        )
    except SourceError as error:
        raise dg.Failure(description=str(error), metadata={"source": source, "error_kind": error.kind}) from None
    for table in outcome.catalog.tables:
        context.log_event(
            dg.AssetMaterialization(
                asset_key=table_asset_key(source, table),
                metadata=table_metadata(source, table, outcome.snapshot.version),
            )
        )
    context.log.info(
        f"{source}: {len(outcome.catalog.tables)} tables, version {outcome.snapshot.version}, "
        f"{len(outcome.changes)} schema changes"
    )
    yield dg.MaterializeResult(metadata=scan_metadata(outcome), check_results=[drift_check_result(outcome)])


def drift_check_result(outcome: CompletedScan) -> dg.AssetCheckResult:
    breaking = sum(c.classification == "breaking" for c in outcome.changes)
    severity = dg.AssetCheckSeverity.ERROR if breaking else dg.AssetCheckSeverity.WARN
    return dg.AssetCheckResult(
        check_name=DRIFT_CHECK,
        passed=not outcome.changes,
        severity=severity,
        metadata={
            "source": outcome.snapshot.source,
            "catalog_version": outcome.snapshot.version or "",
            "previous_version": outcome.previous.version if outcome.previous else "",
            "compatible_changes": len(outcome.changes) - breaking,
            "breaking_changes": breaking,
            "changes": dg.MetadataValue.md(changes_markdown(outcome.changes)),
        },
    )
