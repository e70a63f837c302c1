"""The steps of an execution as the ops store keeps them: status (its own small state machine), attempt,
timings, the run that ran it, its output (masked, capped) and error. Steps move only along legal transitions,
with one conditional UPDATE each, and every move is an event in the execution's audit trail."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ops_pipeline.core.execution.states import StepStatus, check_step_transition, step_predecessors
from ops_pipeline.store.execution_tables import execution_steps
from ops_pipeline.store.executions import record_event


@dataclass(frozen=True)
class ExecutionStep:
    execution_id: str
    step_id: str
    position: int
    step_type: str
    status: StepStatus
    attempt: int
    started_at: datetime | None
    finished_at: datetime | None
    duration_s: float | None
    run_id: str | None
    output: str | None
    output_truncated: bool
    error: str | None


def insert_steps(conn: sa.Connection, execution_id: str, steps: Sequence[tuple[str, str, StepStatus]]) -> None:
    """One row per (step id, step type, first status), in plan order."""
    conn.execute(
        execution_steps.insert(),
        [
            {
                "execution_id": execution_id,
                "step_id": step_id,
                "position": position,
                "step_type": step_type,
                "status": status,
                "attempt": 0,
                "output_truncated": False,
            }
            for position, (step_id, step_type, status) in enumerate(steps)
        ],
    )


def move_step(
    conn: sa.Connection,
    execution_id: str,
    step_id: str,
    to: StepStatus,
    *,
    actor: str,
    now: datetime,
    reason: str | None = None,
    run_id: str | None = None,
    **fields: Any,
) -> StepStatus:
    """Move a step to `to` (setting `fields` too) and record the move; returns the status it left. Raises
    IllegalTransition when the step may not move there."""
    legal_sources = sorted(step_predecessors(to))
    values: dict[str, Any] = {"status": to, **fields}
    if run_id is not None:
        values["run_id"] = run_id
    where = (execution_steps.c.execution_id == execution_id, execution_steps.c.step_id == step_id)
    while True:  # another writer may move it between our read and our update: read again and decide again
        current: StepStatus | None = conn.execute(sa.select(execution_steps.c.status).where(*where)).scalar()
        if current is None:
            raise LookupError(f"execution {execution_id!r} has no step {step_id!r}")
        check_step_transition(current, to)
        moved = conn.execute(
            execution_steps.update()
            .where(*where, execution_steps.c.status == current, execution_steps.c.status.in_(legal_sources))
            .values(**values)
        )
        if moved.rowcount == 1:
            break
    record_event(
        conn,
        execution_id,
        "step",
        actor,
        now=now,
        from_status=current,
        to_status=to,
        step_id=step_id,
        run_id=run_id,
        reason=reason,
    )
    return current


def steps_of(conn: sa.Connection, execution_id: str) -> list[ExecutionStep]:
    query = (
        sa.select(execution_steps)
        .where(execution_steps.c.execution_id == execution_id)
        .order_by(execution_steps.c.position)
    )
    return [
        ExecutionStep(**{c: getattr(row, c) for c in ExecutionStep.__dataclass_fields__}) for row in conn.execute(query)
    ]


def bump_attempt(
    conn: sa.Connection, execution_id: str, step_id: str, attempt: int, *, run_id: str, now: datetime
) -> None:
    """A retry of a running step: the next attempt, recorded, the step staying running."""
    conn.execute(
        execution_steps.update()
        .where(
            execution_steps.c.execution_id == execution_id,
            execution_steps.c.step_id == step_id,
            execution_steps.c.status == "running",
        )
        .values(attempt=attempt, started_at=now, error=None)
    )
    record_event(
        conn, execution_id, "step", "ops_pipeline", now=now, step_id=step_id, run_id=run_id, reason=f"attempt {attempt}"
    )
