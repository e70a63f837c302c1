"""The recovery actions as jobs anyone can launch (the UI launchpad, `ops-pipeline actions ...`, the control
loop): rerun, replan, skip, rollback and debug an execution. Each is audited with its actor, trigger and
outcome (`recovery_actions`), and refuses with the reason when it cannot apply."""

import json
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from ops_pipeline.core.control_loop import PlanPatch
from ops_pipeline.defs.control_loop.action_config import (
    DebugConfig,
    ReplanConfig,
    RerunConfig,
    RollbackConfig,
    SkipConfig,
)
from ops_pipeline.defs.control_loop.audit import ActionResult, actor_of, audited
from ops_pipeline.defs.control_loop.rollback import rollback_execution
from ops_pipeline.defs.control_loop.run_events import run_events_of, run_ids_of
from ops_pipeline.defs.execution import tags
from ops_pipeline.defs.execution.jobs import flat_config as flat_form
from ops_pipeline.execution.recovery.actions import launch_failed, launched, replan, start_continuation
from ops_pipeline.execution.recovery.continuation import ActionRefused
from ops_pipeline.execution.recovery.debug_bundle import write_bundle
from ops_pipeline.execution.recovery.deciding import manual_replan_event
from ops_pipeline.execution.webserver import Webserver, WebserverError
from ops_pipeline.resources.control_loop import ControlLoopResource
from ops_pipeline.resources.ops_store import OpsStoreResource
from ops_pipeline.resources.plans import PlansResource
from ops_pipeline.resources.policies import PoliciesResource
from ops_pipeline.store.control_loop import record_replan_result
from ops_pipeline.store.executions import events_of, execution


def _continue(
    context: dg.OpExecutionContext,
    config: RerunConfig | SkipConfig,
    result: ActionResult,
    ops_store: OpsStoreResource,
    plans: PlansResource,
    skip: str | None,
) -> None:
    engine, actor, now = ops_store.engine(), actor_of(context, config), datetime.now(UTC)
    reason = config.reason or ("rerun from the failure" if skip is None else f"skip {skip or 'the failed step'}")
    continuation = start_continuation(engine, config.execution_id, actor=actor, reason=reason, now=now, skip=skip)
    result.result_execution_id = continuation.id
    result.result_plan_version = continuation.plan_version
    try:
        run_id = Webserver(plans.graphql()).reexecute_from_failure(
            continuation.last_run_id or "",
            {tags.EXECUTION: continuation.id, tags.ACTOR: actor, "ops/recovery_of": config.execution_id},
        )
    except WebserverError as error:
        launch_failed(engine, continuation.id, str(error), actor, datetime.now(UTC))
        raise
    launched(engine, continuation.id, run_id, actor, datetime.now(UTC))
    result.outcome = (
        f"continuation {continuation.id} (v{continuation.plan_version}) re-executes from the failure in run {run_id}"
    )
    result.details = {"run_id": run_id}


@dg.op(description="Re-execute an ended execution from its failure, as a continuation in the same run group.")
def rerun_op(
    context: dg.OpExecutionContext, config: RerunConfig, ops_store: OpsStoreResource, plans: PlansResource
) -> None:
    with audited(context, ops_store.engine(), "rerun", config) as result:
        _continue(context, config, result, ops_store, plans, skip=None)


@dg.op(description="Skip a failed step and continue the execution from the next one.")
def skip_op(
    context: dg.OpExecutionContext, config: SkipConfig, ops_store: OpsStoreResource, plans: PlansResource
) -> None:
    with audited(context, ops_store.engine(), "skip", config) as result:
        _continue(context, config, result, ops_store, plans, skip=config.step)


def _patch(config: ReplanConfig) -> PlanPatch:
    try:
        parameters = json.loads(config.parameters_json or "{}")
    except json.JSONDecodeError as error:
        raise ActionRefused(f"parameters_json: not valid JSON: {error}") from None
    try:
        return PlanPatch(
            parameters=parameters,
            skip_steps=config.skip_steps,
            retry_from=config.retry_from or None,
            targets_add=config.targets_add,
            targets_remove=config.targets_remove,
            reason=config.reason or "replan",
        )
    except ValueError as error:
        raise ActionRefused(f"the patch is malformed: {error}") from None


