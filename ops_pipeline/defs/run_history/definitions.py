"""The run history domain: the run_history asset and the schedule that refreshes it."""

import dagster as dg

from ops_pipeline.defs.run_history.assets import run_history
from ops_pipeline.defs.run_history.schedules import build_run_history_schedule, run_history_job
from ops_pipeline.settings import OpsSettings


def definitions(settings: OpsSettings) -> dg.Definitions:
    history = settings.run_history
    schedules = (
        [build_run_history_schedule(history.refresh_cron, history.refresh_schedule_running)]
        if history.refresh_cron
        else []
    )
    return dg.Definitions(assets=[run_history], jobs=[run_history_job], schedules=schedules)
