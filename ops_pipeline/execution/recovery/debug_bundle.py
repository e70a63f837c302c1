"""A debug bundle: what a person needs to see why an execution went wrong, in one JSON file, with a markdown
summary for the UI. It holds the execution and its plan version, each step with its (masked) output and
error, the audit trail, the Dagster events of its runs, and the context around it: the latest catalog scan
and schema changes of the sources its SQL steps use, and the most recent insight signals. Everything text
goes through the masker once more before it is written."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ops_pipeline.core.execution.masking import Masker
from ops_pipeline.markdown.table import table
from ops_pipeline.store.catalog import changes_for, latest_completed
from ops_pipeline.store.execution_steps import ExecutionStep, steps_of
from ops_pipeline.store.executions import Execution, events_of, execution
from ops_pipeline.store.signals import recent_signals

SIGNALS = 20


@dataclasses.dataclass(frozen=True)
class DebugBundle:
    path: Path
    summary: str
    content: dict[str, Any]


def _sources_of(snapshot: Mapping[str, Any]) -> list[str]:
    steps = [*(snapshot.get("steps") or []), *(snapshot.get("rollback_steps") or [])]
    found = {s.get("source") for s in steps if isinstance(s, Mapping)}
    found |= {(s.get("sql_check") or {}).get("source") for s in steps if isinstance(s, Mapping)}
    return sorted(str(name) for name in found if name)


def _catalog_context(engine: sa.Engine, sources: Sequence[str]) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for source in sources:
        latest = latest_completed(engine, source)
        if latest is None:
            context[source] = {"latest_scan": None}
            continue
        changes = [dataclasses.asdict(c) for c in changes_for(engine, latest.id)]
        context[source] = {"latest_scan": dataclasses.asdict(latest), "schema_changes": changes}
    return context


def collect(
    engine: sa.Engine, execution_id: str, run_events: Sequence[Mapping[str, Any]], masker: Masker
) -> dict[str, Any]:
    with engine.connect() as conn:
        current = execution(conn, execution_id)
        steps, events = steps_of(conn, current.id), events_of(conn, current.id)
    snapshot = json.loads(current.snapshot)
    content = {
        "execution": {k: v for k, v in dataclasses.asdict(current).items() if k != "snapshot"},
        "plan": snapshot,
        "steps": [dataclasses.asdict(s) for s in steps],
        "audit_trail": [dataclasses.asdict(e) for e in events],
        "run_events": list(run_events),
        "catalog": _catalog_context(engine, _sources_of(snapshot)),
        "signals": [dataclasses.asdict(s) for s in recent_signals(engine, SIGNALS)],
    }
    masked: dict[str, Any] = json.loads(masker.mask(json.dumps(content, default=str)))
    return masked


def summary(current: Execution, steps: Sequence[ExecutionStep], content: Mapping[str, Any], path: Path) -> str:
    rows = [[s.step_id, s.status, str(s.attempt), (s.error or "")[:200]] for s in steps]
    failures = [e for e in content["run_events"] if "FAILURE" in str(e.get("type", ""))]
    lines = [
        f"# debug bundle: execution {current.id}",
        f"{current.plan_name} v{current.plan_version}, {current.status}: {current.reason or ''}",
        "",
        table(["step", "status", "attempt", "error"], rows),
        "",
        f"{len(content['run_events'])} Dagster events ({len(failures)} failures), "
        f"{len(content['audit_trail'])} audit events, catalog of {', '.join(content['catalog']) or 'no sources'}, "
        f"{len(content['signals'])} recent signals.",
        "",
        f"Bundle: `{path}`",
    ]
    return "\n".join(lines)


def write_bundle(
    engine: sa.Engine,
    execution_id: str,
    run_events: Sequence[Mapping[str, Any]],
    masker: Masker,
    directory: Path,
    now: datetime,
) -> DebugBundle:
    content = collect(engine, execution_id, run_events, masker)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{execution_id}-{now:%Y%m%dT%H%M%S%f}.json"
    temporary = path.with_suffix(".partial")
    temporary.write_text(json.dumps(content, indent=2, default=str), encoding="utf-8")
    temporary.replace(path)  # nothing half-written under the bundle's name
    with engine.connect() as conn:
        current = execution(conn, execution_id)
        steps = steps_of(conn, execution_id)
    return DebugBundle(path, summary(current, steps, content, path), content)
