"""Materializing today's insight_signals partition on a cron, so the UI's counts and charts stay current."""

from datetime import UTC

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition


def build_insight_refresh(
    insight_signals: dg.AssetsDefinition, cron: str, running: bool
) -> tuple[UnresolvedAssetJobDefinition, dg.ScheduleDefinition]:
    job = dg.define_asset_job(
        "refresh_insight_signals", selection=[insight_signals], description="Detect anomalies in one day of metrics."
    )

    @dg.schedule(
        name="insight_signals_refresh",
        cron_schedule=cron,
        job=job,
        default_status=dg.DefaultScheduleStatus.RUNNING if running else dg.DefaultScheduleStatus.STOPPED,
        description="Re-detect today's (UTC) anomalies; each run replaces the day's batch signals.",
    )
    def insight_signals_refresh(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        day = context.scheduled_execution_time.astimezone(UTC).date().isoformat()
        return dg.RunRequest(partition_key=day, run_key=f"insights:{context.scheduled_execution_time.isoformat()}")

    return job, insight_signals_refresh
