"""The execution and step state machines: every legal change accepted, every other one refused and explained."""

from __future__ import annotations

import itertools

import pytest

from ops_pipeline.core.execution.states import (
    EXECUTION_STATUSES,
    STEP_FINAL,
    STEP_STATUSES,
    TERMINAL,
    TRANSITIONS,
    IllegalTransition,
    can_step_transition,
    can_transition,
    check_step_transition,
    check_transition,
    initial_status,
    predecessors,
    step_predecessors,
)

# The seed's FSM, written out independently of the module under test.
LEGAL = {
    ("pending_approval", "approved"),
    ("pending_approval", "rejected"),
    ("pending_approval", "cancelled"),
    ("approved", "queued"),
    ("approved", "running"),
    ("approved", "cancelled"),
    ("queued", "running"),
    ("queued", "cancelled"),
    ("queued", "timeout"),
    ("running", "completed"),
    ("running", "failed"),
    ("running", "cancelled"),
    ("running", "timeout"),
    ("running", "partial"),
}
STEP_LEGAL = {
    ("pending", "awaiting_approval"),
    ("pending", "running"),
    ("pending", "skipped"),
    ("pending", "cancelled"),
    ("awaiting_approval", "running"),
    ("awaiting_approval", "skipped"),
    ("awaiting_approval", "cancelled"),
    ("awaiting_approval", "timeout"),
    ("running", "succeeded"),
    ("running", "failed"),
    ("running", "timeout"),
    ("running", "cancelled"),
    ("succeeded", "rolled_back"),
}


def test_there_are_the_ten_seed_statuses() -> None:
    assert set(EXECUTION_STATUSES) == {
        "pending_approval",
        "approved",
        "rejected",
        "queued",
        "running",
        "completed",
        "failed",
        "cancelled",
        "timeout",
        "partial",
    }
    assert {"rejected", "completed", "failed", "cancelled", "timeout", "partial"} == TERMINAL
    assert all(TRANSITIONS[status] == () for status in TERMINAL)


@pytest.mark.parametrize(("current", "requested"), sorted(itertools.product(EXECUTION_STATUSES, repeat=2)))
def test_every_pair_of_execution_statuses(current: str, requested: str) -> None:
    legal = (current, requested) in LEGAL
    assert can_transition(current, requested) is legal  # type: ignore[arg-type]
    if legal:
        check_transition(current, requested)  # type: ignore[arg-type]
        assert current in predecessors(requested)  # type: ignore[arg-type]
    else:
        with pytest.raises(IllegalTransition) as refused:
            check_transition(current, requested)  # type: ignore[arg-type]
        message = str(refused.value)
        assert f"from {current!r} to {requested!r}" in message
        assert all(target in message for target in TRANSITIONS[current])  # type: ignore[index]
        assert current not in predecessors(requested)  # type: ignore[arg-type]


def test_the_message_names_the_legal_targets_or_says_the_status_is_final() -> None:
    with pytest.raises(IllegalTransition, match="from 'queued' it can only move to running, cancelled, timeout"):
        check_transition("queued", "completed")
    with pytest.raises(IllegalTransition, match="'completed' is final"):
        check_transition("completed", "running")


def test_predecessors_give_the_store_its_where_clause() -> None:
    assert predecessors("running") == {"approved", "queued"}
    assert predecessors("cancelled") == {"pending_approval", "approved", "queued", "running"}
    assert predecessors("pending_approval") == frozenset()


def test_an_unknown_status_is_an_error_not_a_refusal() -> None:
    with pytest.raises(ValueError, match="unknown execution status 'done'"):
        can_transition("running", "done")  # type: ignore[arg-type]


def test_level_0_starts_approved_and_the_others_wait_for_approval() -> None:
    assert [initial_status(level) for level in range(4)] == ["approved", *["pending_approval"] * 3]
    with pytest.raises(ValueError):
        initial_status(4)


@pytest.mark.parametrize(("current", "requested"), sorted(itertools.product(STEP_STATUSES, repeat=2)))
def test_every_pair_of_step_statuses(current: str, requested: str) -> None:
    legal = (current, requested) in STEP_LEGAL
    assert can_step_transition(current, requested) is legal  # type: ignore[arg-type]
    assert (current in step_predecessors(requested)) is legal  # type: ignore[arg-type]
    if not legal:
        with pytest.raises(IllegalTransition, match=f"cannot move the step from {current!r} to {requested!r}"):
            check_step_transition(current, requested)  # type: ignore[arg-type]


def test_a_succeeded_step_is_not_final_because_it_can_be_rolled_back() -> None:
    assert "succeeded" not in STEP_FINAL
    assert {"failed", "skipped", "timeout", "cancelled", "rolled_back"} == STEP_FINAL
