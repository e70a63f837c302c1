"""The state machines of an execution and of its step rows: statuses, legal transitions, and refusals.

Execution statuses and edges (from the seed's FSM; nothing else is legal):

    pending_approval -> approved | rejected | cancelled
    approved         -> queued | running | cancelled
    queued           -> running | cancelled | timeout
    running          -> completed | failed | cancelled | timeout | partial
    rejected, completed, failed, cancelled, timeout, partial: terminal, no way out

An execution starts in `pending_approval` (approval levels 1-3) or `approved` (level 0, which needs none; see
`initial_status`). `approved -> queued` is the normal path (Dagster's run queue, or waiting for target leases);
`approved -> running` is for runs that start at once (in-process fast plans, launchpad runs whose preflight
admits them). An approval that expires is recorded as `pending_approval -> rejected` with the reason
"expired", so the status set stays the seed's ten. A level 3 execution stays `running` between steps; the
pause is a step in `awaiting_approval`.

Step statuses and edges:

    pending           -> awaiting_approval | running | skipped | cancelled
    awaiting_approval -> running | skipped | cancelled | timeout   (timeout: its approval expired)
    running           -> succeeded | failed | timeout | cancelled   (retries stay in running)
    succeeded         -> rolled_back
    failed, skipped, timeout, cancelled, rolled_back: final

The store applies a change as `UPDATE ... SET status = :new WHERE id = :id AND status IN (predecessors(new))`
so a concurrent writer cannot slip an illegal transition in; `check_transition` gives the message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

ExecutionStatus = Literal[
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
]
EXECUTION_STATUSES: tuple[ExecutionStatus, ...] = (
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
)

StepStatus = Literal[
    "pending", "awaiting_approval", "running", "succeeded", "failed", "skipped", "timeout", "cancelled", "rolled_back"
]
STEP_STATUSES: tuple[StepStatus, ...] = (
    "pending",
    "awaiting_approval",
    "running",
    "succeeded",
    "failed",
    "skipped",
    "timeout",
    "cancelled",
    "rolled_back",
)

State = TypeVar("State", bound=str)


class IllegalTransition(ValueError):
    """A status change the state machine does not allow."""

    def __init__(self, subject: str, current: str, requested: str, legal: tuple[str, ...]) -> None:
        detail = f"from {current!r} it can only move to {', '.join(legal)}" if legal else f"{current!r} is final"
        super().__init__(f"cannot move the {subject} from {current!r} to {requested!r}: {detail}")
        self.current = current
        self.requested = requested
        self.legal = legal


@dataclass(frozen=True)
class StateMachine(Generic[State]):
    """Statuses, in a fixed order, and the statuses each may move to."""

    subject: str  # "execution", "step"
    statuses: tuple[State, ...]
    edges: Mapping[State, tuple[State, ...]]

    def __post_init__(self) -> None:
        unknown = {s for targets in self.edges.values() for s in targets} | set(self.edges)
        unknown -= set(self.statuses)
        if unknown:
            raise ValueError(f"{self.subject} edges name unknown statuses: {', '.join(sorted(unknown))}")

    def _known(self, status: str) -> None:
        if status not in self.statuses:
            raise ValueError(f"unknown {self.subject} status {status!r} (known: {', '.join(self.statuses)})")

    def targets(self, status: State) -> tuple[State, ...]:
        self._known(status)
        return self.edges.get(status, ())

    def can_transition(self, current: State, requested: State) -> bool:
        self._known(requested)
        return requested in self.targets(current)

    def check_transition(self, current: State, requested: State) -> None:
        if not self.can_transition(current, requested):
            raise IllegalTransition(self.subject, current, requested, self.targets(current))

    def predecessors(self, status: State) -> frozenset[State]:
        self._known(status)
        return frozenset(source for source, targets in self.edges.items() if status in targets)

    @property
    def final(self) -> frozenset[State]:
        return frozenset(status for status in self.statuses if not self.edges.get(status))


EXECUTION_FSM: StateMachine[ExecutionStatus] = StateMachine(
    subject="execution",
    statuses=EXECUTION_STATUSES,
    edges={
        "pending_approval": ("approved", "rejected", "cancelled"),
        "approved": ("queued", "running", "cancelled"),
        "queued": ("running", "cancelled", "timeout"),
        "running": ("completed", "failed", "cancelled", "timeout", "partial"),
    },
)

STEP_FSM: StateMachine[StepStatus] = StateMachine(
    subject="step",
    statuses=STEP_STATUSES,
    edges={
        "pending": ("awaiting_approval", "running", "skipped", "cancelled"),
        "awaiting_approval": ("running", "skipped", "cancelled", "timeout"),
        "running": ("succeeded", "failed", "timeout", "cancelled"),
        "succeeded": ("rolled_back",),
    },
)

TERMINAL: frozenset[ExecutionStatus] = EXECUTION_FSM.final
STEP_FINAL: frozenset[StepStatus] = STEP_FSM.final  # succeeded is not final: it may still be rolled back
TRANSITIONS: Mapping[ExecutionStatus, tuple[ExecutionStatus, ...]] = {
    status: EXECUTION_FSM.targets(status) for status in EXECUTION_STATUSES
}


def initial_status(approval_level: int) -> ExecutionStatus:
    """Where a new execution starts: level 0 needs no approval, so it is approved at once."""
    if approval_level not in (0, 1, 2, 3):
        raise ValueError(f"approval level must be 0, 1, 2 or 3, not {approval_level!r}")
    return "approved" if approval_level == 0 else "pending_approval"


def can_transition(current: ExecutionStatus, requested: ExecutionStatus) -> bool:
    return EXECUTION_FSM.can_transition(current, requested)


def check_transition(current: ExecutionStatus, requested: ExecutionStatus) -> None:
    """Raise IllegalTransition, naming both statuses and the legal targets, unless the change is legal."""
    EXECUTION_FSM.check_transition(current, requested)


def predecessors(status: ExecutionStatus) -> frozenset[ExecutionStatus]:
    """The statuses from which `status` may be entered (for `UPDATE ... WHERE status IN (...)`)."""
    return EXECUTION_FSM.predecessors(status)


def can_step_transition(current: StepStatus, requested: StepStatus) -> bool:
    return STEP_FSM.can_transition(current, requested)


def check_step_transition(current: StepStatus, requested: StepStatus) -> None:
    STEP_FSM.check_transition(current, requested)


def step_predecessors(status: StepStatus) -> frozenset[StepStatus]:
    return STEP_FSM.predecessors(status)
