"""Bringing an execution whose Dagster run is over, or gone, to a final status.

A run worker that is SIGKILLed, runs out of memory or loses its host records nothing: the execution stays
`running` and keeps its target leases. Once Dagster has given the run a final status (run monitoring, the
code server's orphan check, a termination) or the run was deleted, the reaper decides from what is known:

* the run was cancelled                                  -> `cancelled`
* the run failed past the execution's deadline, or
  run monitoring stopped it at `dagster/max_runtime`     -> `timeout`
* the run failed otherwise, or it is gone                -> `failed`

Steps still `running` end with the execution, its leases are released (in the same transaction as the status
change), and the audit trail says why. A run that succeeded is left alone: a step-by-step (level 3) execution
stays `running` between its runs while a step waits for approval.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import sqlalchemy as sa

from ops_pipeline.store.execution_steps import move_step, steps_of
from ops_pipeline.store.execution_tables import target_leases
from ops_pipeline.store.executions import Execution, transition

ACTOR = "ops_pipeline:reaper"
RunEnd = Literal["failed", "cancelled", "gone"]
FinalStatus = Literal["failed", "timeout", "cancelled"]
MAX_RUNTIME_WORDS = ("max_runtime", "maximum runtime", "max runtime")


@dataclass(frozen=True)
class Reaped:
    execution_id: str
    status: FinalStatus
    run_id: str
    reason: str
    released: list[str]  # the targets whose leases it held


def final_status(current: Execution, run_end: RunEnd, run_message: str, now: datetime) -> FinalStatus:
    if run_end == "cancelled":
        return "cancelled"
    past_deadline = current.deadline_at is not None and now >= current.deadline_at
    if run_end == "failed" and (past_deadline or any(w in run_message.lower() for w in MAX_RUNTIME_WORDS)):
        return "timeout"
    return "failed"


def reap(
    conn: sa.Connection, current: Execution, run_id: str, run_end: RunEnd, run_message: str, now: datetime
) -> Reaped:
    """End `current` (still `running` although its newest run `run_id` is over or gone); release its leases."""
    status = final_status(current, run_end, run_message, now)
    what = {"failed": f"failed: {run_message or 'no reason given'}", "cancelled": "was cancelled", "gone": "is gone"}
    released = sorted(
        conn.execute(sa.select(target_leases.c.target).where(target_leases.c.owner == current.id)).scalars().all()
    )
    reason = f"its Dagster run {run_id} {what[run_end]}; nothing recorded the end"
    if released:
        reason += f"; released target leases: {', '.join(released)}"
    for step in steps_of(conn, current.id):
        if step.status == "running":
            move_step(
                conn,
                current.id,
                step.step_id,
                status,
                actor=ACTOR,
                now=now,
                run_id=run_id,
                reason=reason,
                error=reason,
                finished_at=now,
            )
    transition(conn, current.id, status, actor=ACTOR, now=now, reason=reason, finished_at=now)
    return Reaped(current.id, status, run_id, reason, released)
