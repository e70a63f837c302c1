"""The Dagster events of an execution's runs, as plain data for a debug bundle."""

from __future__ import annotations

from typing import Any

import dagster as dg

from ops_pipeline.store.executions import Execution

MAX_EVENTS = 5000


def run_ids_of(current: Execution, event_run_ids: list[str | None]) -> list[str]:
    return list(dict.fromkeys(r for r in (current.root_run_id, *event_run_ids, current.last_run_id) if r))


def run_events_of(instance: dg.DagsterInstance, run_ids: list[str]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for run_id in run_ids:
        for entry in instance.all_logs(run_id):
            event = entry.dagster_event
            events.append(
                {
                    "run_id": run_id,
                    "timestamp": entry.timestamp,
                    "type": event.event_type_value if event else "LOG",
                    "step_key": entry.step_key,
                    "level": entry.level,
                    "message": entry.user_message if event is None else (event.message or entry.user_message),
                }
            )
            if len(events) >= MAX_EVENTS:
                return events
    return events
