"""The catalog's jobs: scan one source, test a source's connection, simulate an entity resolver.

Each is launchable from the launchpad; the scan job is also what the sync sensor and the rescan schedule run,
so every scan appears under one name in the run history.
"""

import dagster as dg
from pydantic import Field

from ops_pipeline.core.resolver import ResolverSpec, simulate
from ops_pipeline.defs.catalog.assets import SCHEMA_CATALOG
from ops_pipeline.markdown.resolver import simulation_markdown
from ops_pipeline.resources.sources import SourcesResource
from ops_pipeline.settings import ConfigError
from ops_pipeline.sources.base import SourceError

catalog_scan_job = dg.define_asset_job(
    "catalog_scan",
    selection=[SCHEMA_CATALOG],
    description="Scan the schema catalog of one source (pick the partition).",
)


class ConnectionCheckConfig(dg.Config):
    source: str = Field(description="name of a source in ops.yaml")


@dg.op(description="Connect to the source, ask for its server version and time the round trip.")
def check_connection(
    context: dg.OpExecutionContext, config: ConnectionCheckConfig, sources: SourcesResource
) -> dg.Output[dict[str, object]]:
    try:
        report = sources.test_connection(config.source)
    except (SourceError, ConfigError) as error:
        kind = error.kind if isinstance(error, SourceError) else "config"
        raise dg.Failure(description=str(error), metadata={"source": config.source, "error_kind": kind}) from None
    context.log.info(
        f"source {report.source!r} ({report.source_type}) at {report.target}: server {report.server_version}, "
        f"{report.latency_ms:.1f} ms"
    )
    summary: dict[str, object] = {
        "source": report.source,
        "source_type": report.source_type,
        "target": report.target,
        "server_version": report.server_version,
        "latency_ms": round(report.latency_ms, 2),
    }
    return dg.Output(summary, metadata=summary)  # type: ignore[arg-type]


@dg.config_mapping
def _connection_check_form(form: ConnectionCheckConfig) -> dg.RunConfig:
    return dg.RunConfig(ops={"check_connection": form})


@dg.job(
    config=_connection_check_form,
    description="Test the connection of one configured source. Launchpad config: `source: demo`.",
)
def check_source_connection() -> None:
    check_connection()


class ResolverSimulationConfig(dg.Config):
    resolver: str = Field(description="name of a resolver in ops.yaml")
    entities: list[str] = Field(description="entity names to resolve", min_length=1)


def build_simulate_resolver(resolvers: list[ResolverSpec]) -> dg.JobDefinition:
    by_name = {spec.name: spec for spec in resolvers}

    @dg.op(description="Resolve each entity and show the output, the deciding rule, its confidence, the rules tried.")
    def simulate_entities(
        context: dg.OpExecutionContext, config: ResolverSimulationConfig
    ) -> dg.Output[list[dict[str, object]]]:
        spec = by_name.get(config.resolver)
        if spec is None:
            known = ", ".join(sorted(by_name)) or "none"
            raise dg.Failure(description=f"unknown resolver {config.resolver!r} (configured: {known})")
        results = simulate(spec, config.entities)
        markdown = simulation_markdown(results)
        context.log.info(f"resolver {config.resolver!r}\n{markdown}")
        rows: list[dict[str, object]] = [
            {"input": r.input, "output": r.output, "rule": r.rule, "confidence": r.confidence} for r in results
        ]
        return dg.Output(
            rows,
            metadata={
                "resolver": config.resolver,
                "entities": len(results),
                "resolved_by_a_rule": sum(r.rule is not None for r in results),
                "simulation": dg.MetadataValue.md(markdown),
            },
        )

    @dg.config_mapping
    def simulation_form(form: ResolverSimulationConfig) -> dg.RunConfig:
        return dg.RunConfig(ops={"simulate_entities": form})

    @dg.job(
        config=simulation_form,
        description="Simulate an entity resolver on sample entities. Launchpad config, e.g.: "
        "`resolver: canonical_tables` and `entities: [InvoiceLine, tbl_orders]`.",
    )
    def simulate_resolver() -> None:
        simulate_entities()

    return simulate_resolver
