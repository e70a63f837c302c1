"""Each plan a Dagster job: `preflight`, then one node per step (aliases of the shared step ops), drawn with
the plan's dependencies in the UI, a flat typed launchpad form, and tags for its SLA class, action class,
environment, tenant, approval level and run priority (fast plans first).

The graph is fixed when the code location loads; a run for a version whose steps or dependencies differ from
this graph (its structure fingerprint, in the job's tags) is refused by `preflight`.
"""

import dagster as dg

from ops_pipeline.core.execution.retries import retry_settings
from ops_pipeline.core.execution.timeouts import max_runtime_tag_s
from ops_pipeline.core.plans.canonical import structure_fingerprint
from ops_pipeline.core.plans.spec import PlanSpec
from ops_pipeline.defs.execution import executors, tags
from ops_pipeline.defs.execution.launch_form import launch_mapping
from ops_pipeline.defs.execution.preflight import preflight
from ops_pipeline.defs.execution.step_ops import STEP_OPS
from ops_pipeline.execution.plan_files import PlanFile
from ops_pipeline.settings import PlansSettings, PoliciesSettings

RESULT = "result"


def plan_job(plan_file: PlanFile, policies: PoliciesSettings, plans: PlansSettings) -> dg.JobDefinition:
    plan = plan_file.plan
    node_tags = executors.step_tags(plans)
    limits = policies.matrix().policy(plan.effective_sla, plan.action_class)
    dependencies: dict[dg.NodeInvocation, dict[str, dg.IDependencyDefinition]] = {
        dg.NodeInvocation("preflight", tags=node_tags): {}
    }
    for step in plan.steps:
        upstream = step.depends_on or ["preflight"]
        retry = _retry_policy(limits.max_attempts, policies.retry_delay_s) if step.retry else None
        node = dg.NodeInvocation(f"{step.type}_step", alias=step.id, tags=node_tags, retry_policy=retry)
        dependencies[node] = {
            "after": dg.MultiDependencyDefinition([dg.DependencyDefinition(u, RESULT) for u in upstream])
        }
    used_ops = sorted({step.type for step in plan.steps})
    graph = dg.GraphDefinition(
        name=plan.name,
        description=_description(plan_file),
        node_defs=[preflight, *(STEP_OPS[t] for t in used_ops)],
        dependencies=dependencies,
    )
    run_tags = {
        **_tags(plan),
        **executors.run_tags(plans, plan.effective_sla),
        # Run monitoring's backstop: the steps enforce the real deadline; this fails a run whose worker is lost.
        "dagster/max_runtime": str(max_runtime_tag_s(limits, policies.max_runtime_grace_s)),
        # A timed-out or failed execution is final: run retries would start it over.
        "dagster/max_retries": "0",
    }
    return graph.to_job(
        name=plan.name, config=launch_mapping(plan), tags=run_tags, executor_def=executors.executor_for(plans)
    )


def _retry_policy(max_attempts: int, delay_s: float) -> dg.RetryPolicy | None:
    settings = retry_settings(max_attempts, delay_s)
    if settings.max_retries == 0:
        return None
    return dg.RetryPolicy(
        max_retries=settings.max_retries,
        delay=settings.delay_s,
        backoff=dg.Backoff.EXPONENTIAL,
        jitter=dg.Jitter.PLUS_MINUS,
    )


def _tags(plan: PlanSpec) -> dict[str, str]:
    return {
        tags.PLAN: plan.name,
        tags.STRUCTURE: structure_fingerprint(plan),
        tags.SLA: plan.effective_sla,
        tags.ACTION: plan.action_class,
        tags.ENVIRONMENT: plan.environment,
        tags.TENANT: plan.tenant,
        tags.APPROVAL_LEVEL: str(plan.approval_level),
        tags.PRIORITY: tags.PRIORITY_BY_SLA[plan.effective_sla],
    }


def _description(plan_file: PlanFile) -> str:
    plan = plan_file.plan
    approval = "no approval" if plan.approval_level == 0 else f"approval level {plan.approval_level}"
    return (
        f"{plan.description or 'Execution plan'} ({plan.environment}, {plan.action_class}, "
        f"{plan.effective_sla}, {approval}; {plan_file.path.name}). Launching it submits an execution: "
        "fill in the form (version 0 runs the file as loaded)."
    )
