"""Resolver simulation: how a configured resolver names a list of entities, and which rule decided each."""

import dagster as dg
from pydantic import Field

from ops_pipeline.core.resolver import simulate, simulation_markdown
from ops_pipeline.resources.sources import SourceRegistry
from ops_pipeline.settings import ConfigError


class ResolverSimulationConfig(dg.Config):
    resolver: str = Field(description="name of a resolver in ops.yaml")
    entities: list[str] = Field(description="entity names to resolve", min_length=1)


@dg.op(description="Resolve each entity and show the output, the deciding rule, its confidence, the rules tried.")
def simulate_entities(
    context: dg.OpExecutionContext, config: ResolverSimulationConfig, sources: SourceRegistry
) -> dg.Output[list[dict[str, object]]]:
    try:
        spec = sources.settings().resolver(config.resolver)
    except ConfigError as error:
        raise dg.Failure(description=str(error)) from None
    results = simulate(spec, config.entities)
    table = simulation_markdown(results)
    context.log.info(f"resolver {config.resolver!r}\n{table}")
    rows: list[dict[str, object]] = [
        {"input": r.input, "output": r.output, "rule": r.rule, "confidence": r.confidence} for r in results
    ]
    return dg.Output(
        rows,
        metadata={
            "resolver": config.resolver,
            "entities": len(results),
            "resolved_by_a_rule": sum(r.rule is not None for r in results),
            "simulation": dg.MetadataValue.md(table),
        },
    )


@dg.job(description="Simulate an entity resolver on sample entities.")
def simulate_resolver() -> None:
    simulate_entities()
