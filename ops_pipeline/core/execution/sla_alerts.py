"""An execution still running past its deadline, as an insight signal: one per execution (its series is the
execution and its time the deadline, so recording it twice keeps one row), with a hint a person can act on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ops_pipeline.core.signals import InsightSignal

__all__ = ["DETECTOR", "METRIC", "OverdueRun", "sla_signal"]

DETECTOR = "sla_monitor"
METRIC = "execution_overdue_seconds"


@dataclass(frozen=True)
class OverdueRun:
    execution_id: str
    tenant: str
    plan_name: str
    plan_version: int
    sla_class: str
    deadline_at: datetime
    run_id: str | None  # the run it was last seen in


def sla_signal(overdue: OverdueRun, now: datetime) -> InsightSignal:
    """The signal for `overdue` seen at `now`: its value is how many seconds past the deadline it was then."""
    late_s = max(0.0, (now - overdue.deadline_at) / timedelta(seconds=1))
    labels = {
        "execution_id": overdue.execution_id,
        "plan": overdue.plan_name,
        "tenant": overdue.tenant,
        "sla": overdue.sla_class,
    }
    return InsightSignal(
        detector=DETECTOR,
        metric=METRIC,
        labels=labels,
        series_key=f'{METRIC}{{execution_id="{overdue.execution_id}"}}',
        ts=overdue.deadline_at,
        value=late_s,
        score=late_s,
        threshold=0.0,
        direction="up",
        severity="critical",
        hint=(
            f"execution {overdue.execution_id} of plan {overdue.plan_name} v{overdue.plan_version} "
            f"(tenant {overdue.tenant}, SLA {overdue.sla_class}) is still running {late_s:.1f} s past its "
            f"deadline of {overdue.deadline_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
        ),
        origin="monitor",
    )
