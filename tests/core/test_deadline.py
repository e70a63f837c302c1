"""The generic deadline: SIGALRM stops code that has no limit of its own, and leaves the process as it was."""

from __future__ import annotations

import signal
import threading
import time

import pytest

from ops_pipeline.core.execution.deadline import Deadline, alarm_deadline
from ops_pipeline.core.execution.timeouts import StepTimeoutError


def busy_forever() -> None:
    while True:
        sum(range(1000))


def test_a_busy_loop_is_stopped_at_the_deadline() -> None:
    started = time.monotonic()
    with (
        pytest.raises(StepTimeoutError, match=r"step 'spin' stopped after 0.3 s"),
        alarm_deadline(Deadline.after(0.3, "spin")),
    ):
        busy_forever()
    assert 0.3 <= time.monotonic() - started < 0.6


def test_a_blocking_sleep_is_interrupted() -> None:
    started = time.monotonic()
    with pytest.raises(StepTimeoutError), alarm_deadline(Deadline.after(0.2, "nap")):
        time.sleep(30)
    assert time.monotonic() - started < 0.5


def test_code_that_finishes_in_time_is_untouched_and_the_alarm_never_fires_later() -> None:
    with alarm_deadline(Deadline.after(0.2)) as armed:
        value = 41 + 1
    assert armed and value == 42
    time.sleep(0.3)  # a stray alarm would raise here


def test_the_previous_handler_and_timer_are_restored() -> None:
    fired: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        with alarm_deadline(Deadline.after(5)):
            time.sleep(0.1)
        assert signal.getitimer(signal.ITIMER_REAL)[0] > 0.2  # the outer timer still runs
        time.sleep(0.6)
        assert fired == [signal.SIGALRM]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_off_the_main_thread_no_alarm_is_armed() -> None:
    seen: list[bool] = []

    def worker() -> None:
        with alarm_deadline(Deadline.after(0.05)) as armed:
            time.sleep(0.1)
        seen.append(armed)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [False]


def test_a_deadline_already_past_raises_at_once() -> None:
    deadline = Deadline(time.monotonic() - 1, 1.0, "late")
    with pytest.raises(StepTimeoutError), alarm_deadline(deadline):
        pytest.fail("the block must not run")


@pytest.mark.parametrize("budget", [0, -1, float("nan"), float("inf")])
def test_a_budget_must_be_a_positive_finite_number(budget: float) -> None:
    with pytest.raises(ValueError, match=r"positive number of seconds"):
        Deadline.after(budget)
