"""Data product models generated from the catalog (reverse ETL): a JSON Schema document and a Legend PURE class
per configured table, with constraints, versioned, diffed when the source schema changes, and profiled."""

from typing import Any

import dagster as dg

from ops_pipeline.defs.data_products.generate import GeneratedModel, generate
from ops_pipeline.markdown import table
from ops_pipeline.resources.ops_store import OpsStoreResource
from ops_pipeline.settings import ConfigError, OpsSettings
from ops_pipeline.sources.base import SourceError


def build_data_product_models(settings: OpsSettings) -> dg.AssetsDefinition:
    @dg.asset(group_name="data_products", kinds={"json", "legend"}, deps=["schema_catalog"])
    def data_product_models(context: dg.AssetExecutionContext, ops_store: OpsStoreResource) -> dg.MaterializeResult:
        """One model per table listed under data_products in ops.yaml, from each source's latest catalog scan."""
        if not settings.data_products.models:
            return dg.MaterializeResult(metadata={"models": 0, "note": "no data_products.models in ops.yaml"})
        try:
            generated = [
                generate(settings, spec, ops_store.engine(), context.run_id) for spec in settings.data_products.models
            ]
        except (LookupError, ConfigError, SourceError, ValueError) as error:
            raise dg.Failure(description=str(error)) from None
        for model in generated:
            context.log.info(
                f"{model.spec.source}.{model.spec.table} -> {model.model.name} v{model.stored.version}"
                f" ({'changed' if model.changed else 'unchanged'})"
            )
        return dg.MaterializeResult(metadata=_metadata(generated))

    return data_product_models


def _metadata(generated: list[GeneratedModel]) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "models": len(generated),
        "changed": sum(g.changed for g in generated),
        "summary": dg.MetadataValue.md(_summary(generated)),
    }
    for g in generated:
        key = f"{g.spec.source}.{g.spec.table}"
        metadata[f"{key} json_schema"] = dg.MetadataValue.path(str(g.files[0]))
        metadata[f"{key} pure"] = dg.MetadataValue.md(f"```\n{g.stored.pure}```")
        if g.profile:
            metadata[f"{key} profile"] = dg.MetadataValue.md(_profile(g))
    return metadata


def _summary(generated: list[GeneratedModel]) -> str:
    rows = (
        (
            f"{g.spec.source}.{g.spec.table}",
            g.model.path,
            g.stored.version,
            len(g.model.properties),
            len(g.model.constraints),
            "\n".join(g.diff) if g.changed and g.diff else ("new" if g.changed else "unchanged"),
        )
        for g in generated
    )
    return table(["table", "model", "version", "properties", "constraints", "change"], rows)


def _profile(g: GeneratedModel) -> str:
    profile = g.profile
    assert profile is not None
    rows = (
        (
            c.name,
            c.data_type,
            f"{c.null_fraction:.1%}",
            c.distinct_estimate,
            c.min,
            c.max,
            ", ".join(f"{value} ({count})" for value, count in c.top_values[:5]),
        )
        for c in profile.columns
    )
    header = (
        f"{profile.row_count:,} rows ({'exact' if profile.row_count_exact else 'estimated'}); sample of "
        f"{profile.sampled_rows:,} by {profile.sample_method}\n\n"
    )
    return header + table(["column", "type", "nulls", "distinct", "min", "max", "top values"], rows)
