"""Reading this instance's Dagster runs into the run history, incrementally: a refresh reads only the runs
updated since the stored cursor, then rechecks the runs still recorded as unfinished."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg
import sqlalchemy as sa

from ops_pipeline.core.runs import FINISHED_STATUSES, RunRecord, RunStatus
from ops_pipeline.store import runs as run_store
from ops_pipeline.store.cursors import read_cursor, write_cursor

CURSOR = "dagster_run_storage"
BATCH = 500
# The first refresh of a large instance reads step stats per run; bounded, it spreads over several refreshes.
MAX_RUNS_PER_REFRESH = 5000
MAX_WORKFLOW_NAME = 300

DAGSTER_STATUSES: dict[dg.DagsterRunStatus, RunStatus] = {
    dg.DagsterRunStatus.QUEUED: "queued",
    dg.DagsterRunStatus.NOT_STARTED: "queued",
    dg.DagsterRunStatus.MANAGED: "queued",
    dg.DagsterRunStatus.STARTING: "queued",
    dg.DagsterRunStatus.STARTED: "running",
    dg.DagsterRunStatus.CANCELING: "running",
    dg.DagsterRunStatus.SUCCESS: "success",
    dg.DagsterRunStatus.FAILURE: "failure",
    dg.DagsterRunStatus.CANCELED: "canceled",
}


@dataclass(frozen=True)
class IngestResult:
    ingested: int
    cursor: str | None
    backlog: bool  # the refresh stopped at its limit; the next one continues from the cursor


def ingest_dagster_runs(
    instance: dg.DagsterInstance,
    engine: sa.Engine,
    batch: int = BATCH,
    max_runs: int = MAX_RUNS_PER_REFRESH,
) -> IngestResult:
    """Upsert every run updated since the cursor (an update time), oldest first, at most about `max_runs`; then
    recheck the runs the history still holds as queued or running.

    Run storage stamps an update with the time its event happened, not when it was stored, so an event stored
    late can land behind a cursor that already passed its time: the recheck catches those runs, however late.

    Run storage orders pages by update time only, so a page that fills up may cut a group of runs sharing one
    update time: that group is left for the next page, which starts at it. A group bigger than a page is read
    whole. The cursor moves in the same transaction as the rows; re-reading a run is a harmless upsert.
    """
    with engine.connect() as conn:
        cursor = read_cursor(conn, CURSOR)
    ingested = 0
    while ingested < max_runs:
        page = _page(instance, _cursor_time(cursor) if cursor else None, batch)
        if not page:
            return IngestResult(ingested + _recheck_unfinished(instance, engine), cursor, backlog=False)
        complete = len(page) < batch
        taken = page if complete else _whole_groups(instance, page)
        cursor = json.dumps({"updated": _utc(taken[-1].update_timestamp).isoformat()})
        with engine.begin() as conn:
            run_store.upsert_runs(conn, [to_run_record(instance, r) for r in taken])
            write_cursor(conn, CURSOR, cursor)
        ingested += len(taken)
        if complete:
            return IngestResult(ingested + _recheck_unfinished(instance, engine), cursor, backlog=False)
    return IngestResult(ingested, cursor, backlog=True)


def _cursor_time(cursor: str) -> datetime:
    return datetime.fromisoformat(json.loads(cursor)["updated"])


def _recheck_unfinished(instance: dg.DagsterInstance, engine: sa.Engine) -> int:
    """Re-ingest the runs recorded as queued or running whose status in run storage has moved on; returns how
    many."""
    with engine.connect() as conn:
        unfinished = run_store.unfinished_dagster_runs(conn)
    ids = sorted(unfinished)
    stale = [
        record
        for start in range(0, len(ids), BATCH)
        for record in instance.get_run_records(filters=dg.RunsFilter(run_ids=ids[start : start + BATCH]))
        if DAGSTER_STATUSES.get(record.dagster_run.status, "queued") != unfinished[record.dagster_run.run_id]
    ]
    if stale:
        with engine.begin() as conn:
            run_store.upsert_runs(conn, [to_run_record(instance, r) for r in stale])
    return len(stale)


def _page(instance: dg.DagsterInstance, after: datetime | None, limit: int | None) -> list[Any]:
    return list(
        instance.get_run_records(
            filters=dg.RunsFilter(updated_after=after) if after else None,
            order_by="update_timestamp",
            ascending=True,
            limit=limit,
        )
    )


def _whole_groups(instance: dg.DagsterInstance, page: list[Any]) -> list[Any]:
    """The page without its last update-time group (it may be cut), or that whole group when it fills the page."""
    last = page[-1].update_timestamp
    earlier = [r for r in page if r.update_timestamp != last]
    if earlier:
        return earlier
    group = instance.get_run_records(
        filters=dg.RunsFilter(
            updated_after=last - timedelta(microseconds=1), updated_before=last + timedelta(microseconds=1)
        ),
        ascending=True,
    )
    return list(group)


def to_run_record(instance: dg.DagsterInstance, record: Any) -> RunRecord:
    run: dg.DagsterRun = record.dagster_run
    status = DAGSTER_STATUSES.get(run.status, "queued")
    start, end = record.start_time, record.end_time
    finished = status in FINISHED_STATUSES
    return RunRecord(
        workflow=workflow_name(run),
        run_id=run.run_id,
        origin="dagster",
        status=status,
        created_at=_utc(record.create_timestamp),
        started_at=datetime.fromtimestamp(start, UTC) if start else None,
        ended_at=datetime.fromtimestamp(end, UTC) if end else None,
        duration_ms=(end - start) * 1000.0 if start and end else None,
        inputs=_json_safe(run.run_config),
        outputs=None,
        tags=dict(run.tags),
        step_summary=_step_summary(instance, run.run_id) if finished else None,
        failure_message=_failure_message(instance, run.run_id) if status == "failure" else None,
    )


def workflow_name(run: dg.DagsterRun) -> str:
    """The job name; for Dagster's implicit asset job, the assets it materialized."""
    if run.job_name.startswith("__ASSET_JOB") and run.asset_selection:
        keys = sorted(k.to_user_string() for k in run.asset_selection)
        return ("assets: " + ", ".join(keys))[:MAX_WORKFLOW_NAME]
    return run.job_name[:MAX_WORKFLOW_NAME]


