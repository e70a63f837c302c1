"""Executions in the ops store: admission rows, idempotency keys, the state machine and the audit trail.

Every status change goes through `transition`: one conditional UPDATE that only matches when the current status
may legally move to the new one (`core.execution.states.predecessors`), so a concurrent writer cannot slip an
illegal transition in, and an event row written in the same transaction records who, why, when and which run.
An execution that reaches a final status releases its target leases in that same transaction.
Every read that a person triggers is scoped by tenant: tenants never see each other's executions or keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ops_pipeline.core.execution.states import (
    TERMINAL,
    ExecutionStatus,
    check_transition,
    predecessors,
)
from ops_pipeline.store.execution_tables import execution_events, executions, idempotency_keys, target_leases
from ops_pipeline.store.metadata import UtcDateTime
from ops_pipeline.store.upsert import insert_for


@dataclass(frozen=True)
class Execution:
    id: str
    tenant: str
    plan_name: str
    plan_version: int
    plan_hash: str
    snapshot: str
    status: ExecutionStatus
    approval_level: int
    environment: str
    action_class: str
    sla_class: str
    targets: list[str]
    parameters: dict[str, Any]
    idempotency_key: str
    submitted_by: str
    submitted_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    deadline_at: datetime | None
    root_run_id: str | None
    last_run_id: str | None
    reason: str | None
    updated_at: datetime


@dataclass(frozen=True)
class ExecutionEvent:
    at: datetime
    kind: str
    actor: str
    from_status: str | None
    to_status: str | None
    step_id: str | None
    run_id: str | None
    reason: str | None


class UnknownExecution(LookupError):
    def __init__(self, execution_id: str, tenant: str | None) -> None:
        scope = f" for tenant {tenant!r}" if tenant is not None else ""
        super().__init__(f"no execution {execution_id!r}{scope}")


def claim_idempotency_key(
    conn: sa.Connection, tenant: str, key: str, execution_id: str, expires_at: datetime, now: datetime
) -> str:
    """The execution that holds (tenant, key): `execution_id` when this call took the key (new, or expired and
    taken over), else the one that holds it. One statement, so concurrent submitters of a key get one winner."""
    claimed = conn.execute(
        _claim_statement(conn),
        {"tenant": tenant, "key": key, "execution_id": execution_id, "expires_at": expires_at, "now": now},
    ).scalar()
    if claimed is not None:
        return str(claimed)
    holder = conn.execute(
        sa.select(idempotency_keys.c.execution_id).where(
            idempotency_keys.c.tenant == tenant, idempotency_keys.c.key == key
        )
    ).scalar_one()
    return str(holder)


def _claim_statement(conn: sa.Connection) -> sa.Executable:
    insert = insert_for(conn, idempotency_keys)
    return insert.on_conflict_do_update(
        index_elements=["tenant", "key"],
        set_={"execution_id": insert.excluded.execution_id, "expires_at": insert.excluded.expires_at},
        where=idempotency_keys.c.expires_at <= sa.bindparam("now", type_=UtcDateTime()),
    ).returning(idempotency_keys.c.execution_id)


def insert_execution(conn: sa.Connection, execution: Execution) -> dict[str, Any]:
    """Insert the execution; returns its "submitted" audit event for the caller to record with the others."""
    conn.execute(executions.insert(), execution.__dict__)
    return event(
        execution.id,
        "submitted",
        execution.submitted_by,
        now=execution.submitted_at,
        to_status=execution.status,
        reason=f"{execution.plan_name} v{execution.plan_version}",
        run_id=execution.last_run_id,
    )


def event(
    execution_id: str,
    kind: str,
    actor: str,
    *,
    now: datetime,
    from_status: str | None = None,
    to_status: str | None = None,
    step_id: str | None = None,
    run_id: str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """One row of the audit trail."""
    return {
        "execution_id": execution_id,
        "at": now,
        "kind": kind,
        "actor": actor,
        "from_status": from_status,
        "to_status": to_status,
        "step_id": step_id,
        "run_id": run_id,
        "reason": reason,
    }


def record_events(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(execution_events.insert(), rows)


def record_event(
    conn: sa.Connection,
    execution_id: str,
    kind: str,
    actor: str,
    *,
    now: datetime,
    from_status: str | None = None,
    to_status: str | None = None,
    step_id: str | None = None,
    run_id: str | None = None,
    reason: str | None = None,
) -> None:
    record_events(
        conn,
        [
            event(
                execution_id,
                kind,
                actor,
                now=now,
                from_status=from_status,
                to_status=to_status,
                step_id=step_id,
                run_id=run_id,
                reason=reason,
            )
        ],
    )


def transition(
    conn: sa.Connection,
    execution_id: str,
    to: ExecutionStatus,
    *,
    actor: str,
    now: datetime,
    reason: str | None = None,
    run_id: str | None = None,
    **fields: Any,
) -> ExecutionStatus:
    """Move the execution to `to` (setting `fields` too) and record it; returns the status it left. Raises
    IllegalTransition when its current status may not move to `to`, and UnknownExecution when it does not exist."""
    values: dict[str, Any] = {"status": to, "updated_at": now, **fields}
    if run_id is not None:
        values["last_run_id"] = run_id
    legal_sources = sorted(predecessors(to))
    while True:  # another writer may move it between our read and our update: read again and decide again
        current: ExecutionStatus | None = conn.execute(
            sa.select(executions.c.status).where(executions.c.id == execution_id)
        ).scalar()
        if current is None:
            raise UnknownExecution(execution_id, None)
        check_transition(current, to)
        moved = conn.execute(
            executions.update()
            .where(
                executions.c.id == execution_id, executions.c.status == current, executions.c.status.in_(legal_sources)
            )
            .values(**values)
        )
        if moved.rowcount == 1:
            break
    record_event(
        conn, execution_id, "status", actor, now=now, from_status=current, to_status=to, run_id=run_id, reason=reason
    )
    if to in TERMINAL:  # an execution that ended holds no target any more
        conn.execute(target_leases.delete().where(target_leases.c.owner == execution_id))
    return current


def execution(conn: sa.Connection, execution_id: str, tenant: str | None = None) -> Execution:
    """The execution, if it exists and (when `tenant` is given) belongs to that tenant."""
    query = sa.select(executions).where(executions.c.id == execution_id)
    if tenant is not None:
        query = query.where(executions.c.tenant == tenant)
    row = conn.execute(query).first()
    if row is None:
        raise UnknownExecution(execution_id, tenant)
    return _execution(row)


def execution_or_none(conn: sa.Connection, execution_id: str) -> Execution | None:
    row = conn.execute(sa.select(executions).where(executions.c.id == execution_id)).first()
    return _execution(row) if row else None


def list_executions(
    conn: sa.Connection,
    tenant: str | None,
    *,
    statuses: tuple[str, ...] = (),
    plan: str | None = None,
    limit: int = 50,
) -> list[Execution]:
    """Newest first; `tenant` None lists every tenant's (operators' views, never a tenant's)."""
    query = sa.select(executions).order_by(executions.c.submitted_at.desc(), executions.c.id).limit(limit)
    if tenant is not None:
        query = query.where(executions.c.tenant == tenant)
    if statuses:
        query = query.where(executions.c.status.in_(statuses))
    if plan is not None:
        query = query.where(executions.c.plan_name == plan)
    return [_execution(row) for row in conn.execute(query)]


def events_of(conn: sa.Connection, execution_id: str) -> list[ExecutionEvent]:
    query = (
        sa.select(execution_events)
        .where(execution_events.c.execution_id == execution_id)
        .order_by(execution_events.c.id)
    )
    return [
        ExecutionEvent(r.at, r.kind, r.actor, r.from_status, r.to_status, r.step_id, r.run_id, r.reason)
        for r in conn.execute(query)
    ]


def _execution(row: sa.Row) -> Execution:
    return Execution(**{column: getattr(row, column) for column in Execution.__dataclass_fields__})


def waiting_to_launch(conn: sa.Connection, limit: int = 100) -> list[Execution]:
    """Approved executions without a run yet, and queued ones whose run has not started, oldest first."""
    query = (
        sa.select(executions)
        .where(executions.c.status.in_(("approved", "queued")))
        .order_by(executions.c.updated_at, executions.c.id)
        .limit(limit)
    )
    return [_execution(row) for row in conn.execute(query)]


def last_event_id(conn: sa.Connection) -> int:
    """The id of the newest audit event (0 when none): it moves whenever any execution changes."""
    return int(conn.execute(sa.select(sa.func.max(execution_events.c.id))).scalar() or 0)
