"""Reopening an execution for a requeue from the dead-letter queue: the one way out of a final status.

The state machine keeps `failed` and `timeout` final (their leases are released and nothing moves them on);
a requeue is an operator's explicit decision to re-execute the failed run from its failure, so it is its own
conditional UPDATE here (`failed | timeout -> running`), recorded as a `requeued` event, with the steps that did
not succeed set back to `pending` (attempts from zero) so the re-executed steps pass their gate again."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from ops_pipeline.store.execution_tables import execution_steps, executions
from ops_pipeline.store.executions import record_event

REQUEUEABLE = ("failed", "timeout")
RETRIED_STEPS = ("failed", "timeout", "cancelled", "running")


def reopen_for_requeue(
    conn: sa.Connection,
    execution_id: str,
    *,
    actor: str,
    now: datetime,
    parent_run_id: str,
    reason: str,
) -> bool:
    """Move the execution back to `running`; False when it is not failed or timed out (nothing changes)."""
    current = conn.execute(sa.select(executions.c.status).where(executions.c.id == execution_id)).scalar()
    moved = conn.execute(
        executions.update()
        .where(executions.c.id == execution_id, executions.c.status.in_(REQUEUEABLE))
        .values(status="running", updated_at=now, finished_at=None, deadline_at=None, reason=None)
    )
    if moved.rowcount != 1:
        return False
    record_event(
        conn,
        execution_id,
        "requeued",
        actor,
        now=now,
        from_status=current,
        to_status="running",
        run_id=parent_run_id,
        reason=reason,
    )
    retried = sa.select(execution_steps.c.step_id, execution_steps.c.status).where(
        execution_steps.c.execution_id == execution_id, execution_steps.c.status.in_(RETRIED_STEPS)
    )
    for step_id, status in conn.execute(retried).all():
        conn.execute(
            execution_steps.update()
            .where(execution_steps.c.execution_id == execution_id, execution_steps.c.step_id == step_id)
            .values(status="pending", attempt=0, started_at=None, finished_at=None, duration_s=None, error=None)
        )
        record_event(
            conn,
            execution_id,
            "step",
            actor,
            now=now,
            from_status=status,
            to_status="pending",
            step_id=step_id,
            reason="requeued",
        )
    return True
