"""Deciding approvals: approve, reject, and expire the requests nobody decided in time.

The pure rules (`core.execution.approvals.check_approval`: level, bound plan hash, self-approval, expiry) decide
whether a decision may be recorded; this module records it and moves the execution:

* levels 1 and 2: approving moves it `pending_approval -> approved` (the approvals sensor then launches it);
  rejecting, or expiry, moves it to `rejected` (final);
* level 3 approves one step at a time: the first approval moves it to `approved`; later ones leave it
  `running` and the sensor resumes it at that step. A rejected or expired step approval ends the execution,
  `partial` when some steps ran, `cancelled` when none did (or `rejected` before it started).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import sqlalchemy as sa

from ops_pipeline.core.execution.approvals import ApprovalDecision, PendingApproval, check_approval
from ops_pipeline.core.execution.rbac import RbacPolicy
from ops_pipeline.core.execution.states import ExecutionStatus
from ops_pipeline.execution.access import actor_id, check
from ops_pipeline.store.approvals import ApprovalRequest, decide, due_for_expiry, requests_of
from ops_pipeline.store.execution_steps import steps_of
from ops_pipeline.store.executions import Execution, execution, transition


class ApprovalRefused(PermissionError):
    def __init__(self, execution_id: str, reasons: tuple[str, ...]) -> None:
        super().__init__(f"execution {execution_id}: " + "; ".join(reasons))
        self.reasons = reasons


def approve(
    engine: sa.Engine,
    execution_id: str,
    *,
    tenant: str,
    approver: str,
    now: datetime,
    plan_hash: str | None = None,
    step_id: str | None = None,
    reason: str | None = None,
    rbac: RbacPolicy | None = None,
) -> Execution:
    """Approve (RBAC action `approve` on `plan:<name>` when `rbac` is given, checked and recorded first)."""
    return _decide(engine, execution_id, "approve", tenant, approver, now, plan_hash, step_id, reason, rbac)


def reject(
    engine: sa.Engine,
    execution_id: str,
    *,
    tenant: str,
    actor: str,
    now: datetime,
    step_id: str | None = None,
    reason: str | None = None,
    rbac: RbacPolicy | None = None,
) -> Execution:
    return _decide(engine, execution_id, "reject", tenant, actor, now, None, step_id, reason, rbac)


def expire_due(engine: sa.Engine, now: datetime) -> list[str]:
    """Expire every pending request past its time and end its execution; returns the executions ended."""
    ended = []
    with engine.begin() as conn:
        for request in due_for_expiry(conn, now):
            decide(conn, request, "expired", actor="ops_pipeline", now=now, reason="approval expired")
            _end_for(conn, execution(conn, request.execution_id), "ops_pipeline", "approval expired", now)
            ended.append(request.execution_id)
    return ended


def _decide(
    engine: sa.Engine,
    execution_id: str,
    decision: Literal["approve", "reject"],
    tenant: str,
    actor: str,
    now: datetime,
    plan_hash: str | None,
    step_id: str | None,
    reason: str | None,
    rbac: RbacPolicy | None,
) -> Execution:
    actor = actor_id(actor)
    if rbac is not None:
        with engine.connect() as conn:
            target = execution(conn, execution_id, tenant)
        check(
            engine,
            rbac,
            tenant=tenant,
            actor=actor,
            action=decision,
            resources=[f"plan:{target.plan_name}"],
            environment=target.environment,
            now=now,
            execution_id=execution_id,
        )
    with engine.begin() as conn:
        current = execution(conn, execution_id, tenant)
        request = _pending_request(conn, current, step_id)
        verdict = check_approval(
            PendingApproval(
                level=request.level,
                execution_plan_hash=current.plan_hash,
                submitter=current.submitted_by,
                requested_at=request.requested_at,
                expires_at=request.expires_at,
                step_id=request.step_id,
                state=request.state,
            ),
            ApprovalDecision(approver=actor, decision=decision, at=now, plan_hash=plan_hash, step_id=step_id),
        )
        if verdict.new_state == "expired" and request.state == "pending":
            decide(conn, request, "expired", actor="ops_pipeline", now=now, reason="approval expired")
            _end_for(conn, current, "ops_pipeline", "approval expired", now)
        if not verdict.accepted:
            refused = ApprovalRefused(execution_id, verdict.reasons)
        else:
            state: Literal["approved", "rejected"] = "approved" if decision == "approve" else "rejected"
            decide(conn, request, state, actor=actor, now=now, reason=reason)
            if state == "approved" and current.status == "pending_approval":
                transition(conn, execution_id, "approved", actor=actor, now=now, reason=reason or "approved")
            elif state == "rejected":
                _end_for(conn, current, actor, f"rejected: {reason}" if reason else "rejected", now)
            return execution(conn, execution_id)
    raise refused  # after the transaction, so an expiry found on the way is recorded


def _pending_request(conn: sa.Connection, current: Execution, step_id: str | None) -> ApprovalRequest:
    requests = requests_of(conn, current.id)
    if current.approval_level == 0:
        raise ApprovalRefused(current.id, ("level 0 executions need no approval",))
    by_step = current.approval_level == 3 and step_id is not None
    wanted = [r for r in requests if r.step_id == step_id] if by_step else requests
    pending = [r for r in wanted if r.state == "pending"]
    if pending:
        return pending[0]
    if wanted:
        return wanted[-1]  # check_approval explains that it was decided already
    if current.approval_level == 3:
        waiting = ", ".join(r.step_id or "" for r in requests if r.state == "pending") or "none"
        raise ApprovalRefused(current.id, (f"no approval is requested for step {step_id!r} (waiting: {waiting})",))
    raise ApprovalRefused(current.id, ("no approval is requested for this execution",))


def _end_for(conn: sa.Connection, current: Execution, actor: str, reason: str, now: datetime) -> None:
    """End an execution whose approval was refused: it never runs the step (or anything) that was waiting."""
    status = execution(conn, current.id).status
    if status in ("pending_approval", "approved", "queued"):
        final: ExecutionStatus = "rejected" if status == "pending_approval" else "cancelled"
    elif status == "running":
        ran = any(s.status == "succeeded" for s in steps_of(conn, current.id))
        final = "partial" if ran else "cancelled"
    else:
        return  # already final
    transition(conn, current.id, final, actor=actor, now=now, reason=reason, finished_at=now)
