"""`preflight`, the first op of every plan job: it admits the submission (or picks up the approved execution
the run was launched for) and lets the steps start only when the execution may run now.

A run launched from the launchpad is a submission: preflight admits it (idempotency, plan version, approval
request). A level-0 execution runs in that run; one that needs approval ends the run here, its steps skipped,
and the approvals sensor launches it once approved. A duplicate within the idempotency window links the
existing execution and runs nothing. An execution runs only while it holds every target lease; one whose target
is busy waits `queued`, its steps skipped, and the approvals sensor launches it when the target is free.
"""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import sqlalchemy as sa

from ops_pipeline.core.execution.timeouts import execution_deadline
from ops_pipeline.core.plans.errors import PlanError
from ops_pipeline.defs.execution import tags
from ops_pipeline.defs.execution.launch_form import PreflightConfig
from ops_pipeline.execution.access import AccessDenied, actor_id, check_submit
from ops_pipeline.execution.admission import Submission, admit
from ops_pipeline.execution.progress import begin
from ops_pipeline.execution.target_locks import take_targets, wait_for
from ops_pipeline.resources.ops_store import OpsStoreResource
from ops_pipeline.resources.plans import PlansResource
from ops_pipeline.resources.policies import PoliciesResource
from ops_pipeline.store.executions import Execution, UnknownExecution, execution, transition


@dg.op(
    out=dg.Out(dict, is_required=False, description="the execution's ticket: its id and the steps' outputs"),
    description="Admit the submission (or pick up the approved execution) and open the gate for the steps.",
)
def preflight(
    context: dg.OpExecutionContext,
    config: PreflightConfig,
    ops_store: OpsStoreResource,
    plans: PlansResource,
    policies: PoliciesResource,
) -> Iterator[dg.Output[dict]]:
    engine, now = ops_store.engine(), datetime.now(UTC)
    run_tags = dict(context.run.tags)
    job_tags = dict(context.job_def.tags)
    try:
        if run_tags.get(tags.EXECUTION):
            current = _launched(engine, run_tags[tags.EXECUTION], job_tags)
        else:
            current = _submitted(context, config, engine, plans, policies, job_tags, now)
    except (PlanError, UnknownExecution, LookupError, AccessDenied) as error:
        raise dg.Failure(description=str(error), allow_retries=False) from None
    if current is None or not _holds_targets(context, engine, current, now):
        return
    limits = policies.matrix().policy(current.sla_class, current.action_class)
    # A step-by-step (level 3) execution waits for people between its steps: only its steps have deadlines.
    deadline = execution_deadline(now, limits) if current.approval_level < 3 else None
    with engine.begin() as conn:
        begin(conn, current, context.run_id, now, deadline)
    context.instance.add_run_tags(context.run_id, {tags.EXECUTION: current.id})
    context.log.info(f"execution {current.id} ({current.plan_name} v{current.plan_version}) is running")
    yield dg.Output({"execution_id": current.id, "outputs": {}}, metadata=_metadata(current, "running"))


def _holds_targets(context: dg.OpExecutionContext, engine: sa.Engine, current: Execution, now: datetime) -> bool:
    """Take the execution's targets. A new execution whose target is busy waits `queued` without this run (the
    approvals sensor launches it when the target is free); a launched one that lost its targets ends."""
    busy = take_targets(engine, current, now)
    if busy is None:
        return True
    actor = tags.actor_of(dict(context.run.tags), "user:launchpad")
    with engine.begin() as conn:
        if current.status == "approved":
            wait_for(conn, current, busy, actor, now)
        else:
            transition(conn, current.id, "cancelled", actor=actor, now=now, reason=f"lost its targets: {busy}")
    context.log.info(f"execution {current.id} is not running here: {busy}")
    context.log_event(dg.AssetObservation(asset_key=["executions"], metadata=_metadata(current, "queued")))
    return False


def _launched(engine: sa.Engine, execution_id: str, job_tags: dict[str, str]) -> Execution | None:
    with engine.connect() as conn:
        current = execution(conn, execution_id)
    if current.plan_name != job_tags.get(tags.PLAN):
        raise LookupError(f"execution {execution_id} runs plan {current.plan_name!r}, not this job's")
    if current.status not in ("approved", "queued"):
        raise LookupError(f"execution {execution_id} is {current.status}; it cannot start again (submit it anew)")
    return current


def _submitted(
    context: dg.OpExecutionContext,
    config: PreflightConfig,
    engine: sa.Engine,
    plans: PlansResource,
    policies: PoliciesResource,
    job_tags: dict[str, str],
    now: datetime,
) -> Execution | None:
    plan_file = plans.catalog().plan(job_tags[tags.PLAN])
    actor = config.actor or tags.actor_of(dict(context.run.tags), "user:launchpad")
    plan = plan_file.plan
    check_submit(engine, policies.rbac_policy(), plan, tenant=config.tenant or None, actor=actor, now=now)
    submission = Submission(
        plan=plan_file.plan,
        origin=str(plan_file.path),
        actor=actor_id(actor),
        parameters=json.loads(config.parameters_json),
        tenant=config.tenant or None,
        idempotency_key=config.idempotency_key or None,
        version=config.version or None,
        expected_structure=job_tags[tags.STRUCTURE],
        run_id=context.run_id,
    )
    admission = admit(engine, submission, plans.admission_policy(), now)
    current = admission.execution
    context.instance.add_run_tags(context.run_id, {tags.EXECUTION: current.id})
    if admission.duplicate:
        context.log.info(f"duplicate submission: execution {current.id} ({current.status}) holds this key")
        context.log_event(dg.AssetObservation(asset_key=["executions"], metadata=_metadata(current, "duplicate")))
        return None
    if current.status == "pending_approval":
        context.log.info(
            f"execution {current.id} awaits a level {current.approval_level} approval: "
            f"ops-pipeline approvals approve {current.id}"
            + (f" --plan-hash {current.plan_hash}" if current.approval_level >= 2 else "")
        )
        context.log_event(dg.AssetObservation(asset_key=["executions"], metadata=_metadata(current, "pending")))
        return None
    return current


def _metadata(current: Execution, outcome: str) -> dict[str, Any]:
    return {
        "outcome": outcome,
        "execution_id": current.id,
        "plan": f"{current.plan_name} v{current.plan_version}",
        "plan_hash": current.plan_hash,
        "status": current.status,
        "tenant": current.tenant,
        "approval_level": current.approval_level,
    }
