"""The run-history API for workflow code and operators: report an external run, read the history.

    from ops_pipeline.store.run_log import log_run, runs_of
    log_run("nightly_export", "run-2026-11-22", "success", inputs={"date": "2026-11-21"}, duration_ms=5400)

Everything lands in the ops store (OPS_DATABASE_URL, else $DAGSTER_HOME/ops_store.db, or `database_url`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ops_pipeline.core.runs import RunRecord, parse_external_run
from ops_pipeline.store import runs as run_store
from ops_pipeline.store.engine import open_store


def log_run(
    workflow: str,
    run_id: str,
    status: str,
    *,
    inputs: dict[str, Any] | None = None,
    outputs: dict[str, Any] | None = None,
    duration_ms: float | None = None,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
    created_at: datetime | None = None,
    node_logs: list[dict[str, Any]] | None = None,
    failure_message: str | None = None,
    tags: dict[str, str] | None = None,
    database_url: str | None = None,
) -> RunRecord:
    """Record (or update) one run of an external workflow. Idempotent on (workflow, run_id).

    Raises ValueError naming each bad field, or when a finished run would go back to queued or running, and
    writes nothing in that case.
    """
    reported = parse_external_run(
        {
            key: value
            for key, value in {
                "workflow": workflow,
                "run_id": run_id,
                "status": status,
                "inputs": inputs,
                "outputs": outputs,
                "duration_ms": duration_ms,
                "started_at": started_at,
                "ended_at": ended_at,
                "created_at": created_at,
                "node_logs": node_logs,
                "failure_message": failure_message,
                "tags": tags,
            }.items()
            if value is not None
        }
    )
    record = reported.to_record()
    with open_store(database_url).begin() as conn:
        finished = run_store.upsert_run(conn, record)
    if finished is not None:
        raise ValueError(
            f"run {run_id!r} of workflow {workflow!r} already finished as {finished}; "
            f"it cannot go back to {record.status} (report a new run id for a new attempt)"
        )
    return record


def runs_of(workflow: str, *, limit: int = 20, page: int = 1, database_url: str | None = None) -> list[RunRecord]:
    """One workflow's runs, newest first."""
    return run_store.runs_of(open_store(database_url), workflow, limit=limit, page=page)


def latest_runs(*, database_url: str | None = None) -> list[RunRecord]:
    """The newest run of every workflow."""
    return run_store.latest_runs(open_store(database_url))
