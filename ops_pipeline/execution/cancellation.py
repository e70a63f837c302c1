"""Cancelling an execution on a person's request.

An execution with unfinished Dagster runs has them terminated through the webserver: the running step is
interrupted within a second, kills its process group, the completed steps' rollbacks run last first, and the
step records `cancelled` (see `defs/execution/step_ops.py`). A queued run leaves the queue. An execution with
no run in progress (awaiting approval, approved, queued for a target, or a level 3 execution between steps)
moves to `cancelled` here. Either way the request is in the audit trail with its actor, after RBAC allows it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from ops_pipeline.core.execution.rbac import RbacPolicy
from ops_pipeline.core.execution.states import TERMINAL, ExecutionStatus
from ops_pipeline.execution.access import actor_id, check_on_execution
from ops_pipeline.execution.webserver import Webserver
from ops_pipeline.store.execution_steps import move_step, steps_of
from ops_pipeline.store.executions import execution, record_event, transition

WAITING_STEPS = ("awaiting_approval",)


class CancelRefused(ValueError):
    pass


@dataclass(frozen=True)
class Cancelled:
    execution_id: str
    status: ExecutionStatus  # where it ended up (still `running` if its run had not finished within the wait)
    terminated_runs: list[str]


def cancel(
    engine: sa.Engine,
    execution_id: str,
    *,
    tenant: str | None,
    actor: str,
    webserver: Webserver,
    rbac: RbacPolicy,
    wait_s: float = 30.0,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Cancelled:
    actor, now = actor_id(actor), clock()
    with engine.connect() as conn:
        current = execution(conn, execution_id, tenant)
    if current.status in TERMINAL:
        raise CancelRefused(f"execution {execution_id} already ended {current.status}; there is nothing to cancel")
    check_on_execution(engine, rbac, current, actor=actor, action="cancel", now=now)
    runs = webserver.unfinished_runs(execution_id)
    with engine.begin() as conn:
        record_event(
            conn,
            execution_id,
            "cancel_requested",
            actor,
            now=now,
            from_status=current.status,
            reason="terminating " + (", ".join(runs) if runs else "nothing: no run in progress"),
        )
    for run_id in runs:
        webserver.terminate(run_id)
    if not runs or current.status != "running":
        _cancel_in_store(engine, execution_id, actor, clock())
    return Cancelled(execution_id, _wait_for_end(engine, execution_id, wait_s), runs)


def _cancel_in_store(engine: sa.Engine, execution_id: str, actor: str, now: datetime) -> None:
    with engine.begin() as conn:
        current = execution(conn, execution_id)
        if current.status in TERMINAL:
            return  # its run recorded the end meanwhile
        for step in steps_of(conn, execution_id):
            if step.status in WAITING_STEPS:
                move_step(conn, execution_id, step.step_id, "cancelled", actor=actor, now=now, reason="cancelled")
        transition(conn, execution_id, "cancelled", actor=actor, now=now, reason="cancelled", finished_at=now)


def _wait_for_end(engine: sa.Engine, execution_id: str, wait_s: float) -> ExecutionStatus:
    deadline = time.monotonic() + wait_s
    while True:
        with engine.connect() as conn:
            status = execution(conn, execution_id).status
        if status in TERMINAL or time.monotonic() >= deadline:
            return status
        time.sleep(0.2)
