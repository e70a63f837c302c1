"""Paging the instance's failed runs with a cursor of one's own, for the sensors that react to failures.

Dagster's `run_failure_sensor` handles at most 5 runs per tick; this reads the RUN_FAILURE events in storage
order, any number per tick, from an opaque event-log cursor that the caller keeps in its sensor cursor. Each
failure appears once, in the order it was stored, so a sensor that stores the returned cursor with its run
requests never handles a failure twice and never skips one."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import dagster as dg

PAGE_SIZE = 100


@dataclass(frozen=True)
class FailedRun:
    run_id: str
    job_name: str
    tags: Mapping[str, str]
    failed_at: datetime
    message: str


@dataclass(frozen=True)
class FailedRunPage:
    runs: list[FailedRun]
    cursor: str | None  # pass it back to continue after these runs; unchanged when nothing new failed
    has_more: bool


def failed_runs_after(instance: dg.DagsterInstance, cursor: str | None, limit: int = PAGE_SIZE) -> FailedRunPage:
    """The failures stored after `cursor` (all of them from the first one when it is None), oldest first."""
    result = instance.fetch_run_status_changes(
        dg.DagsterEventType.RUN_FAILURE, limit=limit, cursor=cursor, ascending=True
    )
    if not result.records:
        return FailedRunPage([], cursor, has_more=False)
    runs = _runs_by_id(instance, [record.run_id for record in result.records])
    failed = [
        FailedRun(
            run_id=record.run_id,
            job_name=runs[record.run_id].job_name,
            tags=dict(runs[record.run_id].tags),
            failed_at=datetime.fromtimestamp(record.timestamp, UTC),
            message=record.event_log_entry.message or "",
        )
        for record in result.records
        if record.run_id in runs  # a run deleted since it failed has nothing left to react to
    ]
    return FailedRunPage(failed, result.cursor, has_more=result.has_more)


def all_failed_runs_after(
    instance: dg.DagsterInstance, cursor: str | None, max_runs: int, page_size: int = PAGE_SIZE
) -> FailedRunPage:
    """Pages until nothing is left or about `max_runs` were read (has_more then says there are more)."""
    collected: list[FailedRun] = []
    while True:
        page = failed_runs_after(instance, cursor, min(page_size, max(max_runs - len(collected), 1)))
        collected.extend(page.runs)
        cursor = page.cursor
        if not page.has_more or len(collected) >= max_runs:
            return FailedRunPage(collected, cursor, has_more=page.has_more)


def _runs_by_id(instance: dg.DagsterInstance, run_ids: list[str]) -> dict[str, dg.DagsterRun]:
    records = instance.get_run_records(filters=dg.RunsFilter(run_ids=run_ids))
    return {record.dagster_run.run_id: record.dagster_run for record in records}
