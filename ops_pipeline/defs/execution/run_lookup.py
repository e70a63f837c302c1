"""What the recovery sensors read about an execution's Dagster runs: its newest run, how a run ended, and the
failures its steps reported (message and failure class)."""

import dagster as dg

from ops_pipeline.defs.execution import tags
from ops_pipeline.execution.dead_lettering import StepFailure
from ops_pipeline.execution.reaper import RunEnd

ENDS: dict[dg.DagsterRunStatus, RunEnd] = {
    dg.DagsterRunStatus.FAILURE: "failed",
    dg.DagsterRunStatus.CANCELED: "cancelled",
}


# What the code server's orphan check and run monitoring say of a run whose worker is gone.
WORKER_LOST_WORDS = ("Run execution process for", "unexpectedly", "maximum runtime")


def current_run(instance: dg.DagsterInstance, execution_id: str, last_run_id: str | None) -> dg.DagsterRun | None:
    """The run that decides whether the execution still runs: None when the run that started it is gone,
    else the newest run tagged with the execution (a level 3 resumption or a requeue comes after it)."""
    if last_run_id and instance.get_run_by_id(last_run_id) is None:
        return None
    return newest_run(instance, execution_id)


def newest_run(instance: dg.DagsterInstance, execution_id: str) -> dg.DagsterRun | None:
    records = instance.get_run_records(filters=dg.RunsFilter(tags={tags.EXECUTION: execution_id}), limit=1)
    return records[0].dagster_run if records else None


def run_end(run: dg.DagsterRun | None) -> RunEnd | None:
    """How the run ended, or None while it is not over (or when it succeeded)."""
    return "gone" if run is None else ENDS.get(run.status)


def failure_message(instance: dg.DagsterInstance, run_id: str) -> str:
    """The run's failure message, with the engine's word on a lost run worker when there is one."""
    wanted = {dg.DagsterEventType.RUN_FAILURE, dg.DagsterEventType.ENGINE_EVENT}
    messages = [
        entry.message or ""
        for entry in instance.all_logs(run_id, of_type=wanted)
        if entry.dagster_event is not None
        and (
            entry.dagster_event.event_type == dg.DagsterEventType.RUN_FAILURE
            or any(words in (entry.message or "") for words in WORKER_LOST_WORDS)
        )
    ]
    return " ".join(m for m in messages if m)


def step_failures(instance: dg.DagsterInstance, run_id: str) -> list[StepFailure]:
    failures = []
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        event = entry.dagster_event
        if event is None:
            continue
        data = event.step_failure_data
        metadata = data.user_failure_data.metadata if data.user_failure_data else {}
        failure_class = metadata.get("failure_class")
        failures.append(
            StepFailure(
                step_id=event.step_key or "",
                message=data.error.message if data.error else "",
                failure_class=str(failure_class.value) if failure_class is not None else None,
            )
        )
    return failures
