"""Execution metrics with known numbers: percentiles, outcome rates, durations, queue time, SLA compliance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ops_pipeline.core.execution.metrics import (
    ExecutionSample,
    Percentiles,
    StepSample,
    execution_metrics,
    percentile,
)

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def run(
    plan: str,
    status: str,
    *,
    queued_s: float = 0.0,
    took_s: float | None = None,
    deadline_s: float | None = None,
) -> ExecutionSample:
    """An execution submitted at T0, started `queued_s` later, ended `took_s` after that."""
    started = None if status in ("pending_approval", "rejected") else at(queued_s)
    finished = at(queued_s + took_s) if took_s is not None else None
    deadline = at(queued_s + deadline_s) if deadline_s is not None else None
    return ExecutionSample(plan, status, T0, started, finished, deadline)


def test_percentiles_of_1_to_100_interpolate_between_ranks() -> None:
    values = list(range(1, 101))
    assert Percentiles.of(values) == Percentiles(100, 50.5, pytest.approx(95.05), pytest.approx(99.01))


def test_percentiles_of_one_value_are_that_value_and_of_none_are_empty() -> None:
    assert Percentiles.of([7.0]) == Percentiles(1, 7.0, 7.0, 7.0)
    assert Percentiles.of([]) == Percentiles(0, None, None, None)


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=200), st.floats(0, 100))
def test_percentile_agrees_with_numpy(values: list[float], q: float) -> None:
    assert percentile(sorted(values), q) == pytest.approx(np.percentile(values, q), abs=1e-6)


def test_percentile_refuses_no_values_and_a_q_out_of_range() -> None:
    with pytest.raises(ValueError, match="of no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match="between 0 and 100, not 101"):
        percentile([1.0], 101)


def test_rates_count_only_executions_that_ran_and_ended() -> None:
    samples = [
        run("deploy", "completed", took_s=10),
        run("deploy", "completed", took_s=10),
        run("deploy", "completed", took_s=10),
        run("deploy", "failed", took_s=5),
        run("deploy", "timeout", took_s=20),
        run("deploy", "cancelled", took_s=1),
        run("deploy", "running"),  # not ended yet
        run("deploy", "rejected"),  # never ran
        run("deploy", "pending_approval"),
    ]
    outcomes = execution_metrics(samples, [], at(3600)).overall.outcomes
    assert (outcomes.ended, outcomes.succeeded, outcomes.failed, outcomes.cancelled) == (6, 3, 2, 1)
    assert outcomes.success_rate == 0.5
    assert outcomes.failure_rate == pytest.approx(1 / 3)


def test_no_ended_execution_has_no_rate() -> None:
    outcomes = execution_metrics([run("deploy", "running")], [], at(60)).overall.outcomes
    assert outcomes.success_rate is None and outcomes.failure_rate is None


def test_durations_and_queue_times_per_plan() -> None:
    samples = [run("backup", "completed", queued_s=q, took_s=t) for q, t in [(1, 10), (2, 20), (3, 30), (4, 40)]]
    samples.append(run("restart", "failed", queued_s=9, took_s=5))
    metrics = execution_metrics(samples, [], at(3600))
    backup = metrics.by_plan["backup"]
    assert (backup.duration_s.count, backup.duration_s.p50) == (4, 25.0)
    assert backup.duration_s.p95 == pytest.approx(38.5)
    assert backup.queue_s.p50 == 2.5
    assert metrics.by_plan["restart"].duration_s == Percentiles(1, 5.0, 5.0, 5.0)
    assert metrics.overall.queue_s.count == 5
    assert list(metrics.by_plan) == ["backup", "restart"]


def test_a_running_execution_has_a_queue_time_but_no_duration() -> None:
    overall = execution_metrics([run("backup", "running", queued_s=3)], [], at(10)).overall
    assert overall.queue_s == Percentiles(1, 3.0, 3.0, 3.0)
    assert overall.duration_s.count == 0


def test_step_durations_per_step_type_leave_out_steps_without_one() -> None:
    steps = [
        StepSample("backup", "sql", "succeeded", 1.0),
        StepSample("backup", "sql", "succeeded", 3.0),
        StepSample("restart", "sql", "failed", 5.0),
        StepSample("backup", "http", "timeout", 8.0),
        StepSample("backup", "http", "pending", None),
        StepSample("backup", "command", "running", 2.0),  # an attempt still going: not a duration yet
        StepSample("backup", "file", "failed", None),  # refused before it started
    ]
    by_type = execution_metrics([], steps, T0).by_step_type
    assert by_type == {"http": Percentiles(1, 8.0, 8.0, 8.0), "sql": Percentiles(3, 3.0, 4.8, pytest.approx(4.96))}


def test_sla_compliance_is_the_share_that_ended_in_time() -> None:
    samples = [
        run("deploy", "completed", took_s=8, deadline_s=10),  # met
        run("deploy", "failed", took_s=3, deadline_s=10),  # met: it failed, but in time
        run("deploy", "completed", took_s=12, deadline_s=10),  # late
        run("deploy", "timeout", took_s=9, deadline_s=10),  # a step timed out: missed
        run("deploy", "running", deadline_s=10),  # running past its deadline at now: missed
        run("deploy", "running", deadline_s=7200),  # still within its deadline: not counted yet
        run("deploy", "cancelled", took_s=2),  # no deadline: not counted
    ]
    sla = execution_metrics(samples, [], at(60)).overall.sla
    assert (sla.considered, sla.met) == (5, 2)
    assert sla.share == pytest.approx(0.4)


def test_no_execution_with_a_deadline_has_no_compliance() -> None:
    assert execution_metrics([run("deploy", "completed", took_s=1)], [], at(60)).overall.sla.share is None
