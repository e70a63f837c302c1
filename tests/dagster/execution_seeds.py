"""Executions written straight into a real ops store, with the timings a test needs (the state machine that
normally produces them is tested elsewhere)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from ops_pipeline.store.execution_steps import insert_steps
from ops_pipeline.store.execution_tables import execution_steps
from ops_pipeline.store.executions import Execution, insert_execution


def seconds_ago(seconds: float) -> datetime:
    return datetime.now(UTC) - timedelta(seconds=seconds)


def seed(
    engine: sa.Engine,
    execution_id: str,
    plan: str,
    status: str,
    *,
    submitted: datetime,
    queued_s: float | None = 0.0,
    took_s: float | None = None,
    deadline_s: float | None = None,
    steps: Sequence[tuple[str, str, float | None]] = (),
) -> Execution:
    """An execution submitted at `submitted`, started `queued_s` later (None: never), ended `took_s` after its
    start (None: not ended), with a deadline `deadline_s` after its start; `steps`: (type, status, duration)."""
    started = submitted + timedelta(seconds=queued_s) if queued_s is not None else None
    finished = started + timedelta(seconds=took_s) if started and took_s is not None else None
    deadline = started + timedelta(seconds=deadline_s) if started and deadline_s is not None else None
    row = Execution(
        id=execution_id,
        tenant="default",
        plan_name=plan,
        plan_version=1,
        plan_hash="0" * 64,
        snapshot="{}",
        status=status,  # type: ignore[arg-type]
        approval_level=0,
        environment="dev",
        action_class="read",
        sla_class="fast",
        targets=[],
        parameters={},
        idempotency_key=execution_id,
        submitted_by="user:alice",
        submitted_at=submitted,
        started_at=started,
        finished_at=finished,
        deadline_at=deadline,
        root_run_id=f"run-{execution_id}" if started else None,
        last_run_id=f"run-{execution_id}" if started else None,
        reason=None,
        updated_at=finished or started or submitted,
    )
    with engine.begin() as conn:
        insert_execution(conn, row)
        if steps:
            insert_steps(conn, execution_id, [(f"s{i}", kind, status) for i, (kind, status, _) in enumerate(steps)])
            for i, (_, _, duration) in enumerate(steps):
                conn.execute(
                    execution_steps.update()
                    .where(execution_steps.c.execution_id == execution_id, execution_steps.c.step_id == f"s{i}")
                    .values(duration_s=duration)
                )
    return row
