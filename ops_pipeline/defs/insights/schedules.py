"""Materializing today's insight_signals partition on a cron, so the UI's counts and charts stay current."""

from datetime import UTC

import dagster as dg

refresh_insight_signals = dg.define_asset_job(
    "refresh_insight_signals", selection=["insight_signals"], description="Detect anomalies in one day of metrics."
)


def build_insight_refresh_schedule(cron: str, running: bool) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="insight_signals_refresh",
        cron_schedule=cron,
        job=refresh_insight_signals,
        default_status=dg.DefaultScheduleStatus.RUNNING if running else dg.DefaultScheduleStatus.STOPPED,
        description="Re-detect today's (UTC) anomalies; each run replaces the day's batch signals.",
    )
    def insight_signals_refresh(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        day = context.scheduled_execution_time.astimezone(UTC).date().isoformat()
        return dg.RunRequest(partition_key=day, run_key=f"insights:{context.scheduled_execution_time.isoformat()}")

    return insight_signals_refresh