def _step_summary(instance: dg.DagsterInstance, run_id: str) -> dict[str, Any]:
    steps = [
        {
            "step": s.step_key,
            "status": s.status.value if s.status else "unknown",
            "duration_s": round(s.end_time - s.start_time, 3) if s.start_time and s.end_time else None,
            "attempts": s.attempts,
        }
        for s in instance.get_run_step_stats(run_id)
    ]
    by_status: dict[str, int] = {}
    for step in steps:
        key = str(step["status"])
        by_status[key] = by_status.get(key, 0) + 1
    return {"steps": len(steps), "by_status": by_status, "first": steps[:50]}


def _failure_message(instance: dg.DagsterInstance, run_id: str) -> str | None:
    failures = instance.all_logs(run_id, of_type={dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.RUN_FAILURE})
    messages = []
    for entry in failures:
        event = entry.dagster_event
        is_step = event is not None and event.event_type == dg.DagsterEventType.STEP_FAILURE
        error = event.step_failure_data.error if is_step and event else None
        while error is not None and error.cause is not None:  # the user's exception, not Dagster's wrapper
            error = error.cause
        messages.append(f"{entry.step_key}: {error.message.strip()}" if error else entry.message)
    return "\n".join(messages)[:4000] or None


def _json_safe(value: Any) -> dict[str, Any] | None:
    try:
        return json.loads(json.dumps(value, default=str)) if value else None
    except (TypeError, ValueError):
        return None


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
