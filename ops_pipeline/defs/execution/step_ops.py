"""The five step ops every plan job is built from (one op definition per step type, invoked under an alias per
plan step: Dagster wants op names unique across the code location).

Each step finds its execution (the run's `ops/execution_id` tag, else the ticket it receives), its spec in the
execution's plan snapshot (the exact version it runs, not the file on disk), passes the gate (approval, plan
hash, the steps it needs, RBAC on what it touches), runs within its time budget, and records its outcome. Its
output is the ticket with its own output added, so a later step (a validation) reads any earlier step's output.

What happens when a step does not succeed:
* a transient failure, while attempts remain (the SLA x action matrix), is retried by the node's RetryPolicy;
* a step past its deadline ends `timeout`: its process group is already killed, its own rollback runs, and the
  execution ends `timeout`;
* any other failure, or the last attempt, ends the step and its execution `failed`;
* a terminated run (UI, GraphQL, `ops-pipeline executions cancel`) interrupts the step within a second: its
  children are killed, the completed steps' rollbacks run last first, the execution ends `cancelled`.
The execution's target leases are released whenever it ends (by the store, as it records the end).
"""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal

import dagster as dg

from ops_pipeline.core.execution.artifacts import cap_artifact
from ops_pipeline.core.execution.retries import is_retryable
from ops_pipeline.core.plans.loading import parse_plan
from ops_pipeline.core.plans.spec import PlanSpec
from ops_pipeline.defs.execution import tags
from ops_pipeline.defs.execution.step_context import StepResources, access_refusal, budget_s, context_for
from ops_pipeline.execution.progress import (
    fail_step,
    gate,
    pause_for_approval,
    skip_step,
    start_step,
    succeed_step,
)
from ops_pipeline.execution.rollback import roll_back
from ops_pipeline.execution.steps import StepFailed, run_step
from ops_pipeline.store.executions import Execution, execution, record_event

STEP_TYPES = ("command", "http", "sql", "file", "validation")


@lru_cache(maxsize=64)
def plan_of(snapshot: str) -> PlanSpec:
    return parse_plan(json.loads(snapshot), "execution snapshot")


def _ticket(after: list[dict[str, Any]]) -> dict[str, Any]:
    outputs: dict[str, Any] = {}
    for upstream in after:
        outputs.update(upstream["outputs"])
    return {"execution_id": after[0]["execution_id"], "outputs": outputs}


def run_plan_step(
    context: dg.OpExecutionContext, after: list[dict[str, Any]], resources: StepResources
) -> Iterator[dg.Output[dict[str, Any]]]:
    ticket, step_id = _ticket(after), context.op_handle.name
    # A rerun re-executes an earlier run's steps for a new execution: the run's tag names it.
    execution_id = context.run.tags.get(tags.EXECUTION) or ticket["execution_id"]
    engine, now = resources.ops_store.engine(), datetime.now(UTC)
    retrying = context.retry_number > 0
    with engine.begin() as conn:
        current = execution(conn, execution_id)
        plan = plan_of(current.snapshot)
        decision = gate(conn, current, plan, step_id, retrying_in=context.run_id if retrying else None)
        if decision.action == "wait":
            pause_for_approval(conn, current, step_id, now, resources.plans.expiry())
        elif decision.action == "skip":
            skip_step(conn, current, plan, step_id, decision.reason, context.run_id, now)
    if decision.action == "refuse":
        raise dg.Failure(description=f"step {step_id} refused: {decision.reason}", allow_retries=False)
    if decision.action == "wait":
        context.log.info(f"step {step_id} waits for its approval: {decision.reason}")
        return
    if decision.action == "skip":
        yield dg.Output({**ticket, "execution_id": execution_id}, metadata={"step": step_id, "status": "skipped"})
        return
    refusal = access_refusal(engine, current, plan.step(step_id), resources.policies, now)
    if refusal:
        with engine.begin() as conn:  # the attempt ends at the check, before the step touches anything
            start_step(conn, current, step_id, context.run_id, now, retry=retrying)
            fail_step(conn, current, step_id, status="failed", error=refusal, run_id=context.run_id, now=now)
        raise dg.Failure(
            description=f"step {step_id}: {refusal}", metadata={"failure_class": "permission"}, allow_retries=False
        )
    yield _run(context, current, plan, step_id, {**ticket, "execution_id": execution_id}, resources, retrying)


