"""`plan_ingestion`: before a backfill, how many rows each window holds and how to batch the runs."""

from typing import Any

import dagster as dg
from pydantic import Field

from ops_pipeline.backfill.plan import plan_backfill
from ops_pipeline.core.ingestion_plan import IngestionPlan, parse_moment
from ops_pipeline.markdown import table
from ops_pipeline.resources.ops_store import OpsStoreResource
from ops_pipeline.settings import ConfigError, OpsSettings
from ops_pipeline.sources.base import SourceError

SHOWN_WINDOWS = 60


class PlanConfig(dg.Config):
    pipeline: str = Field(description="a backfill in ops.yaml")
    start: str = Field(description="first window, ISO date or timestamp (UTC)")
    end: str = Field(description="end of the range, exclusive, ISO date or timestamp (UTC)")


def build_plan_ingestion(settings: OpsSettings) -> dg.JobDefinition:
    @dg.op(description="Count the source's rows per window and suggest partitions per run and a time estimate.")
    def plan(context: dg.OpExecutionContext, config: PlanConfig, ops_store: OpsStoreResource) -> dg.Output[str]:
        if config.pipeline not in settings.backfills:
            known = ", ".join(sorted(settings.backfills)) or "none"
            raise dg.Failure(description=f"unknown backfill {config.pipeline!r} (configured: {known})")
        try:
            result = plan_backfill(
                settings, config.pipeline, parse_moment(config.start), parse_moment(config.end), ops_store.engine()
            )
        except (SourceError, ConfigError, ValueError) as error:
            raise dg.Failure(description=str(error)) from None
        context.log.info(result.summary())
        return dg.Output(result.summary(), metadata=plan_metadata(result))

    @dg.job(description="Plan a backfill: rows per window, suggested partitions per run, a time estimate.")
    def plan_ingestion() -> None:
        plan()

    return plan_ingestion


def plan_metadata(result: IngestionPlan) -> dict[str, Any]:
    rows = ((f"{w.start:%Y-%m-%d %H:%M}", f"{w.rows:,}") for w in result.windows)
    return {
        "windows": len(result.windows),
        "total_rows": result.total_rows,
        "empty_windows": result.empty_windows,
        "median_rows": result.median_rows,
        "p95_rows": result.p95_rows,
        "max_rows": result.max_rows,
        "suggested_partitions_per_run": result.suggested_partitions_per_run,
        "rows_per_s": result.rows_per_s or 0.0,
        "throughput": "measured" if result.throughput_measured else "not measured yet",
        "estimated_s": round(result.estimated_s, 1) if result.estimated_s is not None else -1.0,
        "distribution": dg.MetadataValue.md(table(["window", "rows"], rows, limit=SHOWN_WINDOWS)),
    }
