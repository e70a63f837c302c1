"""What execution metrics and the SLA monitor read from the ops store: the timings of recent executions and their
steps, and the running executions whose deadline has passed, paged in deadline order."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from ops_pipeline.core.execution.metrics import ExecutionSample, StepSample
from ops_pipeline.core.execution.sla_alerts import OverdueRun
from ops_pipeline.store.execution_tables import execution_steps, executions
from ops_pipeline.store.metadata import UtcDateTime

MAX_SAMPLES = 100_000  # a metrics window larger than this is cut to its newest executions


def execution_samples(conn: sa.Connection, since: datetime, limit: int = MAX_SAMPLES) -> list[ExecutionSample]:
    """Executions submitted at or after `since`, newest first."""
    query = (
        sa.select(
            executions.c.plan_name,
            executions.c.status,
            executions.c.submitted_at,
            executions.c.started_at,
            executions.c.finished_at,
            executions.c.deadline_at,
        )
        .where(executions.c.submitted_at >= since)
        .order_by(executions.c.submitted_at.desc())
        .limit(limit)
    )
    return [ExecutionSample(*row) for row in conn.execute(query)]


def step_samples(conn: sa.Connection, since: datetime, limit: int = MAX_SAMPLES) -> list[StepSample]:
    """The steps of executions submitted at or after `since`."""
    query = (
        sa.select(
            executions.c.plan_name,
            execution_steps.c.step_type,
            execution_steps.c.status,
            execution_steps.c.duration_s,
        )
        .join(executions, executions.c.id == execution_steps.c.execution_id)
        .where(executions.c.submitted_at >= since)
        .order_by(executions.c.submitted_at.desc())
        .limit(limit)
    )
    return [StepSample(*row) for row in conn.execute(query)]


def overdue_executions(
    conn: sa.Connection, now: datetime, after: tuple[datetime, str] | None, limit: int
) -> list[OverdueRun]:
    """Running executions whose deadline passed by `now`, in (deadline, id) order, after the `after` position."""
    query = (
        sa.select(
            executions.c.id,
            executions.c.tenant,
            executions.c.plan_name,
            executions.c.plan_version,
            executions.c.sla_class,
            executions.c.deadline_at,
            executions.c.last_run_id,
        )
        .where(executions.c.status == "running", executions.c.deadline_at <= now)
        .order_by(executions.c.deadline_at, executions.c.id)
        .limit(limit)
    )
    if after is not None:
        deadline = sa.bindparam("after_deadline", after[0], type_=UtcDateTime())
        query = query.where(
            sa.or_(
                executions.c.deadline_at > deadline,
                sa.and_(executions.c.deadline_at == deadline, executions.c.id > after[1]),
            )
        )
    return [OverdueRun(*row) for row in conn.execute(query)]
