"""The execution domain: one job per plan file, the approve / reject / pending-approvals jobs, the approvals
sensor that launches and resumes approved work, and the executions view. A plan file that cannot be used is
reported and skipped; the code location loads without it."""

import logging

import dagster as dg

from ops_pipeline.core.plans.canonical import structure_fingerprint
from ops_pipeline.defs.execution.assets import executions, executions_refresh, refresh_executions
from ops_pipeline.defs.execution.jobs import approve_execution, pending_approvals, reject_execution
from ops_pipeline.defs.execution.plan_jobs import plan_job
from ops_pipeline.defs.execution.sensors import build_execution_launcher
from ops_pipeline.execution.plan_files import PlanCatalog
from ops_pipeline.settings import OpsSettings

logger = logging.getLogger(__name__)

OWN_JOBS = (approve_execution, pending_approvals, reject_execution)


def definitions(settings: OpsSettings, catalog: PlanCatalog) -> dg.Definitions:
    for problem in catalog.problems:
        logger.warning(f"plan skipped: {problem}")
    plan_jobs = [
        plan_job(plan_file, settings.policies, settings.plans) for _, plan_file in sorted(catalog.plans.items())
    ]
    structures = {name: structure_fingerprint(f.plan) for name, f in catalog.plans.items()}
    return dg.Definitions(
        assets=[executions],
        jobs=[*plan_jobs, *OWN_JOBS, refresh_executions],
        sensors=[build_execution_launcher(plan_jobs, structures, settings.plans.launch_interval_s), executions_refresh],
    )
