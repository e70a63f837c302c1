"""An execution's progress as its steps run: the gate each step passes as it starts, and the records of a step
starting, succeeding, failing or being skipped, which move the execution along with it.

The gate is checked by every step, whoever launched it, so selecting a step by hand in the launchpad or
re-executing it from the UI cannot bypass an approval, run it twice, or run it before the steps it needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import sqlalchemy as sa

from ops_pipeline.core.execution.approvals import RecordedApproval, expires_at, gate_refusal
from ops_pipeline.core.execution.states import StepStatus
from ops_pipeline.core.plans.spec import PlanSpec
from ops_pipeline.store.approvals import ApprovalRequest, request_approval, requests_of
from ops_pipeline.store.execution_steps import ExecutionStep, bump_attempt, move_step, steps_of
from ops_pipeline.store.executions import Execution, execution, transition

DONE: frozenset[StepStatus] = frozenset({"succeeded", "skipped"})
GateAction = Literal["run", "wait", "skip", "refuse"]


@dataclass(frozen=True)
class Gate:
    action: GateAction
    reason: str


def gate(conn: sa.Connection, current: Execution, plan: PlanSpec, step_id: str, retrying_in: str | None = None) -> Gate:
    """May `step_id` start now? `wait` means it pauses for its approval (level 3), nothing is wrong.
    `retrying_in`: the run retrying the step (a retry may find its step running; nothing else may)."""
    steps = {s.step_id: s for s in steps_of(conn, current.id)}
    if current.status != "running":
        return Gate("refuse", f"execution {current.id} is {current.status}, not running")
    mine = steps[step_id]
    if mine.status in DONE or mine.status in ("failed", "timeout", "cancelled", "rolled_back"):
        return Gate("refuse", f"step {step_id!r} already ended {mine.status}")
    if mine.status == "running" and (retrying_in is None or mine.run_id != retrying_in):
        return Gate("refuse", f"step {step_id!r} is already running in run {mine.run_id}")
    missing = [d for d in plan.step(step_id).depends_on if steps[d].status not in DONE]
    if missing:
        return Gate("refuse", f"step {step_id!r} needs {', '.join(missing)} done first")
    if step_id in plan.skipped_steps:
        return Gate("skip", "skipped by the plan version (a replan)")
    approval = _approval_for(requests_of(conn, current.id), current.approval_level, step_id)
    refusal = gate_refusal(current.approval_level, current.plan_hash, step_id, approval)
    if refusal is None:
        return Gate("run", "")
    waiting = current.approval_level == 3 and (approval is None or approval.state == "pending")
    return Gate("wait" if waiting else "refuse", refusal)


def _approval_for(requests: list[ApprovalRequest], level: int, step_id: str) -> RecordedApproval | None:
    relevant = [r for r in requests if r.step_id == step_id] if level == 3 else requests
    if not relevant:
        return None
    latest = relevant[-1]
    return RecordedApproval(latest.state, latest.plan_hash, latest.step_id)


def begin(conn: sa.Connection, current: Execution, run_id: str, now: datetime, deadline_at: datetime | None) -> None:
    """The first run of an approved (or queued) execution starts it; its deadline is set once, here."""
    transition(
        conn,
        current.id,
        "running",
        actor="ops_pipeline",
        now=now,
        run_id=run_id,
        reason="run started",
        started_at=now,
        deadline_at=deadline_at,
        root_run_id=current.root_run_id or run_id,
    )


def pause_for_approval(
    conn: sa.Connection, current: Execution, step_id: str, now: datetime, expiry: dict[int, float] | None
) -> None:
    """Level 3: the step waits for its own approval; request it once."""
    requests = [r for r in requests_of(conn, current.id) if r.step_id == step_id]
    if any(r.state == "pending" for r in requests):
        return
    move_step(conn, current.id, step_id, "awaiting_approval", actor="ops_pipeline", now=now, reason="needs approval")
    request_approval(
        conn,
        current.id,
        3,
        current.plan_hash,
        step_id=step_id,
        actor="ops_pipeline",
        now=now,
        expires_at=expires_at(3, now, expiry),
    )


def start_step(
    conn: sa.Connection, current: Execution, step_id: str, run_id: str, now: datetime, retry: bool = False
) -> int:
    """Mark the step running (a retry finds it running already); returns its attempt number (1 for the first)."""
    attempt = next(s.attempt for s in steps_of(conn, current.id) if s.step_id == step_id) + 1
    if retry:
        bump_attempt(conn, current.id, step_id, attempt, run_id=run_id, now=now)
        return attempt
    move_step(
        conn,
        current.id,
        step_id,
        "running",
        actor="ops_pipeline",
        now=now,
        run_id=run_id,
        reason=f"attempt {attempt}",
        attempt=attempt,
        started_at=now,
        finished_at=None,
        error=None,
    )
    return attempt


def succeed_step(
    conn: sa.Connection,
    current: Execution,
    plan: PlanSpec,
    step_id: str,
    *,
    output: str,
    truncated: bool,
    started_at: datetime,
    run_id: str,
    now: datetime,
    expiry: dict[int, float] | None = None,
) -> None:
    move_step(
        conn,
        current.id,
        step_id,
        "succeeded",
        actor="ops_pipeline",
        now=now,
        run_id=run_id,
        finished_at=now,
        duration_s=(now - started_at) / timedelta(seconds=1),
        output=output,
        output_truncated=truncated,
    )
    _after_step(conn, current, plan, run_id, now, expiry)


def skip_step(
    conn: sa.Connection, current: Execution, plan: PlanSpec, step_id: str, reason: str, run_id: str, now: datetime
) -> None:
    move_step(conn, current.id, step_id, "skipped", actor="ops_pipeline", now=now, run_id=run_id, reason=reason)
    _after_step(conn, current, plan, run_id, now, None)


def fail_step(
    conn: sa.Connection,
    current: Execution,
    step_id: str,
    *,
    status: Literal["failed", "timeout", "cancelled"],
    error: str,
    run_id: str,
    now: datetime,
) -> None:
    """The step ended without success: it and its execution end `status` (a failed execution's done steps
    stay as they are for a rollback or a rerun to act on). A step that had started keeps how long its last
    attempt ran."""
    started_at = next(s.started_at for s in steps_of(conn, current.id) if s.step_id == step_id)
    move_step(
        conn,
        current.id,
        step_id,
        status,
        actor="ops_pipeline",
        now=now,
        run_id=run_id,
        reason=error,
        error=error,
        finished_at=now,
        duration_s=(now - started_at) / timedelta(seconds=1) if started_at else None,
    )
    if execution(conn, current.id).status == "running":
        transition(
            conn,
            current.id,
            status,
            actor="ops_pipeline",
            now=now,
            run_id=run_id,
            reason=f"step {step_id}: {error}",
            finished_at=now,
        )


def _after_step(
    conn: sa.Connection, current: Execution, plan: PlanSpec, run_id: str, now: datetime, expiry: dict[int, float] | None
) -> None:
    steps = {s.step_id: s for s in steps_of(conn, current.id)}
    forward = [s.id for s in plan.steps]
    if all(steps[s].status in DONE for s in forward):
        transition(
            conn,
            current.id,
            "completed",
            actor="ops_pipeline",
            now=now,
            run_id=run_id,
            reason="every step done",
            finished_at=now,
        )
        return
    if current.approval_level == 3:
        for step_id in _now_runnable(plan, steps):
            pause_for_approval(conn, current, step_id, now, expiry)


def _now_runnable(plan: PlanSpec, steps: dict[str, ExecutionStep]) -> list[str]:
    return [
        s.id
        for s in plan.steps
        if steps[s.id].status == "pending" and all(steps[d].status in DONE for d in s.depends_on)
    ]
