"""`execution_launcher`, the approvals sensor: it expires approval requests nobody decided in time, launches
approved executions once they hold their targets (run key: execution and plan version, so a repeated tick
launches nothing twice; one waiting for a target stays `queued` without a run), keeps the target leases of
running executions alive, and resumes step-by-step executions at each newly approved step."""

import json
from datetime import UTC, datetime

import dagster as dg
import sqlalchemy as sa

from ops_pipeline.core.plans.graph import dependents
from ops_pipeline.core.plans.loading import parse_plan
from ops_pipeline.defs.execution import tags
from ops_pipeline.defs.execution.graphql import JobAddress, ResumeFailed, reexecute
from ops_pipeline.defs.execution.launch_form import launch_values
from ops_pipeline.execution.approval_flow import expire_due
from ops_pipeline.execution.target_locks import extend_leases, take_targets, wait_for, waited_for_targets
from ops_pipeline.resources.ops_store import OpsStoreResource
from ops_pipeline.resources.plans import PlansResource
from ops_pipeline.store.approvals import approved_unresumed, mark_resumed, requests_of
from ops_pipeline.store.executions import (
    Execution,
    execution,
    execution_or_none,
    record_event,
    transition,
    waiting_to_launch,
)
from ops_pipeline.store.leases import lease_owners
from ops_pipeline.store.plan_versions import plan_version

SENSOR = "execution_launcher"
ACTOR = f"sensor:{SENSOR}"
FINISHED_RUN_STATUSES = (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)


def launch_key(current: Execution) -> str:
    return f"execution:{current.id}:v{current.plan_version}"


def build_execution_launcher(
    plan_jobs: list[dg.JobDefinition], structures: dict[str, str], interval_s: int
) -> dg.SensorDefinition:
    """`structures`: plan job name -> the structure fingerprint of the graph loaded for it."""

    @dg.sensor(
        name=SENSOR,
        jobs=plan_jobs or None,
        minimum_interval_seconds=interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Expires undecided approvals, launches approved executions, resumes step-by-step ones.",
    )
    def execution_launcher(
        context: dg.SensorEvaluationContext, ops_store: OpsStoreResource, plans: PlansResource
    ) -> dg.SensorResult | dg.SkipReason:
        engine, now = ops_store.engine(), datetime.now(UTC)
        expired = expire_due(engine, now)
        _keep_leases_of_live_runs(context.instance, engine, now)
        requests = _launches(context, engine, structures, now)
        resumed = _resumptions(context, engine, plans, structures)
        if not (requests or resumed or expired):
            return dg.SkipReason("no approved execution waits to be launched or resumed")
        context.log.info(f"{len(requests)} launched, {len(resumed)} resumed, {len(expired)} approvals expired")
        return dg.SensorResult(run_requests=requests)

    return execution_launcher


def _launches(
    context: dg.SensorEvaluationContext, engine: sa.Engine, structures: dict[str, str], now: datetime
) -> list[dg.RunRequest]:
    with engine.connect() as conn:
        waiting = waiting_to_launch(conn)
    return [request for current in waiting if (request := _launch(context, engine, structures, current, now))]


def _launch(
    context: dg.SensorEvaluationContext,
    engine: sa.Engine,
    structures: dict[str, str],
    current: Execution,
    now: datetime,
) -> dg.RunRequest | None:
    plan = parse_plan(json.loads(current.snapshot), f"execution {current.id}")
    with engine.connect() as conn:
        structure = _structure_of(conn, current)
    if structures.get(current.plan_name) != structure:
        context.log.warning(
            f"execution {current.id}: plan {current.plan_name} v{current.plan_version} is "
            "not the graph this code location loaded; reload the code location"
        )
        return None
    busy = take_targets(engine, current, now)
    key = launch_key(current)
    with engine.begin() as conn:
        if busy:
            wait_for(conn, current, busy, ACTOR, now)
            return None
        if current.status == "approved":
            transition(conn, current.id, "queued", actor=ACTOR, now=now, reason=f"run requested ({key})")
            for request in requests_of(conn, current.id):  # level 3: this run starts the approved first steps
                if request.step_id and request.state == "approved":
                    mark_resumed(conn, request.id, key)
        elif waited_for_targets(conn, current.id):
            record_event(conn, current.id, "targets_taken", ACTOR, now=now, reason=f"run requested ({key})")
    return dg.RunRequest(
        job_name=current.plan_name,
        run_key=key,
        run_config=launch_values(plan, current.plan_version, current.tenant, current.parameters),
        tags={tags.EXECUTION: current.id, tags.ACTOR: ACTOR},
    )


def _keep_leases_of_live_runs(instance: dg.DagsterInstance, engine: sa.Engine, now: datetime) -> None:
    """Heartbeat the leases of running executions whose run Dagster still has going (the reaper deletes the
    leases nobody extended)."""
    live = []
    with engine.connect() as conn:
        for owner in lease_owners(engine):
            current = execution_or_none(conn, owner)
            run = instance.get_run_by_id(current.last_run_id) if current and current.last_run_id else None
            if current and current.status == "running" and run and run.status not in FINISHED_RUN_STATUSES:
                live.append(owner)
    extend_leases(engine, live, now)


def _structure_of(conn: sa.Connection, current: Execution) -> str:
    version = plan_version(conn, current.plan_name, current.plan_version)
    return version.structure if version else ""


def _resumptions(
    context: dg.SensorEvaluationContext, engine: sa.Engine, plans: PlansResource, structures: dict[str, str]
) -> list[str]:
    resumed = []
    with engine.connect() as conn:
        approved = approved_unresumed(conn)
    for request in approved:
        with engine.begin() as conn:
            current = execution(conn, request.execution_id)
            if current.status != "running" or not current.last_run_id or not current.root_run_id:
                continue
            plan = parse_plan(json.loads(current.snapshot), f"execution {current.id}")
            steps = [request.step_id or "", *dependents(plan, request.step_id or "")]
            origin = context.code_location_origin
            location = origin.location_name if origin else "ops_pipeline"
            address = JobAddress(location, context.repository_name or "__repository__", current.plan_name)
            try:
                run_id = reexecute(
                    plans.graphql(),
                    address,
                    parent_run_id=current.last_run_id,
                    root_run_id=current.root_run_id,
                    step_keys=steps,
                    run_config=launch_values(plan, current.plan_version, current.tenant, current.parameters),
                    tags={tags.EXECUTION: current.id, tags.ACTOR: ACTOR},
                )
            except ResumeFailed as error:
                context.log.warning(f"execution {current.id}: could not resume at {request.step_id}: {error}")
                continue
            mark_resumed(conn, request.id, run_id)
            resumed.append(run_id)
    return resumed
