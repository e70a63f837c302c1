"""Figures about executions of plans: outcomes, durations, queue time and SLA compliance, overall, per plan and
per step type.

What counts where:
* outcomes: executions that started and ended. `completed` is a success; `failed`, `timeout` and `partial` are
  failures; `cancelled` is neither (someone chose to stop it). Rejected or never-started executions ran nothing.
* execution duration: finished - started, of executions that ended; step duration: a step row's `duration_s`
  (the attempt that ended it), of steps that ended with one.
* queue time: started - submitted, of executions that started (it includes any wait for approval or targets).
* SLA compliance: of executions with a deadline (set when they start) that ended or are still running past it,
  the share that ended in time: at or before the deadline and not `timeout`.

Percentiles interpolate linearly between the closest ranks (numpy's default), so p50 of 1..100 is 50.5.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

__all__ = [
    "Compliance",
    "ExecutionMetrics",
    "ExecutionSample",
    "GroupMetrics",
    "Outcomes",
    "Percentiles",
    "StepSample",
    "execution_metrics",
    "percentile",
]

SUCCESS = frozenset({"completed"})
FAILURE = frozenset({"failed", "timeout", "partial"})
ENDED = SUCCESS | FAILURE | {"cancelled"}
STEP_ENDED = frozenset({"succeeded", "failed", "timeout", "cancelled", "rolled_back"})

T = TypeVar("T")


@dataclass(frozen=True)
class ExecutionSample:
    plan_name: str
    status: str
    submitted_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    deadline_at: datetime | None


@dataclass(frozen=True)
class StepSample:
    plan_name: str
    step_type: str
    status: str
    duration_s: float | None


@dataclass(frozen=True)
class Percentiles:
    count: int
    p50: float | None
    p95: float | None
    p99: float | None

    @classmethod
    def of(cls, values: Iterable[float]) -> Percentiles:
        ordered = sorted(values)
        if not ordered:
            return cls(0, None, None, None)
        return cls(len(ordered), percentile(ordered, 50), percentile(ordered, 95), percentile(ordered, 99))


@dataclass(frozen=True)
class Outcomes:
    ended: int
    succeeded: int
    failed: int
    cancelled: int

    @property
    def success_rate(self) -> float | None:
        return self.succeeded / self.ended if self.ended else None

    @property
    def failure_rate(self) -> float | None:
        return self.failed / self.ended if self.ended else None


@dataclass(frozen=True)
class Compliance:
    considered: int
    met: int

    @property
    def share(self) -> float | None:
        return self.met / self.considered if self.considered else None


@dataclass(frozen=True)
class GroupMetrics:
    """The figures of one group of executions (all of them, or one plan's)."""

    executions: int
    outcomes: Outcomes
    duration_s: Percentiles
    queue_s: Percentiles
    sla: Compliance


@dataclass(frozen=True)
class ExecutionMetrics:
    overall: GroupMetrics
    by_plan: dict[str, GroupMetrics]
    by_step_type: dict[str, Percentiles]


def percentile(ordered: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) of values sorted ascending, interpolating between the closest ranks."""
    if not ordered:
        raise ValueError("the percentile of no values is undefined")
    if not 0 <= q <= 100:
        raise ValueError(f"a percentile is between 0 and 100, not {q}")
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def execution_metrics(
    executions: Sequence[ExecutionSample], steps: Sequence[StepSample], now: datetime
) -> ExecutionMetrics:
    """Every figure at `now` (which decides whether a running execution has already missed its deadline)."""
    by_plan = _grouped(executions, lambda e: e.plan_name)
    step_durations = _grouped(
        [s for s in steps if s.status in STEP_ENDED and s.duration_s is not None], lambda s: s.step_type
    )
    return ExecutionMetrics(
        overall=_group(executions, now),
        by_plan={plan: _group(members, now) for plan, members in sorted(by_plan.items())},
        by_step_type={
            step_type: Percentiles.of(s.duration_s for s in members if s.duration_s is not None)
            for step_type, members in sorted(step_durations.items())
        },
    )


def _grouped(items: Iterable[T], key: Callable[[T], str]) -> dict[str, list[T]]:
    groups: dict[str, list[T]] = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return groups


def _group(executions: Sequence[ExecutionSample], now: datetime) -> GroupMetrics:
    ran = [e for e in executions if e.started_at is not None]
    ended = [e for e in ran if e.status in ENDED]
    return GroupMetrics(
        executions=len(executions),
        outcomes=Outcomes(
            ended=len(ended),
            succeeded=sum(e.status in SUCCESS for e in ended),
            failed=sum(e.status in FAILURE for e in ended),
            cancelled=sum(e.status == "cancelled" for e in ended),
        ),
        duration_s=Percentiles.of(_spans((e.started_at, e.finished_at) for e in ended)),
        queue_s=Percentiles.of(_spans((e.submitted_at, e.started_at) for e in ran)),
        sla=_compliance(executions, now),
    )


def _compliance(executions: Sequence[ExecutionSample], now: datetime) -> Compliance:
    considered = met = 0
    for e in executions:
        if e.deadline_at is None:
            continue
        if e.status in ENDED and e.finished_at is not None:
            considered += 1
            met += e.finished_at <= e.deadline_at and e.status != "timeout"
        elif e.status == "running" and now > e.deadline_at:
            considered += 1  # already missed, whatever happens next
    return Compliance(considered, met)


def _spans(pairs: Iterable[tuple[datetime | None, datetime | None]]) -> list[float]:
    """Seconds from start to end of each pair that has both."""
    return [(end - start) / timedelta(seconds=1) for start, end in pairs if start is not None and end is not None]
