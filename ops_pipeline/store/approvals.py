"""Approval requests and decisions in the ops store. A request is bound to the plan hash it is for; a decision
is recorded once (pending -> approved | rejected | expired, by one conditional UPDATE), with who and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa

from ops_pipeline.store.execution_tables import approvals, executions
from ops_pipeline.store.executions import event, record_event, record_events

ApprovalState = Literal["pending", "approved", "rejected", "expired"]


@dataclass(frozen=True)
class ApprovalRequest:
    id: int
    execution_id: str
    step_id: str | None
    level: int
    plan_hash: str
    state: ApprovalState
    requested_at: datetime
    expires_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None
    resumed_run_id: str | None


class AlreadyDecided(ValueError):
    pass


def request_approval(
    conn: sa.Connection,
    execution_id: str,
    level: int,
    plan_hash: str,
    *,
    step_id: str | None,
    actor: str,
    now: datetime,
    expires_at: datetime,
) -> None:
    record_events(conn, insert_requests(conn, execution_id, level, plan_hash, [step_id], actor, now, expires_at))


def insert_requests(
    conn: sa.Connection,
    execution_id: str,
    level: int,
    plan_hash: str,
    step_ids: list[str | None],
    actor: str,
    now: datetime,
    expires_at: datetime,
) -> list[dict[str, Any]]:
    """One request per step (None: the whole execution); returns their audit events for the caller to record
    (admission writes all of a submission's events in one statement)."""
    conn.execute(
        approvals.insert(),
        [
            {
                "execution_id": execution_id,
                "step_id": step_id,
                "level": level,
                "plan_hash": plan_hash,
                "state": "pending",
                "requested_at": now,
                "expires_at": expires_at,
            }
            for step_id in step_ids
        ],
    )
    return [
        event(
            execution_id,
            "approval_requested",
            actor,
            now=now,
            step_id=step_id,
            reason=f"{f'step {step_id}' if step_id else f'level {level}'} approval requested, "
            f"expires {expires_at:%Y-%m-%d %H:%M:%S} UTC",
        )
        for step_id in step_ids
    ]


def decide(
    conn: sa.Connection,
    request: ApprovalRequest,
    state: Literal["approved", "rejected", "expired"],
    *,
    actor: str,
    now: datetime,
    reason: str | None,
) -> None:
    """Record the decision on a pending request; raises AlreadyDecided when someone decided it first."""
    decided = conn.execute(
        approvals.update()
        .where(approvals.c.id == request.id, approvals.c.state == "pending")
        .values(state=state, decided_by=actor, decided_at=now, reason=reason)
    )
    if decided.rowcount != 1:
        raise AlreadyDecided(f"approval {request.id} of execution {request.execution_id} was already decided")
    record_event(
        conn, request.execution_id, f"approval_{state}", actor, now=now, step_id=request.step_id, reason=reason
    )


def mark_resumed(conn: sa.Connection, request_id: int, run_id: str) -> bool:
    """Claim the resumption of a level-3 execution at an approved step; False when it was claimed already."""
    claimed = conn.execute(
        approvals.update()
        .where(approvals.c.id == request_id, approvals.c.resumed_run_id.is_(None))
        .values(resumed_run_id=run_id)
    )
    return claimed.rowcount == 1


def requests_of(conn: sa.Connection, execution_id: str) -> list[ApprovalRequest]:
    query = sa.select(approvals).where(approvals.c.execution_id == execution_id).order_by(approvals.c.id)
    return [_request(row) for row in conn.execute(query)]


def pending_requests(conn: sa.Connection, tenant: str | None, limit: int = 200) -> list[ApprovalRequest]:
    """Pending requests, oldest first; `tenant` None gives every tenant's."""
    query = (
        sa.select(approvals)
        .join(executions, executions.c.id == approvals.c.execution_id)
        .where(approvals.c.state == "pending")
        .order_by(approvals.c.requested_at, approvals.c.id)
        .limit(limit)
    )
    if tenant is not None:
        query = query.where(executions.c.tenant == tenant)
    return [_request(row) for row in conn.execute(query)]


def due_for_expiry(conn: sa.Connection, now: datetime) -> list[ApprovalRequest]:
    query = sa.select(approvals).where(approvals.c.state == "pending", approvals.c.expires_at <= now)
    return [_request(row) for row in conn.execute(query)]


def approved_unresumed(conn: sa.Connection) -> list[ApprovalRequest]:
    """Approved level-3 step approvals whose step has not been resumed yet."""
    query = sa.select(approvals).where(
        approvals.c.state == "approved", approvals.c.step_id.is_not(None), approvals.c.resumed_run_id.is_(None)
    )
    return [_request(row) for row in conn.execute(query)]


def _request(row: sa.Row) -> ApprovalRequest:
    return ApprovalRequest(**{c: getattr(row, c) for c in ApprovalRequest.__dataclass_fields__})


def summaries(conn: sa.Connection, execution_ids: list[str]) -> dict[str, list[ApprovalRequest]]:
    """Each execution's approval requests, for listings."""
    if not execution_ids:
        return {}
    query = sa.select(approvals).where(approvals.c.execution_id.in_(execution_ids)).order_by(approvals.c.id)
    found: dict[str, list[ApprovalRequest]] = {}
    for row in conn.execute(query):
        found.setdefault(row.execution_id, []).append(_request(row))
    return found