@dg.op(description="Make a new plan version from a patch and submit it (approval again when its level needs it).")
def replan_op(
    context: dg.OpExecutionContext, config: ReplanConfig, ops_store: OpsStoreResource, plans: PlansResource
) -> dg.Output[int]:
    engine, actor, now = ops_store.engine(), actor_of(context, config), datetime.now(UTC)
    event_id = config.replan_event_id
    with audited(context, engine, "replan", config) as result:
        if not event_id:
            with engine.begin() as conn:
                event_id = manual_replan_event(conn, execution(conn, config.execution_id), actor, config.reason, now)
        try:
            done = replan(
                engine,
                config.execution_id,
                _patch(config),
                actor=actor,
                now=now,
                submit=config.submit,
                admission=plans.admission_policy(),
            )
        except ActionRefused as refused:
            with engine.begin() as conn:
                record_replan_result(conn, event_id, outcome=f"refused: {refused}")
            raise
        submitted = done.submitted
        result.result_plan_version = done.version.version
        result.result_execution_id = submitted.id if submitted else None
        result.outcome = f"{done.version.plan_name} v{done.version.version}" + (
            f"; execution {submitted.id} is {submitted.status}" if submitted else "; not submitted"
        )
        with engine.begin() as conn:
            record_replan_result(
                conn,
                event_id,
                outcome=result.outcome,
                version_after=done.version.version,
                diff=done.diff.as_dict(),
                diff_markdown=done.diff.as_markdown(),
            )
    metadata: dict[str, Any] = {
        "plan_version": done.version.version,
        "plan_hash": done.version.plan_hash,
        "replan_event": event_id,
        "diff": dg.MetadataValue.md(done.diff.as_markdown()),
    }
    return dg.Output(done.version.version, metadata=metadata)


@dg.op(
    required_resource_keys={"ops_store", "sources", "plans", "policies", "asset_service", "automation_service"},
    description="Run the plan's rollback steps for the execution's completed steps, last completed first.",
)
def rollback_op(context: dg.OpExecutionContext, config: RollbackConfig) -> None:
    with audited(context, context.resources.ops_store.engine(), "rollback", config) as result:
        result.outcome, result.details = rollback_execution(context, config.execution_id, config.steps)


@dg.op(description="Collect the execution's events, step outputs (masked), logs, catalog and signal context.")
def debug_op(
    context: dg.OpExecutionContext,
    config: DebugConfig,
    ops_store: OpsStoreResource,
    policies: PoliciesResource,
    control_loop: ControlLoopResource,
) -> dg.Output[str]:
    engine = ops_store.engine()
    with audited(context, engine, "debug", config) as result:
        with engine.connect() as conn:
            current = execution(conn, config.execution_id)
            run_ids = run_ids_of(current, [e.run_id for e in events_of(conn, current.id)])
        events = run_events_of(context.instance, run_ids)
        bundle = write_bundle(
            engine, current.id, events, policies.masker(), control_loop.bundle_dir(), datetime.now(UTC)
        )
        result.outcome = f"debug bundle {bundle.path}"
        result.details = {"bundle": str(bundle.path)}
    metadata = {"bundle": dg.MetadataValue.path(str(bundle.path)), "summary": dg.MetadataValue.md(bundle.summary)}
    return dg.Output(str(bundle.path), metadata=metadata)


ACTION_TAGS = {"ops/kind": "recovery"}


@dg.job(config=flat_form("rerun_op", RerunConfig), tags=ACTION_TAGS, description=rerun_op.description)
def rerun_execution() -> None:
    rerun_op()


@dg.job(config=flat_form("skip_op", SkipConfig), tags=ACTION_TAGS, description=skip_op.description)
def skip_execution_step() -> None:
    skip_op()


@dg.job(config=flat_form("replan_op", ReplanConfig), tags=ACTION_TAGS, description=replan_op.description)
def replan_execution() -> None:
    replan_op()


@dg.job(
    name="rollback_execution",
    config=flat_form("rollback_op", RollbackConfig),
    tags=ACTION_TAGS,
    description=rollback_op.description,
)
def rollback_job() -> None:
    rollback_op()


@dg.job(config=flat_form("debug_op", DebugConfig), tags=ACTION_TAGS, description=debug_op.description)
def debug_execution() -> None:
    debug_op()


# The job each action runs as (the loop's run requests and the CLI use these names).
ACTION_JOBS: dict[str, dg.JobDefinition] = {
    "rerun": rerun_execution,
    "skip": skip_execution_step,
    "replan": replan_execution,
    "rollback": rollback_job,
    "debug": debug_execution,
}
