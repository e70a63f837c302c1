"""Approvals: who may decide, bound to which plan hash, until when; and the gate every step checks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ops_pipeline.core.execution.approvals import (
    DEFAULT_APPROVAL_EXPIRY_S,
    ApprovalDecision,
    PendingApproval,
    RecordedApproval,
    approval_expiry_s,
    approval_needed,
    check_approval,
    expires_at,
    gate_refusal,
)

HASH = "a" * 64
OTHER_HASH = "b" * 64
REQUESTED = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def pending(level: int = 2, **fields: object) -> PendingApproval:
    base = PendingApproval(
        level=level,
        execution_plan_hash=HASH,
        submitter="alice",
        requested_at=REQUESTED,
        expires_at=expires_at(level, REQUESTED) if level else REQUESTED,
        step_id="restart" if level == 3 else None,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def decision(**fields: object) -> ApprovalDecision:
    base = ApprovalDecision(
        approver="bob", decision="approve", at=REQUESTED + timedelta(minutes=1), plan_hash=HASH, step_id=None
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def test_levels_and_their_default_expiry() -> None:
    assert [approval_needed(level) for level in range(4)] == ["none", "confirm", "plan", "per_step"]
    assert dict(DEFAULT_APPROVAL_EXPIRY_S) == {1: 300, 2: 900, 3: 1800}
    assert [expires_at(level, REQUESTED) - REQUESTED for level in (1, 2, 3)] == [
        timedelta(minutes=5),
        timedelta(minutes=15),
        timedelta(minutes=30),
    ]
    assert expires_at(2, REQUESTED, {2: 3600}) == REQUESTED + timedelta(hours=1)
    assert approval_expiry_s(1, {2: 60}) == 300


def test_expiry_needs_a_level_that_asks_and_an_aware_time() -> None:
    with pytest.raises(ValueError, match="level 0 executions need no approval"):
        expires_at(0, REQUESTED)
    with pytest.raises(ValueError, match="must carry a timezone"):
        expires_at(1, datetime(2026, 5, 4, 9, 0))
    with pytest.raises(ValueError, match="above zero"):
        expires_at(1, REQUESTED, {1: 0})
    with pytest.raises(ValueError, match="0, 1, 2 or 3"):
        approval_needed(4)


def test_another_person_approves_a_level_2_plan_they_reviewed() -> None:
    verdict = check_approval(pending(), decision())
    assert (verdict.accepted, verdict.new_state, verdict.reasons) == (True, "approved", ())


def test_an_approval_for_another_plan_hash_is_refused_and_says_the_plan_changed() -> None:
    verdict = check_approval(pending(), decision(plan_hash=OTHER_HASH))
    assert not verdict.accepted and verdict.new_state == "pending"
    assert verdict.reasons == (
        f"approval bound to plan hash {OTHER_HASH} but the execution runs {HASH} (the plan changed after review)",
    )


def test_a_level_2_approval_must_name_the_reviewed_hash() -> None:
    verdict = check_approval(pending(), decision(plan_hash=None))
    assert verdict.reasons == ("level 2 approvals are bound to a plan hash: give the hash you reviewed",)


@pytest.mark.parametrize("level", [2, 3])
@pytest.mark.parametrize("approver", ["alice", "Alice", " alice "])
def test_the_submitter_cannot_approve_their_own_level_2_or_3_execution(level: int, approver: str) -> None:
    step = "restart" if level == 3 else None
    verdict = check_approval(pending(level), decision(approver=approver, step_id=step))
    assert verdict.reasons == (f"the submitter cannot approve their own level {level} execution",)


def test_level_1_is_a_confirmation_anyone_may_give_the_submitter_included() -> None:
    assert check_approval(pending(1), decision(approver="alice", plan_hash=None)).accepted
    assert check_approval(pending(1), decision(plan_hash=OTHER_HASH)).accepted  # level 1 is not bound to a hash


def test_the_submitter_may_reject_their_own_execution_whatever_the_hash() -> None:
    verdict = check_approval(pending(2), decision(approver="alice", decision="reject", plan_hash=OTHER_HASH))
    assert (verdict.accepted, verdict.new_state) == (True, "rejected")


def test_every_reason_is_given_at_once() -> None:
    verdict = check_approval(pending(2), decision(approver="alice", plan_hash=OTHER_HASH))
    assert len(verdict.reasons) == 2
    assert (
        verdict.message.startswith("the submitter cannot approve")
        and "; approval bound to plan hash" in verdict.message
    )


@pytest.mark.parametrize("level", [1, 2, 3])
def test_expiry_boundaries(level: int) -> None:
    request = pending(level)
    step = request.step_id
    deadline = request.expires_at
    just_before = check_approval(request, decision(at=deadline - timedelta(microseconds=1), step_id=step))
    assert just_before.accepted
    for late in (deadline, deadline + timedelta(days=1)):
        verdict = check_approval(request, decision(at=late, step_id=step))
        assert (verdict.accepted, verdict.new_state) == (False, "expired")
        assert verdict.reasons == (f"approval expired at {deadline.isoformat()}",)


def test_a_configured_expiry_moves_the_boundary() -> None:
    request = pending(1, expires_at=expires_at(1, REQUESTED, {1: 30}))
    assert check_approval(request, decision(at=REQUESTED + timedelta(seconds=29))).accepted
    assert not check_approval(request, decision(at=REQUESTED + timedelta(seconds=30))).accepted


def test_a_late_rejection_is_refused_too_the_approval_has_expired() -> None:
    request = pending(2)
    assert check_approval(request, decision(decision="reject", at=request.expires_at)).new_state == "expired"


@pytest.mark.parametrize("state", ["approved", "rejected", "expired"])
def test_a_decided_approval_cannot_be_decided_again(state: str) -> None:
    verdict = check_approval(pending(state=state), decision())
    assert (verdict.accepted, verdict.new_state, verdict.reasons) == (
        False,
        state,
        (f"already decided: this approval is {state}",),
    )


def test_level_3_approves_one_named_step() -> None:
    request = pending(3)
    assert check_approval(request, decision(step_id="restart")).accepted
    assert check_approval(request, decision()).reasons == (
        "level 3 approves steps: name the step (this approval is for 'restart')",
    )
    assert check_approval(request, decision(step_id="migrate")).reasons == (
        "this approval is for step 'restart', not 'migrate'",
    )
    assert check_approval(pending(2), decision(step_id="restart")).reasons == (
        "level 2 approves the whole execution, not step 'restart'",
    )


def test_level_0_is_never_approved_and_an_approver_is_named() -> None:
    assert check_approval(pending(0), decision()).reasons == ("level 0 executions need no approval",)
    assert check_approval(pending(), decision(approver="  ")).reasons == ("the approver must be named",)


def test_a_pending_approval_is_coherent() -> None:
    with pytest.raises(ValueError, match="expire before it was requested"):
        pending(expires_at=REQUESTED - timedelta(seconds=1))
    with pytest.raises(ValueError, match="level 3 approvals gate one step"):
        pending(3, step_id=None)
    with pytest.raises(ValueError, match="timezone"):
        pending(requested_at=datetime(2026, 5, 4, 9, 0))


@given(st.integers(1, 3), st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=2)))
def test_accepted_exactly_while_not_expired(level: int, elapsed: timedelta) -> None:
    request = pending(level)
    verdict = check_approval(request, decision(at=REQUESTED + elapsed, step_id=request.step_id))
    assert verdict.accepted is (elapsed < timedelta(seconds=DEFAULT_APPROVAL_EXPIRY_S[level]))


# ---- the gate a step checks as it starts


def test_a_step_starts_only_under_a_matching_approval() -> None:
    approved = RecordedApproval(state="approved", plan_hash=HASH)
    assert gate_refusal(0, HASH, "restart", None) is None
    assert gate_refusal(2, HASH, "restart", approved) is None
    assert gate_refusal(1, OTHER_HASH, "restart", approved) is None
    assert gate_refusal(2, HASH, "restart", None) == "step 'restart' needs a level 2 approval and none is recorded"
    assert gate_refusal(2, OTHER_HASH, "restart", approved) == (
        f"approval bound to plan hash {HASH} but the execution runs {OTHER_HASH} (the plan changed after review)"
    )
    rejected = RecordedApproval(state="rejected", plan_hash=HASH)
    assert gate_refusal(2, HASH, "restart", rejected) == "step 'restart' cannot start: its approval is rejected"


def test_a_level_3_step_needs_its_own_approval() -> None:
    for_restart = RecordedApproval(state="approved", plan_hash=HASH, step_id="restart")
    assert gate_refusal(3, HASH, "restart", for_restart) is None
    assert gate_refusal(3, HASH, "migrate", for_restart) == (
        "step 'migrate' cannot start: the approval is for step 'restart'"
    )
