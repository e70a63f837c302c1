"""Rolling back an execution's completed steps: each one's rollback step, last completed first, so a step is
undone before the steps it depended on. A rollback that fails is recorded and the others still run: a
half-undone change is reported step by step rather than abandoned at the first error."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from ops_pipeline.core.execution.artifacts import cap_artifact
from ops_pipeline.core.execution.masking import Masker
from ops_pipeline.core.plans.graph import rollback_sequence
from ops_pipeline.core.plans.spec import AnyStep, PlanSpec
from ops_pipeline.execution.steps import StepContext, StepFailed, run_step
from ops_pipeline.store.execution_steps import move_step, steps_of
from ops_pipeline.store.executions import Execution


@dataclass(frozen=True)
class RollbackOutcome:
    step_id: str
    rollback_id: str
    succeeded: bool
    detail: str


ContextFor = Callable[[AnyStep], StepContext]


def roll_back(
    engine: sa.Engine,
    current: Execution,
    plan: PlanSpec,
    context_for: ContextFor,
    masker: Masker,
    run_id: str,
    steps: list[str] | None = None,
) -> list[RollbackOutcome]:
    """Run the rollback of every succeeded step (or of `steps`, whatever their status: a step that timed out
    undoes what it may have done), last completed first."""
    if steps is None:
        with engine.connect() as conn:
            steps = [s.step_id for s in steps_of(conn, current.id) if s.status == "succeeded"]
    return [
        _undo(engine, current, plan, step_id, rollback_id, context_for, masker, run_id)
        for step_id, rollback_id in rollback_sequence(plan, steps)
    ]


def _undo(
    engine: sa.Engine,
    current: Execution,
    plan: PlanSpec,
    step_id: str,
    rollback_id: str,
    context_for: ContextFor,
    masker: Masker,
    run_id: str,
) -> RollbackOutcome:
    rollback = plan.step(rollback_id)
    started = datetime.now(UTC)
    with engine.begin() as conn:
        move_step(
            conn,
            current.id,
            rollback_id,
            "running",
            actor="ops_pipeline",
            now=started,
            run_id=run_id,
            reason=f"rolling back {step_id}",
            attempt=1,
            started_at=started,
        )
    try:
        output = run_step(rollback, context_for(rollback))
    except StepFailed as error:
        message = masker.mask(str(error))
        with engine.begin() as conn:
            move_step(
                conn,
                current.id,
                rollback_id,
                "failed",
                actor="ops_pipeline",
                now=datetime.now(UTC),
                run_id=run_id,
                reason=message,
                error=message,
                finished_at=datetime.now(UTC),
            )
        return RollbackOutcome(step_id, rollback_id, False, message)
    artifact, truncated = cap_artifact(output, masker)
    finished = datetime.now(UTC)
    with engine.begin() as conn:
        move_step(
            conn,
            current.id,
            rollback_id,
            "succeeded",
            actor="ops_pipeline",
            now=finished,
            run_id=run_id,
            finished_at=finished,
            duration_s=(finished - started).total_seconds(),
            output=artifact,
            output_truncated=truncated,
        )
        undone = next(s for s in steps_of(conn, current.id) if s.step_id == step_id)
        if undone.status != "succeeded":
            return RollbackOutcome(step_id, rollback_id, True, "undone")
        move_step(
            conn,
            current.id,
            step_id,
            "rolled_back",
            actor="ops_pipeline",
            now=finished,
            run_id=run_id,
            reason=f"undone by {rollback_id}",
        )
    return RollbackOutcome(step_id, rollback_id, True, "undone")
