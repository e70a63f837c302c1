"""cancel_on_signal: a blocking call is cancelled from another thread when the run is terminated (SIGINT) or
the deadline passes, and the process's signal wakeup fd is left as it was."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from ops_pipeline.core.execution.interrupts import cancel_on_signal


def test_the_deadline_cancels() -> None:
    cancelled = threading.Event()
    started = time.monotonic()
    with cancel_on_signal(cancelled.set, deadline_s=0.2):
        assert cancelled.wait(5)
    assert 0.2 <= time.monotonic() - started < 1.0


def test_sigint_cancels_and_its_handler_still_runs() -> None:
    cancelled = threading.Event()
    handled: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: handled.append(signum))
    try:
        with cancel_on_signal(cancelled.set):
            os.kill(os.getpid(), signal.SIGINT)
            assert cancelled.wait(5)
        assert handled == [signal.SIGINT]
    finally:
        signal.signal(signal.SIGINT, previous)


def test_nothing_is_cancelled_when_the_block_ends_first_and_the_wakeup_fd_is_restored() -> None:
    calls: list[str] = []
    before = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(before)
    with cancel_on_signal(lambda: calls.append("cancel"), deadline_s=0.3):
        pass
    time.sleep(0.4)
    assert calls == []
    assert signal.set_wakeup_fd(before) == before


def test_a_failing_cancel_does_not_break_the_block() -> None:
    def broken() -> None:
        raise RuntimeError("already finished")

    with cancel_on_signal(broken, deadline_s=0.05):
        time.sleep(0.2)


@pytest.mark.parametrize("deadline_s", [None, 0.1])
def test_off_the_main_thread_only_the_deadline_is_watched(deadline_s: float | None) -> None:
    cancelled = threading.Event()

    def worker() -> None:
        with cancel_on_signal(cancelled.set, deadline_s=deadline_s):
            time.sleep(0.3)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert cancelled.is_set() == (deadline_s is not None)
