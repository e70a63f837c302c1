"""Triggers from what the loop watches: a failed Dagster run of a plan job (run failure, step failure with
its failure class, or execution timeout), a new insight signal, a catalog scan that found schema drift.
Everything goes through `parse_trigger`, so a malformed record gives a TriggerError naming the field."""

from __future__ import annotations

from typing import Any

import dagster as dg

from ops_pipeline.core.control_loop import Trigger, parse_trigger
from ops_pipeline.defs.run_history.failed_runs import FailedRun
from ops_pipeline.store.control_loop_feeds import NewSignal, SnapshotDrift
from ops_pipeline.store.execution_steps import ExecutionStep
from ops_pipeline.store.executions import Execution

FAILED_STEP = ("failed", "timeout")


def failure_classes(instance: dg.DagsterInstance, run_id: str) -> dict[str, str]:
    """Step key -> the failure class its step failure carried (the step ops attach it as metadata)."""
    classes: dict[str, str] = {}
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        event = entry.dagster_event
        data = event.step_failure_data if event else None
        metadata = data.user_failure_data.metadata if data and data.user_failure_data else {}
        value = metadata.get("failure_class")
        if event and event.step_key and value is not None:
            classes[event.step_key] = str(getattr(value, "value", value))
    return classes


def run_failure_trigger(
    failed: FailedRun, current: Execution, steps: list[ExecutionStep], classes: dict[str, str]
) -> Trigger:
    raw: dict[str, Any] = {
        "subject": current.plan_name,
        "occurred_at": failed.failed_at,
        "run_id": failed.run_id,
        "execution_id": current.id,
        "detail": failed.message,
        "tags": dict(failed.tags),
    }
    failed_step = next((s for s in steps if s.status in FAILED_STEP), None)
    if current.status == "timeout":
        raw.update(kind="execution_timeout", step_id=failed_step.step_id if failed_step else None)
    elif failed_step is not None and failed_step.step_id in classes:
        raw.update(kind="step_failure", step_id=failed_step.step_id, failure_class=classes[failed_step.step_id])
    else:
        raw.update(kind="run_failure")
    return parse_trigger(raw)


def anomaly_trigger(signal: NewSignal, plan: str) -> Trigger:
    return parse_trigger(
        {
            "kind": "anomaly_signal",
            "subject": plan,
            "occurred_at": signal.ts,
            "severity": signal.severity,
            "fingerprint": f"anomaly_signal|{plan}|{signal.detector}|{signal.series_key}|{int(signal.ts.timestamp())}",
            "detail": signal.hint,
        }
    )


def drift_trigger(drift: SnapshotDrift, plan: str) -> Trigger:
    return parse_trigger(
        {
            "kind": "schema_drift",
            "subject": plan,
            "occurred_at": drift.at,
            "drift": "breaking" if drift.breaking else "compatible",
            "fingerprint": f"schema_drift|{plan}|{drift.source}|snapshot {drift.snapshot_id}",
            "detail": f"{drift.changes} change(s) in source {drift.source}: {drift.summary}",
        }
    )