def _run(
    context: dg.OpExecutionContext,
    current: Execution,
    plan: PlanSpec,
    step_id: str,
    ticket: dict[str, Any],
    resources: StepResources,
    retrying: bool,
) -> dg.Output[dict[str, Any]]:
    engine, started = resources.ops_store.engine(), datetime.now(UTC)
    with engine.begin() as conn:
        attempt = start_step(conn, current, step_id, context.run_id, started, retry=retrying)
    masker = resources.policies.masker()
    step = plan.step(step_id)
    budget = budget_s(current, plan, step_id, started, resources.policies)
    step_context = context_for(current, step, ticket["outputs"], budget, masker, resources, context.log.info)
    try:
        output = run_step(step, step_context)
    except StepFailed as error:
        raise _failed(context, current, plan, step_id, error, attempt, masker, resources) from None
    except dg.DagsterExecutionInterruptedError:
        _cancelled(context, current, plan, step_id, masker, resources)
        raise
    artifact, truncated = cap_artifact(output, masker)
    finished = datetime.now(UTC)
    with engine.begin() as conn:
        succeed_step(
            conn,
            current,
            plan,
            step_id,
            output=artifact,
            truncated=truncated,
            started_at=started,
            run_id=context.run_id,
            now=finished,
            expiry=resources.plans.expiry(),
        )
    metadata: dict[str, Any] = {
        "step": step_id,
        "type": step.type,
        "attempt": attempt,
        "duration_s": round((finished - started).total_seconds(), 3),
        "output": dg.MetadataValue.json(json.loads(artifact)),
    }
    return dg.Output({**ticket, "outputs": {**ticket["outputs"], step_id: output}}, metadata=metadata)


def _failed(
    context: dg.OpExecutionContext,
    current: Execution,
    plan: PlanSpec,
    step_id: str,
    error: StepFailed,
    attempt: int,
    masker: Any,
    resources: StepResources,
) -> dg.Failure:
    message = masker.mask(str(error))
    engine, now = resources.ops_store.engine(), datetime.now(UTC)
    attempts = resources.policies.matrix().policy(current.sla_class, current.action_class).max_attempts
    step = plan.step(step_id)
    if is_retryable(error.failure_class) and step.retry and attempt < attempts:
        with engine.begin() as conn:
            record_event(
                conn,
                current.id,
                "step_retry",
                "ops_pipeline",
                now=now,
                step_id=step_id,
                run_id=context.run_id,
                reason=f"attempt {attempt} of {attempts} failed: {message}",
            )
        return dg.Failure(
            description=f"step {step_id}, attempt {attempt}: {message}",
            metadata={"failure_class": error.failure_class},
            allow_retries=True,
        )
    status: Literal["failed", "timeout"] = "timeout" if error.failure_class == "timeout" else "failed"
    with engine.begin() as conn:
        fail_step(conn, current, step_id, status=status, error=message, run_id=context.run_id, now=now)
    if status == "timeout" and step.rollback:
        outcomes = roll_back(
            engine,
            current,
            plan,
            _context_maker(current, masker, resources, context),
            masker,
            context.run_id,
            steps=[step_id],
        )
        context.log.info("; ".join(f"rollback {o.rollback_id}: {o.detail}" for o in outcomes) or "no rollback")
    return dg.Failure(
        description=f"step {step_id}: {message}", metadata={"failure_class": error.failure_class}, allow_retries=False
    )


def _cancelled(
    context: dg.OpExecutionContext,
    current: Execution,
    plan: PlanSpec,
    step_id: str,
    masker: Any,
    resources: StepResources,
) -> None:
    engine, now = resources.ops_store.engine(), datetime.now(UTC)
    with engine.begin() as conn:
        fail_step(
            conn, current, step_id, status="cancelled", error="the run was terminated", run_id=context.run_id, now=now
        )
    outcomes = roll_back(
        engine, current, plan, _context_maker(current, masker, resources, context), masker, context.run_id
    )
    context.log.info(
        "cancelled; " + ("; ".join(f"rollback {o.rollback_id}: {o.detail}" for o in outcomes) or "nothing to roll back")
    )


def _context_maker(current: Execution, masker: Any, resources: StepResources, context: dg.OpExecutionContext) -> Any:
    def make(step: Any) -> Any:
        plan = plan_of(current.snapshot)
        budget = budget_s(current, plan, step.id, datetime.now(UTC), resources.policies, rollback=True)
        return context_for(current, step, {}, budget, masker, resources, context.log.info)

    return make


def _step_op(step_type: str) -> dg.OpDefinition:
    @dg.op(
        name=f"{step_type}_step",
        ins={"after": dg.In(list, description="the tickets of the steps this one depends on")},
        out=dg.Out(dict, is_required=False, description="the ticket with this step's output added"),
        required_resource_keys=set(StepResources.KEYS),
        description=f"Runs one {step_type} step of a plan (the node's name is the step id).",
    )
    def step_op(context: dg.OpExecutionContext, after: list[dict[str, Any]]) -> Iterator[dg.Output[dict[str, Any]]]:
        yield from run_plan_step(context, after, StepResources.of(context))

    return step_op


STEP_OPS: dict[str, dg.OpDefinition] = {step_type: _step_op(step_type) for step_type in STEP_TYPES}
