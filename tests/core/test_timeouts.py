"""The SLA x action timeout matrix, its overrides from config, and the deadline arithmetic of steps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from ops_pipeline.core.execution.timeouts import (
    DEFAULT_TIMEOUT_MATRIX,
    StepTimeoutError,
    TimeoutMatrix,
    TimeoutPolicy,
    execution_deadline,
    lease_timeout_s,
    max_runtime_tag_s,
    step_budget,
)

START = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)

# The table of issue 10, cell by cell: (step timeout, execution timeout, max attempts).
ISSUE_TABLE = {
    ("fast", "read"): (5, 10, 3),
    ("fast", "modify"): (8, 15, 3),
    ("fast", "deploy"): (10, 20, 3),
    ("medium", "read"): (15, 30, 5),
    ("medium", "modify"): (20, 45, 5),
    ("medium", "deploy"): (30, 60, 5),
    ("long", "read"): (60, 300, 3),
    ("long", "modify"): (120, 600, 3),
    ("long", "deploy"): (300, 1800, 3),
}


def cell(policy: TimeoutPolicy) -> tuple[float, float, int]:
    return (policy.step_timeout_s, policy.execution_timeout_s, policy.max_attempts)


def override_error(overrides: object) -> str:
    with pytest.raises(ValueError) as error:
        DEFAULT_TIMEOUT_MATRIX.with_overrides(overrides)  # type: ignore[arg-type]
    return str(error.value)


# ---- the default matrix


def test_default_matrix_is_the_issue_table_exactly() -> None:
    assert {key: cell(policy) for key, policy in DEFAULT_TIMEOUT_MATRIX.items()} == ISSUE_TABLE


def test_matrix_reads_as_the_yaml_it_is_configured_with() -> None:
    config = DEFAULT_TIMEOUT_MATRIX.as_config()
    assert list(config) == ["fast", "medium", "long"]
    assert config["medium"]["modify"] == {"step_timeout_s": 20.0, "execution_timeout_s": 45.0, "max_attempts": 5}
    assert DEFAULT_TIMEOUT_MATRIX.with_overrides(config).as_config() == config


def test_policy_lookup_by_name_and_unknown_names() -> None:
    assert cell(DEFAULT_TIMEOUT_MATRIX.policy("long", "deploy")) == (300, 1800, 3)
    with pytest.raises(ValueError, match="unknown SLA class 'urgent'"):
        DEFAULT_TIMEOUT_MATRIX.policy("urgent", "read")
    with pytest.raises(ValueError, match="unknown action class 'delete'"):
        DEFAULT_TIMEOUT_MATRIX.policy("fast", "delete")


def test_a_matrix_needs_all_nine_cells() -> None:
    with pytest.raises(ValueError, match=r"missing \['fast.modify'"):
        TimeoutMatrix({("fast", "read"): DEFAULT_TIMEOUT_MATRIX.policy("fast", "read")})


# ---- overrides


def test_a_partial_override_keeps_every_other_value() -> None:
    matrix = DEFAULT_TIMEOUT_MATRIX.with_overrides({"fast": {"read": {"step_timeout_s": 4}}})
    assert cell(matrix.policy("fast", "read")) == (4, 10, 3)
    others = {key: cell(policy) for key, policy in matrix.items() if key != ("fast", "read")}
    assert others == {key: value for key, value in ISSUE_TABLE.items() if key != ("fast", "read")}


def test_overrides_across_classes_and_fields() -> None:
    matrix = DEFAULT_TIMEOUT_MATRIX.with_overrides(
        {
            "medium": {"deploy": {"execution_timeout_s": 90, "max_attempts": 2}},
            "long": {"read": {"step_timeout_s": 45.5}, "modify": None},
        }
    )
    assert cell(matrix.policy("medium", "deploy")) == (30, 90, 2)
    assert cell(matrix.policy("long", "read")) == (45.5, 300, 3)
    assert cell(matrix.policy("long", "modify")) == (120, 600, 3)


def test_an_override_leaves_the_default_matrix_alone() -> None:
    DEFAULT_TIMEOUT_MATRIX.with_overrides({"fast": {"read": {"max_attempts": 9}}})
    assert DEFAULT_TIMEOUT_MATRIX.policy("fast", "read").max_attempts == 3


@pytest.mark.parametrize("empty", [None, {}, {"fast": None}, {"fast": {}}, {"fast": {"read": {}}}])
def test_empty_overrides_change_nothing(empty: object) -> None:
    assert DEFAULT_TIMEOUT_MATRIX.with_overrides(empty).as_config() == DEFAULT_TIMEOUT_MATRIX.as_config()  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"fast": {"read": {"step_timeout_s": 0}}}, "fast.read.step_timeout_s: must be a finite number of seconds"),
        ({"fast": {"read": {"step_timeout_s": -1}}}, "fast.read.step_timeout_s: must be a finite number"),
        ({"long": {"deploy": {"execution_timeout_s": float("inf")}}}, "long.deploy.execution_timeout_s: must be"),
        ({"fast": {"read": {"step_timeout_s": float("nan")}}}, "fast.read.step_timeout_s: must be"),
        ({"fast": {"read": {"step_timeout_s": "5"}}}, "fast.read.step_timeout_s: must be a finite number"),
        ({"fast": {"read": {"step_timeout_s": True}}}, "fast.read.step_timeout_s: must be a finite number"),
        (
            {"medium": {"modify": {"max_attempts": 0}}},
            "medium.modify.max_attempts: must be a whole number from 1 to 20",
        ),
        ({"medium": {"modify": {"max_attempts": 21}}}, "medium.modify.max_attempts: must be a whole number"),
        ({"medium": {"modify": {"max_attempts": 2.5}}}, "medium.modify.max_attempts: must be a whole number"),
        (
            {"fast": {"read": {"step_timeout_s": 11}}},
            "fast.read: step_timeout_s (11) is longer than execution_timeout_s",
        ),
        ({"fast": {"read": {"execution_timeout_s": 4}}}, "fast.read: step_timeout_s (5) is longer than"),
        ({"fast": {"read": {"step_timout_s": 4}}}, "fast.read.step_timout_s: unknown field"),
        ({"urgent": {"read": {}}}, "urgent: unknown SLA class (use one of fast, medium, long)"),
        ({"fast": {"delete": {}}}, "fast.delete: unknown action class (use one of read, modify, deploy)"),
        ({"fast": ["read"]}, "fast: must be a mapping of action class -> limits"),
        ({"fast": {"read": 5}}, "fast.read: must be a mapping of limits"),
        (["fast"], "timeouts: must be a mapping"),
    ],
)
def test_invalid_overrides_name_the_key_path(overrides: object, expected: str) -> None:
    assert expected in override_error(overrides)


def test_every_problem_is_reported_at_once() -> None:
    message = override_error({"fast": {"read": {"step_timeout_s": -1}}, "long": {"deploy": {"max_attempts": 0}}})
    assert message.splitlines() == [
        "invalid timeout matrix:",
        "fast.read.step_timeout_s: must be a finite number of seconds above zero, not -1",
        "long.deploy.max_attempts: must be a whole number from 1 to 20, not 0",
    ]


def test_a_policy_cannot_let_a_step_outlast_its_execution() -> None:
    with pytest.raises(ValidationError, match="a step cannot outlast its execution"):
        TimeoutPolicy(step_timeout_s=30, execution_timeout_s=20, max_attempts=1)


# ---- deadlines


def test_the_execution_deadline_is_the_start_plus_the_execution_timeout() -> None:
    policy = DEFAULT_TIMEOUT_MATRIX.policy("medium", "modify")
    assert execution_deadline(START, policy) == START + timedelta(seconds=45)


def test_deadlines_need_timezone_aware_times() -> None:
    policy = DEFAULT_TIMEOUT_MATRIX.policy("fast", "read")
    with pytest.raises(ValueError, match="started_at must carry a timezone"):
        execution_deadline(datetime(2026, 5, 1, 10, 0), policy)
    with pytest.raises(ValueError, match="now must carry a timezone"):
        step_budget(5, START, datetime(2026, 5, 1, 10, 0))


def test_a_step_gets_its_full_timeout_while_the_deadline_is_far() -> None:
    deadline = START + timedelta(seconds=60)
    assert step_budget(20, deadline, START + timedelta(seconds=10)) == 20


def test_a_late_step_gets_only_the_time_left() -> None:
    deadline = START + timedelta(seconds=60)
    assert step_budget(20, deadline, START + timedelta(seconds=52, milliseconds=500)) == 7.5


def test_past_the_deadline_the_budget_is_zero_or_negative() -> None:
    deadline = START + timedelta(seconds=60)
    assert step_budget(20, deadline, deadline) == 0
    assert step_budget(20, deadline, deadline + timedelta(seconds=3)) == -3


@given(
    step_s=st.floats(min_value=0.001, max_value=3600, allow_nan=False),
    left_ms=st.integers(min_value=-3_600_000, max_value=3_600_000),
)
def test_the_budget_is_min_of_step_timeout_and_time_left(step_s: float, left_ms: int) -> None:
    now = START + timedelta(hours=2)
    budget = step_budget(step_s, now + timedelta(milliseconds=left_ms), now)
    assert budget == min(step_s, left_ms / 1000)
    assert budget <= step_s


def test_max_runtime_backstop_is_execution_timeout_plus_grace_rounded_up() -> None:
    policy = DEFAULT_TIMEOUT_MATRIX.policy("fast", "deploy")
    assert max_runtime_tag_s(policy, grace_s=30) == 50
    assert max_runtime_tag_s(policy, grace_s=0.2) == 21
    assert max_runtime_tag_s(policy, grace_s=0) == 20
    with pytest.raises(ValueError, match="grace_s must be"):
        max_runtime_tag_s(policy, grace_s=-1)


@pytest.mark.parametrize(
    ("step_s", "p95_s", "buffer_s", "lease_s"),
    [
        (5, None, 10, 15),  # no history yet: timeout + buffer
        (5, 2, 10, 15),  # fast steps: timeout + buffer dominates
        (5, 20, 10, 40),  # steps usually slower than their timeout allows: 2 x p95
        (300, 100, 30, 330),
    ],
)
def test_lease_timeout_is_the_larger_of_timeout_plus_buffer_and_twice_p95(
    step_s: float, p95_s: float | None, buffer_s: float, lease_s: float
) -> None:
    assert lease_timeout_s(step_s, p95_s, buffer_s) == lease_s


def test_lease_timeout_rejects_negative_inputs() -> None:
    with pytest.raises(ValueError, match="p95_step_s must be"):
        lease_timeout_s(5, -1, 10)
    with pytest.raises(ValueError, match="buffer_s must be"):
        lease_timeout_s(5, None, float("nan"))


def test_step_timeout_error_says_which_limit_stopped_the_step() -> None:
    assert str(StepTimeoutError("restart", 5)) == "step 'restart' stopped after 5 s: it reached its step timeout"
    error = StepTimeoutError("restart", 2.5, execution_deadline=True)
    assert str(error) == "step 'restart' stopped after 2.5 s: it reached the execution deadline"
    assert error.step_id == "restart" and error.execution_deadline
