"""The run history in the ops store: idempotent upserts keyed on (workflow, run id), and the reads users need."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ops_pipeline.core.runs import FINISHED_STATUSES, UNFINISHED_STATUSES, RunRecord
from ops_pipeline.store.tables import workflow_runs

UPSERT_BATCH = 1000
MAX_SQL_INTEGER = 2**63 - 1  # SQLite's INTEGER and PostgreSQL's bigint
RUN_FIELDS = fields(RunRecord)
UPDATABLE = (
    "origin",
    "status",
    "created_at",
    "started_at",
    "ended_at",
    "duration_ms",
    "inputs",
    "outputs",
    "tags",
    "step_summary",
    "failure_message",
    "recorded_at",
)


@dataclass(frozen=True)
class WorkflowStats:
    workflow: str
    runs: int
    failures: int
    mean_duration_ms: float | None
    max_duration_ms: float | None
    last_run_at: datetime | None

    @property
    def failure_rate(self) -> float:
        return self.failures / self.runs if self.runs else 0.0


def upsert_runs(conn: sa.Connection, records: Iterable[RunRecord]) -> int:
    """Insert new runs and update known ones; re-reporting a run never duplicates it, and a finished run is never
    taken back to queued or running. Returns the rows handed to the store."""
    statement = _upsert_statement(conn.dialect.name)
    recorded_at = datetime.now(UTC)
    written = 0
    batch: list[dict[str, Any]] = []
    for record in records:
        batch.append({**{f.name: getattr(record, f.name) for f in RUN_FIELDS}, "recorded_at": recorded_at})
        if len(batch) >= UPSERT_BATCH:
            conn.execute(statement, batch)
            written, batch = written + len(batch), []
    if batch:
        conn.execute(statement, batch)
        written += len(batch)
    return written


def upsert_run(conn: sa.Connection, record: RunRecord) -> str | None:
    """Insert or update one run; None when written, else the finished status the history keeps because the
    record would take the run back to queued or running (a finished run stays finished)."""
    row = {**{f.name: getattr(record, f.name) for f in RUN_FIELDS}, "recorded_at": datetime.now(UTC)}
    if conn.execute(_upsert_statement(conn.dialect.name), row).rowcount == 1:
        return None
    recorded = sa.select(workflow_runs.c.status).where(
        workflow_runs.c.workflow == record.workflow, workflow_runs.c.run_id == record.run_id
    )
    return str(conn.execute(recorded).scalar_one())


def unfinished_dagster_runs(conn: sa.Connection) -> dict[str, str]:
    """run_id -> recorded status of the Dagster runs the history holds as queued or running."""
    query = sa.select(workflow_runs.c.run_id, workflow_runs.c.status).where(
        workflow_runs.c.origin == "dagster", workflow_runs.c.status.in_(UNFINISHED_STATUSES)
    )
    return {row.run_id: row.status for row in conn.execute(query)}


def _upsert_statement(dialect: str) -> Any:
    """One INSERT ... ON CONFLICT DO UPDATE run with many parameter sets: compiled once, not per batch."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(workflow_runs)
    # Equalities, not IN: an IN list is an expanding parameter, which executemany cannot take.
    finished = sa.or_(*(workflow_runs.c.status == status for status in sorted(FINISHED_STATUSES)))
    reopened = sa.or_(*(statement.excluded.status == status for status in UNFINISHED_STATUSES))
    reopens = finished & reopened
    return statement.on_conflict_do_update(
        index_elements=["workflow", "run_id"], set_={c: statement.excluded[c] for c in UPDATABLE}, where=~reopens
    )


def runs_of(engine: sa.Engine, workflow: str, *, limit: int = 20, page: int = 1) -> list[RunRecord]:
    """One workflow's runs, newest first; page 1 is the newest `limit` runs."""
    if limit < 1 or page < 1:
        raise ValueError("limit and page must be at least 1")
    offset = (page - 1) * limit
    if offset > MAX_SQL_INTEGER:
        return []  # past any history a store can hold
    query = (
        sa.select(workflow_runs)
        .where(workflow_runs.c.workflow == workflow)
        .order_by(workflow_runs.c.created_at.desc(), workflow_runs.c.id.desc())
        .limit(min(limit, MAX_SQL_INTEGER))
        .offset(offset)
    )
    with engine.connect() as conn:
        return [_record(r) for r in conn.execute(query)]


def latest_runs(engine: sa.Engine) -> list[RunRecord]:
    """The newest run of every workflow, by workflow name."""
    ranked = sa.select(
        workflow_runs,
        sa.func.row_number()
        .over(
            partition_by=workflow_runs.c.workflow,
            order_by=(workflow_runs.c.created_at.desc(), workflow_runs.c.id.desc()),
        )
        .label("rank"),
    ).subquery()
    query = sa.select(ranked).where(ranked.c.rank == 1).order_by(ranked.c.workflow)
    with engine.connect() as conn:
        return [_record(r) for r in conn.execute(query)]


def workflow_stats(engine: sa.Engine) -> list[WorkflowStats]:
    finished = workflow_runs.c.status.in_(sorted(FINISHED_STATUSES))
    query = (
        sa.select(
            workflow_runs.c.workflow,
            sa.func.count().label("runs"),
            sa.func.sum(sa.case((workflow_runs.c.status == "failure", 1), else_=0)).label("failures"),
            sa.func.avg(workflow_runs.c.duration_ms).label("mean_duration_ms"),
            sa.func.max(workflow_runs.c.duration_ms).label("max_duration_ms"),
            sa.func.max(workflow_runs.c.created_at).label("last_run_at"),
        )
        .where(finished)
        .group_by(workflow_runs.c.workflow)
        .order_by(workflow_runs.c.workflow)
    )
    with engine.connect() as conn:
        return [
            WorkflowStats(
                r.workflow, r.runs, int(r.failures or 0), r.mean_duration_ms, r.max_duration_ms, _utc(r.last_run_at)
            )
            for r in conn.execute(query)
        ]


def count_runs(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(workflow_runs)).scalar() or 0)


def runs_between(
    engine: sa.Engine, start: datetime, end: datetime, workflows: Sequence[str] | None = None
) -> list[RunRecord]:
    """Finished runs created in [start, end], oldest first: the raw material of run-history metrics."""
    query = sa.select(workflow_runs).where(
        workflow_runs.c.created_at >= start,
        workflow_runs.c.created_at <= end,
        workflow_runs.c.status.in_(sorted(FINISHED_STATUSES)),
    )
    if workflows is not None:
        query = query.where(workflow_runs.c.workflow.in_(list(workflows)))
    with engine.connect() as conn:
        return [_record(r) for r in conn.execute(query.order_by(workflow_runs.c.created_at))]


def _record(row: sa.Row) -> RunRecord:
    values = row._mapping
    return RunRecord(
        workflow=values["workflow"],
        run_id=values["run_id"],
        origin=values["origin"],
        status=values["status"],
        created_at=_utc(values["created_at"]) or datetime.now(UTC),
        started_at=_utc(values["started_at"]),
        ended_at=_utc(values["ended_at"]),
        duration_ms=values["duration_ms"],
        inputs=values["inputs"],
        outputs=values["outputs"],
        tags=values["tags"],
        step_summary=values["step_summary"],
        failure_message=values["failure_message"],
    )


def _utc(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment
