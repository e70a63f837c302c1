"""Execution metrics for people: per plan (outcomes, durations, queue time, SLA compliance) and per step type
(durations), as markdown tables for the `execution_metrics` asset."""

from __future__ import annotations

from ops_pipeline.core.execution.metrics import ExecutionMetrics, GroupMetrics, Percentiles
from ops_pipeline.markdown.table import table


def share(value: float | None) -> str:
    return f"{value:.1%}" if value is not None else ""


def seconds(value: float | None) -> str:
    return f"{value:.2f} s" if value is not None else ""


def _percentiles(figures: Percentiles) -> tuple[str, str, str]:
    return seconds(figures.p50), seconds(figures.p95), seconds(figures.p99)


def _plan_row(name: str, group: GroupMetrics) -> tuple[object, ...]:
    return (
        name,
        group.executions,
        group.outcomes.ended,
        share(group.outcomes.success_rate),
        share(group.outcomes.failure_rate),
        *_percentiles(group.duration_s),
        seconds(group.queue_s.p50),
        seconds(group.queue_s.p95),
        f"{share(group.sla.share)} of {group.sla.considered}" if group.sla.considered else "",
    )


def plans_markdown(metrics: ExecutionMetrics) -> str:
    headers = [
        "plan",
        "executions",
        "ended",
        "success",
        "failure",
        "p50",
        "p95",
        "p99",
        "queue p50",
        "queue p95",
        "SLA met",
    ]
    rows = [_plan_row(name, group) for name, group in metrics.by_plan.items()]
    if metrics.by_plan:
        rows.append(_plan_row("**all plans**", metrics.overall))
    return table(headers, rows, empty="No execution in the window.")


def step_types_markdown(metrics: ExecutionMetrics) -> str:
    rows = ((name, figures.count, *_percentiles(figures)) for name, figures in metrics.by_step_type.items())
    return table(["step type", "steps", "p50", "p95", "p99"], rows, empty="No step ended in the window.")
