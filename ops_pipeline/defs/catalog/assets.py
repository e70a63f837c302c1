"""The schema catalog: one partition per source, a snapshot in the ops store per materialization.

Each scanned table is also reported as a materialization of its own asset (`catalog/<source>/<schema>/<table>`)
carrying its column schema and row count, and the drift check grades the changes since the last good scan.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from ops_pipeline.core.resolver import ResolverSpec
from ops_pipeline.defs.catalog.metadata import drift_check_result, scan_metadata, table_asset_key, table_metadata
from ops_pipeline.defs.catalog.partitions import source_partitions
from ops_pipeline.defs.catalog.run_states import run_ended_in
from ops_pipeline.defs.catalog.scan import scan_source
from ops_pipeline.defs.catalog.state import write_table_state
from ops_pipeline.resources.ops_store import OpsStoreResource
from ops_pipeline.resources.sources import SourcesResource
from ops_pipeline.sources.base import SourceError

SCHEMA_CATALOG = "schema_catalog"
DRIFT_CHECK = "schema_drift"


def _description(warnings: list[str]) -> str:
    text = "Tables, views, columns, keys, indexes and row counts of one source, versioned by schema drift."
    if not warnings:
        return text
    return text + "\n\n**Warning: scanned tables not drawn as assets**\n\n" + "\n".join(f"- {w}" for w in warnings)


class CatalogScanConfig(dg.Config):
    exact_row_counts: bool = Field(
        default=False, description="count rows exactly (one COUNT(*) per table) instead of catalog estimates"
    )


def build_schema_catalog(
    resolvers: dict[str, ResolverSpec | None], state_dir: Path | None, kinds: set[str], warnings: list[str]
) -> dg.AssetsDefinition:
    """The catalog asset: `resolvers` names each source's entities, `state_dir` keeps the tables drawn as
    assets when the code location loads, `kinds` are the scanned technologies, `warnings` the scanned tables
    that could not be drawn (shown in the asset's description)."""

    @dg.asset(
        name=SCHEMA_CATALOG,
        description=_description(warnings),
        partitions_def=source_partitions,
        group_name="catalog",
        kinds=kinds or None,
        check_specs=[
            dg.AssetCheckSpec(
                DRIFT_CHECK,
                asset=SCHEMA_CATALOG,
                partitions_def=source_partitions,
                description="Schema changes since the previous completed scan: warn if compatible, error if breaking.",
            )
        ],
    )
    def schema_catalog(
        context: dg.AssetExecutionContext,
        config: CatalogScanConfig,
        ops_store: OpsStoreResource,
        sources: SourcesResource,
    ) -> Iterator[Any]:
        """Tables, views, columns, keys, indexes and row counts of one source, versioned by schema drift."""
        source = context.partition_key
        try:
            outcome = scan_source(
                ops_store.engine(),
                source,
                sources.config(source),
                resolvers.get(source),
                exact_row_counts=config.exact_row_counts,
                run_id=context.run_id,
                run_ended=run_ended_in(context.instance),
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
        if state_dir is not None:
            write_table_state(state_dir, outcome.catalog)
        context.log.info(
            f"{source}: {len(outcome.catalog.tables)} tables, version {outcome.snapshot.version}, "
            f"{len(outcome.changes)} schema changes"
        )
        yield dg.MaterializeResult(
            metadata=scan_metadata(outcome), check_results=[drift_check_result(DRIFT_CHECK, outcome)]
        )

    return schema_catalog
