"""Executions for people: the list, one execution's steps and event trail, and pending approvals (the UI's
metadata and `ops-pipeline executions|approvals`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ops_pipeline.markdown.table import table
from ops_pipeline.store.approvals import ApprovalRequest
from ops_pipeline.store.execution_steps import ExecutionStep
from ops_pipeline.store.executions import Execution, ExecutionEvent


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}" if moment else ""


def _took(start: datetime | None, end: datetime | None) -> str:
    return f"{(end - start).total_seconds():.1f} s" if start and end else ""


def executions_markdown(executions: Sequence[Execution], approvals: dict[str, str], limit: int = 50) -> str:
    rows = (
        (
            e.id,
            e.status,
            f"{e.plan_name} v{e.plan_version}",
            e.tenant,
            e.submitted_by,
            approvals.get(e.id, "none" if e.approval_level == 0 else ""),
            _when(e.submitted_at),
            _took(e.started_at, e.finished_at),
        )
        for e in executions
    )
    headers = ["execution", "status", "plan", "tenant", "submitted by", "approvals", "submitted (UTC)", "took"]
    return table(headers, rows, empty="No executions yet.", limit=limit)


def steps_markdown(steps: Sequence[ExecutionStep]) -> str:
    rows = ((s.step_id, s.step_type, s.status, s.attempt, _took(s.started_at, s.finished_at), s.error) for s in steps)
    return table(["step", "type", "status", "attempt", "took", "error"], rows)


def events_markdown(events: Sequence[ExecutionEvent]) -> str:
    rows = (
        (
            _when(e.at),
            e.kind,
            e.actor,
            f"{e.from_status or ''} → {e.to_status}" if e.to_status else "",
            e.step_id,
            e.run_id,
            e.reason,
        )
        for e in events
    )
    return table(["at (UTC)", "event", "actor", "status", "step", "run", "reason"], rows)


def approvals_markdown(requests: Sequence[ApprovalRequest], executions: dict[str, Execution]) -> str:
    rows = (
        (
            r.execution_id,
            f"{executions[r.execution_id].plan_name} v{executions[r.execution_id].plan_version}",
            r.level,
            r.step_id,
            executions[r.execution_id].submitted_by,
            r.plan_hash if r.level >= 2 else "",
            _when(r.expires_at),
        )
        for r in requests
    )
    headers = ["execution", "plan", "level", "step", "submitted by", "plan hash to approve", "expires (UTC)"]
    return table(headers, rows, empty="No approval is pending.")


def approval_summary(requests: Sequence[ApprovalRequest]) -> str:
    """`2 approved, 1 pending` for one execution's requests."""
    counts: dict[str, int] = {}
    for request in requests:
        counts[request.state] = counts.get(request.state, 0) + 1
    return ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
