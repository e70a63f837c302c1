"""Continuing an execution that ended without success: a new execution of the same (or a replanned) plan
version that takes over the done steps, their outputs and, for the same plan hash, the approvals, so a
re-execution of the failed run from its failure runs only what is left.

An ended execution stays ended (its statuses are final); its continuation is a new row linked to it through
the recovery action, in the same Dagster run group."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import datetime

import sqlalchemy as sa

from ops_pipeline.core.execution.states import StepStatus
from ops_pipeline.store.execution_steps import steps_of
from ops_pipeline.store.execution_tables import approvals, execution_steps
from ops_pipeline.store.executions import Execution, insert_execution, record_events
from ops_pipeline.store.plan_versions import PlanVersion

ENDED_UNSUCCESSFULLY = ("failed", "timeout", "cancelled", "partial")
CARRIED: dict[str, StepStatus] = {"succeeded": "succeeded", "skipped": "skipped"}


class ActionRefused(ValueError):
    """A recovery action that cannot apply; the message says why."""


def check_continuable(current: Execution) -> None:
    if current.status not in ENDED_UNSUCCESSFULLY:
        raise ActionRefused(
            f"execution {current.id} is {current.status}; only an execution that ended "
            f"{', '.join(ENDED_UNSUCCESSFULLY)} can be continued"
        )
    if not current.last_run_id:
        raise ActionRefused(f"execution {current.id} has no run to re-execute from")


def continue_execution(
    conn: sa.Connection, ended: Execution, version: PlanVersion, *, actor: str, reason: str, now: datetime
) -> Execution:
    """Insert the continuation (status approved) with the ended execution's done steps carried over."""
    new_id = uuid.uuid4().hex
    snapshot = json.loads(version.snapshot)
    continuation = replace(
        ended,
        id=new_id,
        plan_version=version.version,
        plan_hash=version.plan_hash,
        snapshot=version.snapshot,
        status="approved",
        targets=list(snapshot.get("targets") or []),
        idempotency_key=f"continuation:{ended.id}:{new_id}",
        submitted_by=actor,
        submitted_at=now,
        started_at=None,
        finished_at=None,
        deadline_at=None,
        reason=reason,
        updated_at=now,
    )
    record_events(conn, [insert_execution(conn, continuation)])
    _carry_steps(conn, ended.id, new_id)
    if version.plan_hash == ended.plan_hash:
        _carry_approvals(conn, ended.id, new_id)
    return continuation


def _carry_steps(conn: sa.Connection, ended_id: str, new_id: str) -> None:
    rows = []
    for step in steps_of(conn, ended_id):
        carried = CARRIED.get(step.status)
        rows.append(
            {
                "execution_id": new_id,
                "step_id": step.step_id,
                "position": step.position,
                "step_type": step.step_type,
                "status": carried or "pending",
                "attempt": step.attempt if carried else 0,
                "output_truncated": step.output_truncated if carried else False,
                "started_at": step.started_at if carried else None,
                "finished_at": step.finished_at if carried else None,
                "duration_s": step.duration_s if carried else None,
                "run_id": step.run_id if carried else None,
                "output": step.output if carried else None,
            }
        )
    if rows:
        conn.execute(execution_steps.insert(), rows)


def _carry_approvals(conn: sa.Connection, ended_id: str, new_id: str) -> None:
    """The same plan hash was approved: the approvals hold for its continuation too."""
    approved = conn.execute(
        sa.select(approvals).where(approvals.c.execution_id == ended_id, approvals.c.state == "approved")
    ).all()
    if approved:
        conn.execute(
            approvals.insert(),
            [
                {
                    **{k: v for k, v in row._asdict().items() if k not in ("id", "execution_id", "resumed_run_id")},
                    "execution_id": new_id,
                    "reason": f"carried over from execution {ended_id}",
                }
                for row in approved
            ],
        )
