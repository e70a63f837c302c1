"""The execution domain: one job per plan file, the approve / reject / pending-approvals jobs, the approvals
sensor that launches and resumes approved work, the dead letters with their requeue job, the reaper of
executions whose run died, the executions view, the execution metrics, and the SLA monitor with its default
alert job. A plan file that cannot be used is reported and skipped; the code location loads without it."""

import logging

import dagster as dg

from ops_pipeline.core.plans.canonical import structure_fingerprint
from ops_pipeline.defs.execution.assets import executions, executions_refresh, refresh_executions
from ops_pipeline.defs.execution.jobs import approve_execution, pending_approvals, reject_execution
from ops_pipeline.defs.execution.metrics_asset import (
    build_execution_metrics,
    execution_metrics_schedule,
    refresh_execution_metrics,
)
from ops_pipeline.defs.execution.plan_jobs import plan_job
from ops_pipeline.defs.execution.recovery_sensors import build_dead_letter_sensor, build_reaper_sensor
from ops_pipeline.defs.execution.requeue_job import requeue_dead_letter
from ops_pipeline.defs.execution.sensors import build_execution_launcher
from ops_pipeline.defs.execution.sla_alert import sla_alert
from ops_pipeline.defs.execution.sla_monitor import build_sla_monitor
from ops_pipeline.execution.plan_files import PlanCatalog
from ops_pipeline.settings import OpsSettings

logger = logging.getLogger(__name__)

OWN_JOBS = (
    approve_execution,
    pending_approvals,
    reject_execution,
    requeue_dead_letter,
    sla_alert,
    refresh_execution_metrics,
)


def definitions(settings: OpsSettings, catalog: PlanCatalog) -> dg.Definitions:
    for problem in catalog.problems:
        logger.warning(f"plan skipped: {problem}")
    plan_jobs = [
        plan_job(plan_file, settings.policies, settings.plans) for _, plan_file in sorted(catalog.plans.items())
    ]
    structures = {name: structure_fingerprint(f.plan) for name, f in catalog.plans.items()}
    interval_s = settings.plans.launch_interval_s
    return dg.Definitions(
        assets=[executions, build_execution_metrics(settings.plans.metrics_window)],
        jobs=[*plan_jobs, *OWN_JOBS, refresh_executions],
        sensors=[
            build_execution_launcher(plan_jobs, structures, interval_s),
            executions_refresh,
            build_dead_letter_sensor(interval_s),
            build_reaper_sensor(interval_s),
            build_sla_monitor(settings.plans.sla_alert_job, settings.plans.sla_monitor_interval_s),
        ],
        schedules=[execution_metrics_schedule],
    )
