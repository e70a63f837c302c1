"""A step's deadline on the monotonic clock, and the generic way to stop code that has no limit of its own.

Dagster has no op timeout, so every step type enforces its budget where it waits: a subprocess is killed as a
process group, HTTP reads time out, SQL gets a server-side limit, a file copy checks between chunks. Code
without such a place runs under `alarm_deadline`: `signal.setitimer` delivers SIGALRM at the deadline and the
handler raises `StepTimeoutError` in the main thread, wherever the code is (a blocking socket read is
interrupted too; a C call that retries on EINTR without returning to Python is not). Dagster never uses
SIGALRM and runs op code on the main thread under the in-process and multiprocess executors. The previous
handler and any timer that was armed are restored on the way out.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

from ops_pipeline.core.execution.timeouts import StepTimeoutError

__all__ = ["Deadline", "alarm_available", "alarm_deadline"]


@dataclass(frozen=True)
class Deadline:
    """The moment (on `time.monotonic()`) a step must be done by, and the budget it was given."""

    at: float
    budget_s: float
    step_id: str = ""

    @classmethod
    def after(cls, budget_s: float, step_id: str = "") -> Deadline:
        if not math.isfinite(budget_s) or budget_s <= 0:
            raise ValueError(f"a step's budget must be a positive number of seconds, not {budget_s!r}")
        return cls(time.monotonic() + budget_s, budget_s, step_id)

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self.at - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self.at

    def timeout_error(self) -> StepTimeoutError:
        return StepTimeoutError(self.step_id, self.budget_s)

    def check(self) -> None:
        """Raise StepTimeoutError once the deadline has passed."""
        if self.expired():
            raise self.timeout_error()


def alarm_available() -> bool:
    """SIGALRM can only be handled on the main thread of the main interpreter, on a system that has it."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def alarm_deadline(deadline: Deadline) -> Iterator[bool]:
    """Raise StepTimeoutError inside the block when `deadline` passes; yields whether an alarm is armed.

    Off the main thread no alarm can be armed: the block runs unlimited (yielding False) and the caller's own
    checks are all that stop it.
    """
    if not alarm_available():
        yield False
        return
    if deadline.expired():
        raise deadline.timeout_error()

    armed = [True]

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        # One-shot timer, so this runs at most once; after the block it must not raise at all.
        if armed[0]:
            armed[0] = False
            raise deadline.timeout_error()

    previous_handler = signal.signal(signal.SIGALRM, on_alarm)
    previous_delay, previous_interval = signal.setitimer(signal.ITIMER_REAL, deadline.remaining())
    armed_at = time.monotonic()
    try:
        try:
            yield True
        finally:
            armed[0] = False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_delay > 0:
            # Someone else's timer was running; give it what it had left (at least a moment, so it still fires).
            left = max(previous_delay - (time.monotonic() - armed_at), 1e-3)
            signal.setitimer(signal.ITIMER_REAL, left, previous_interval)
