"""Approval levels 0-3 and the rule deciding whether one approval decision may be recorded.

| level | needs      | meaning                                                                  | expires |
|-------|------------|--------------------------------------------------------------------------|---------|
| 0     | `none`     | runs at once                                                             | -       |
| 1     | `confirm`  | one confirmation; anyone allowed to approve, the submitter included      | 5 min   |
| 2     | `plan`     | a review of the plan: bound to its hash, never by the submitter          | 15 min  |
| 3     | `per_step` | like 2, for each step: the execution pauses before every step            | 30 min  |

Expiry counts from the request (`requested_at`); an approval is expired from `expires_at` on, that instant
included. Defaults are `DEFAULT_APPROVAL_EXPIRY_S`; configuration may override them per level.

`check_approval` is pure: the store gives it the pending approval as recorded and the decision as received,
and records the decision only when it is accepted. Steps call it again when they start (with the execution's
current hash), so an approval for another version of the plan never lets a step run. Rejecting needs neither
a matching hash nor a different person: anyone allowed to decide may stop an execution, its submitter too.
Who is allowed to decide at all is RBAC policy, checked elsewhere. People are compared ignoring case and
surrounding spaces, so "Alice" cannot approve what "alice " submitted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

ApprovalLevel = Literal[0, 1, 2, 3]
ApprovalNeed = Literal["none", "confirm", "plan", "per_step"]
ApprovalState = Literal["pending", "approved", "rejected", "expired"]
Decision = Literal["approve", "reject"]

APPROVAL_NEEDS: Mapping[int, ApprovalNeed] = {0: "none", 1: "confirm", 2: "plan", 3: "per_step"}
APPROVAL_MEANINGS: Mapping[int, str] = {
    0: "no approval: runs at once",
    1: "one confirmation before it runs",
    2: "a review of the exact plan (bound to its hash) by someone other than the submitter",
    3: "an approval of each step, bound to the plan hash, by someone other than the submitter",
}
DEFAULT_APPROVAL_EXPIRY_S: Mapping[int, float] = {1: 5 * 60.0, 2: 15 * 60.0, 3: 30 * 60.0}


def _level(level: int) -> int:
    if level not in APPROVAL_NEEDS or isinstance(level, bool):
        raise ValueError(f"approval level must be 0, 1, 2 or 3, not {level!r}")
    return level


def approval_needed(level: int) -> ApprovalNeed:
    return APPROVAL_NEEDS[_level(level)]


def approval_expiry_s(level: int, overrides: Mapping[int, float] | None = None) -> float:
    """Seconds an approval request of `level` stays open (1-3; level 0 is never asked)."""
    if _level(level) == 0:
        raise ValueError("level 0 executions need no approval, so nothing expires")
    seconds = (overrides or {}).get(level, DEFAULT_APPROVAL_EXPIRY_S[level])
    if not seconds > 0:
        raise ValueError(f"the expiry of level {level} approvals must be above zero seconds, not {seconds!r}")
    return float(seconds)


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must carry a timezone (e.g. datetime.now(UTC))")
    return moment


def expires_at(level: int, requested_at: datetime, overrides: Mapping[int, float] | None = None) -> datetime:
    """When an approval requested at `requested_at` stops being decidable."""
    return _aware(requested_at, "requested_at") + timedelta(seconds=approval_expiry_s(level, overrides))


def is_expired(expiry: datetime, now: datetime) -> bool:
    """True from `expiry` on, that instant included."""
    return _aware(now, "now") >= _aware(expiry, "expires_at")


@dataclass(frozen=True)
class PendingApproval:
    """An approval request as the store recorded it, with what it needs from its execution."""

    level: int
    execution_plan_hash: str  # the hash of the plan the execution runs
    submitter: str
    requested_at: datetime
    expires_at: datetime
    step_id: str | None = None  # level 3: the step this approval gates
    state: ApprovalState = "pending"

    def __post_init__(self) -> None:
        _level(self.level)
        if _aware(self.expires_at, "expires_at") < _aware(self.requested_at, "requested_at"):
            raise ValueError("an approval cannot expire before it was requested")
        if (self.level == 3) != (self.step_id is not None):
            raise ValueError("level 3 approvals gate one step (step_id); other levels gate the whole execution")


@dataclass(frozen=True)
class ApprovalDecision:
    """What an approver says: approve or reject, the plan hash they reviewed, and for level 3 the step."""

    approver: str
    decision: Decision
    at: datetime
    plan_hash: str | None = None  # required to approve at levels 2 and 3
    step_id: str | None = None  # required at level 3


@dataclass(frozen=True)
class ApprovalVerdict:
    """Accepted or refused (with every reason), and the state the approval should have afterwards.

    `new_state` is `approved` or `rejected` when accepted; when refused it is unchanged, except that a pending
    approval found past its expiry becomes `expired` (record it: expired is final).
    """

    accepted: bool
    new_state: ApprovalState
    reasons: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        return "; ".join(self.reasons) if self.reasons else f"accepted: {self.new_state}"


def _person(name: str) -> str:
    return name.strip().casefold()


def _refusals(pending: PendingApproval, decision: ApprovalDecision) -> list[str]:
    if pending.level == 0:
        return ["level 0 executions need no approval"]
    if not decision.approver.strip():
        return ["the approver must be named"]
    if pending.state != "pending":
        return [f"already decided: this approval is {pending.state}"]
    reasons: list[str] = []
    if pending.level == 3 and decision.step_id is None:
        reasons.append(f"level 3 approves steps: name the step (this approval is for {pending.step_id!r})")
    elif pending.level == 3 and decision.step_id != pending.step_id:
        reasons.append(f"this approval is for step {pending.step_id!r}, not {decision.step_id!r}")
    elif pending.level < 3 and decision.step_id is not None:
        reasons.append(f"level {pending.level} approves the whole execution, not step {decision.step_id!r}")
    if decision.decision == "reject" or pending.level == 1:
        return reasons
    if _person(decision.approver) == _person(pending.submitter):
        reasons.append(f"the submitter cannot approve their own level {pending.level} execution")
    if decision.plan_hash is None:
        reasons.append(f"level {pending.level} approvals are bound to a plan hash: give the hash you reviewed")
    elif decision.plan_hash != pending.execution_plan_hash:
        reasons.append(
            f"approval bound to plan hash {decision.plan_hash} but the execution runs "
            f"{pending.execution_plan_hash} (the plan changed after review)"
        )
    return reasons


def check_approval(pending: PendingApproval, decision: ApprovalDecision) -> ApprovalVerdict:
    """Whether `decision` may be recorded on `pending`; when refused, every reason, in words a person can act on."""
    if pending.level != 0 and pending.state == "pending" and is_expired(pending.expires_at, decision.at):
        return ApprovalVerdict(False, "expired", (f"approval expired at {pending.expires_at.isoformat()}",))
    reasons = _refusals(pending, decision)
    if reasons:
        return ApprovalVerdict(accepted=False, new_state=pending.state, reasons=tuple(reasons))
    return ApprovalVerdict(accepted=True, new_state="approved" if decision.decision == "approve" else "rejected")


@dataclass(frozen=True)
class RecordedApproval:
    """A decided approval as the store holds it: what a starting step checks."""

    state: ApprovalState
    plan_hash: str | None  # the hash approved (levels 2 and 3)
    step_id: str | None = None  # level 3


def gate_refusal(level: int, execution_plan_hash: str, step_id: str, approval: RecordedApproval | None) -> str | None:
    """Why step `step_id` may not start now, or None when its approval (if it needs one) lets it.

    Called by every step as it starts, so a step selected by hand in the launchpad cannot bypass the gate.
    """
    if _level(level) == 0:
        return None
    if approval is None:
        return f"step {step_id!r} needs a level {level} approval and none is recorded"
    if approval.state != "approved":
        return f"step {step_id!r} cannot start: its approval is {approval.state}"
    if level == 3 and approval.step_id != step_id:
        return f"step {step_id!r} cannot start: the approval is for step {approval.step_id!r}"
    if level >= 2 and approval.plan_hash != execution_plan_hash:
        return (
            f"approval bound to plan hash {approval.plan_hash} but the execution runs {execution_plan_hash} "
            "(the plan changed after review)"
        )
    return None
