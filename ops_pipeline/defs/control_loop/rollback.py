"""The rollback action: the plan's rollback steps for the execution's completed steps, last completed first,
run in this op with the same step runners, time budgets and masking as the plan's own steps."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from ops_pipeline.core.plans.loading import parse_plan
from ops_pipeline.core.plans.spec import AnyStep
from ops_pipeline.defs.execution.step_context import StepResources, budget_s, context_for
from ops_pipeline.execution.recovery.continuation import ActionRefused
from ops_pipeline.execution.rollback import roll_back
from ops_pipeline.execution.steps import StepContext
from ops_pipeline.store.executions import execution

ROLLBACK_FROM = ("completed", "failed", "timeout", "cancelled", "partial")


def rollback_execution(
    context: dg.OpExecutionContext, execution_id: str, steps: list[str]
) -> tuple[str, dict[str, Any]]:
    """(outcome, details); raises dg.Failure when a rollback step failed (the others still ran)."""
    resources = StepResources.of(context)
    engine = resources.ops_store.engine()
    with engine.connect() as conn:
        current = execution(conn, execution_id)
    if current.status not in ROLLBACK_FROM:
        raise ActionRefused(
            f"execution {current.id} is {current.status}; roll back an execution that ended "
            f"({', '.join(ROLLBACK_FROM)}); cancel a running one, which rolls back by itself"
        )
    plan = parse_plan(json.loads(current.snapshot), f"execution {current.id}")
    if not plan.rollback_steps:
        raise ActionRefused(f"plan {plan.name} v{current.plan_version} has no rollback steps")
    unknown = [step for step in steps if step not in {s.id for s in plan.steps}]
    if unknown:
        raise ActionRefused(f"plan {plan.name} has no step {', '.join(unknown)}")
    masker = resources.policies.masker()

    def make(step: AnyStep) -> StepContext:
        budget = budget_s(current, plan, step.id, datetime.now(UTC), resources.policies, rollback=True)
        return context_for(current, step, {}, budget, masker, resources, context.log.info)

    outcomes = roll_back(engine, current, plan, make, masker, context.run_id, steps=steps or None)
    details = {
        "rollbacks": [
            {"step": o.step_id, "rollback": o.rollback_id, "ok": o.succeeded, "detail": o.detail} for o in outcomes
        ]
    }
    summary = "; ".join(f"{o.rollback_id} for {o.step_id}: {o.detail}" for o in outcomes) or "nothing to roll back"
    failed = [o for o in outcomes if not o.succeeded]
    if failed:
        raise dg.Failure(description=f"{len(failed)} rollback step(s) failed: {summary}", allow_retries=False)
    return summary, details
