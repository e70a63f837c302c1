"""Which failed runs become dead letters, and what each records.

A run is dead-lettered when its execution failed for good: the steps record `failed` or `timeout` only once
no retry is left (a transient failure after its last attempt; a timeout, permission, validation or other
failure at once, never retried), and a refused approval ends it `rejected`. An execution still running after
its run failed lost its run worker; the reaper gives it a final status first. The reason is the failure
class the failing step reported, else the one its status or message implies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ops_pipeline.core.execution.masking import Masker
from ops_pipeline.core.execution.retries import FAILURE_CLASSES, FailureClass, classify_failure
from ops_pipeline.store.dead_letters import insert_dead_letter, runs_of_execution
from ops_pipeline.store.execution_steps import steps_of
from ops_pipeline.store.executions import Execution

DEAD_STATUSES = ("failed", "timeout", "rejected")
FAILED_STEPS = ("failed", "timeout")


@dataclass(frozen=True)
class StepFailure:
    step_id: str
    message: str
    failure_class: str | None  # what the step reported in its failure's metadata, if anything


def failure_reason(current: Execution, failures: list[StepFailure], message: str) -> FailureClass:
    reported = next((f.failure_class for f in failures if f.failure_class in FAILURE_CLASSES), None)
    if reported is not None:
        return reported
    if current.status == "timeout":
        return "timeout"
    if current.status == "rejected":
        return "permission"
    return classify_failure("", message)


def dead_letter(
    conn: sa.Connection,
    current: Execution,
    run_id: str,
    *,
    run_message: str,
    failures: list[StepFailure],
    masker: Masker,
    now: datetime,
) -> bool:
    """Insert the run's dead letter if its execution failed for good; True when this call inserted it."""
    if current.status not in DEAD_STATUSES:
        return False
    failed_steps = [s for s in steps_of(conn, current.id) if s.status in FAILED_STEPS]
    message = next((s.error for s in failed_steps if s.error), None) or next(
        (f.message for f in failures if f.message), run_message or current.reason or current.status
    )
    runs = runs_of_execution(conn, current.id)
    row = {
        "run_id": run_id,
        "execution_id": current.id,
        "tenant": current.tenant,
        "plan_name": current.plan_name,
        "plan_version": current.plan_version,
        "reason": failure_reason(current, failures, message),
        "final_status": current.status,
        "attempts": max([s.attempt for s in failed_steps] + [1]),
        "last_error": masker.mask(message),
        "run_ids": runs if run_id in runs else [*runs, run_id],
        "created_at": now,
    }
    return insert_dead_letter(conn, row)
