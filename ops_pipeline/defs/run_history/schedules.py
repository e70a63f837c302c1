"""Refreshing the run history on a cron, so the history fills without anyone clicking."""

import dagster as dg

from ops_pipeline.defs.run_history.assets import run_history

run_history_job = dg.define_asset_job(
    "refresh_run_history", selection=[run_history], description="Ingest new and updated runs into the history."
)


def build_run_history_schedule(cron: str, running: bool) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="run_history_refresh",
        cron_schedule=cron,
        job=run_history_job,
        default_status=dg.DefaultScheduleStatus.RUNNING if running else dg.DefaultScheduleStatus.STOPPED,
        description="Refresh the run_history asset from Dagster's run storage.",
    )
