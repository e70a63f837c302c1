"""`execution_metrics`: success and failure rates, p50/p95/p99 durations per plan and per step type, queue time
and SLA compliance of the executions submitted in the window (`plans.metrics_window`), as numbers the UI charts
over materializations, markdown tables, and a chart of the durations. Refreshed every 15 minutes."""

from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from ops_pipeline.core.durations import format_duration
from ops_pipeline.core.execution.metrics import ExecutionMetrics, execution_metrics
from ops_pipeline.defs.execution.metrics_chart import durations_chart_png, png_markdown
from ops_pipeline.markdown.execution_metrics import plans_markdown, step_types_markdown
from ops_pipeline.resources.ops_store import OpsStoreResource
from ops_pipeline.store.execution_samples import execution_samples, step_samples

REFRESH_CRON = "*/15 * * * *"


def headline(metrics: ExecutionMetrics) -> dict[str, float | int]:
    """The overall figures as plain numbers (a figure with nothing to measure is left out, not zero)."""
    overall = metrics.overall
    figures: dict[str, float | int | None] = {
        "executions": overall.executions,
        "ended": overall.outcomes.ended,
        "success_rate": overall.outcomes.success_rate,
        "failure_rate": overall.outcomes.failure_rate,
        "duration_p50_s": overall.duration_s.p50,
        "duration_p95_s": overall.duration_s.p95,
        "duration_p99_s": overall.duration_s.p99,
        "queue_p50_s": overall.queue_s.p50,
        "queue_p95_s": overall.queue_s.p95,
        "queue_p99_s": overall.queue_s.p99,
        "sla_compliance": overall.sla.share,
        "sla_considered": overall.sla.considered,
    }
    return {name: value for name, value in figures.items() if value is not None}


def build_execution_metrics(window_s: int) -> dg.AssetsDefinition:
    @dg.asset(
        name="execution_metrics",
        group_name="execution",
        kinds={"dagster"},
        description=f"Outcomes, durations, queue time and SLA compliance of the last {format_duration(window_s)} "
        "of executions, per plan and per step type.",
    )
    def execution_metrics_asset(context: dg.AssetExecutionContext, ops_store: OpsStoreResource) -> dg.MaterializeResult:
        now = datetime.now(UTC)
        since = now - timedelta(seconds=window_s)
        with ops_store.engine().connect() as conn:
            metrics = execution_metrics(execution_samples(conn, since), step_samples(conn, since), now)
        figures = headline(metrics)
        metadata: dict[str, Any] = {
            **figures,
            "window": format_duration(window_s),
            "plans": dg.MetadataValue.md(plans_markdown(metrics)),
            "step_types": dg.MetadataValue.md(step_types_markdown(metrics)),
            "chart": dg.MetadataValue.md(png_markdown(durations_chart_png(metrics), "durations")),
        }
        context.log.info(", ".join(f"{name} {value:g}" for name, value in figures.items()))
        return dg.MaterializeResult(metadata=metadata)

    return execution_metrics_asset


refresh_execution_metrics = dg.define_asset_job("refresh_execution_metrics", selection=["execution_metrics"])

execution_metrics_schedule = dg.ScheduleDefinition(
    name="execution_metrics_refresh",
    job=refresh_execution_metrics,
    cron_schedule=REFRESH_CRON,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Recomputes the execution metrics every 15 minutes.",
)
