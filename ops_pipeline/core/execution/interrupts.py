"""Stopping a blocking database call when the run is terminated or its deadline passes.

Dagster terminates a run with SIGINT; its handler raises `DagsterExecutionInterruptedError` in the step, but a
Python signal handler only runs between bytecodes, so a step blocked inside a C call (libpq waiting for a
query, `sqlite3_step`) would hear of it only when the call returns. `cancel_on_signal` closes that gap: while it
is active, a watcher thread waits on the interpreter's signal wakeup fd (`signal.set_wakeup_fd`, written by
the C-level handler the moment a signal arrives) and on an optional deadline, and calls `cancel` (a
thread-safe "stop what you are doing" such as `sqlite3.Connection.interrupt` or psycopg2's `cancel`). The call
returns, the handler runs, and the step sees the interruption it was meant to see.

Only the main thread can own the wakeup fd; elsewhere only the deadline is watched. A wakeup fd set by someone
else (an asyncio loop) is restored afterwards and receives the signals that arrived meanwhile.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["INTERRUPT_SIGNALS", "cancel_on_signal"]

INTERRUPT_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})  # Dagster's termination, a supervisor's stop


@contextmanager
def cancel_on_signal(cancel: Callable[[], object], deadline_s: float | None = None) -> Iterator[None]:
    """Call `cancel` once, from another thread, if SIGINT or SIGTERM arrives or `deadline_s` seconds pass."""
    on_main_thread = threading.current_thread() is threading.main_thread()
    if not on_main_thread and deadline_s is None:
        yield
        return
    wakeup_read, wakeup_write = os.pipe()
    stop_read, stop_write = os.pipe()
    os.set_blocking(wakeup_write, False)
    previous_fd = -1
    if on_main_thread:
        previous_fd = signal.set_wakeup_fd(wakeup_write, warn_on_full_buffer=False)
    watcher = threading.Thread(
        target=_watch,
        args=(wakeup_read, stop_read, previous_fd, cancel, deadline_s),
        name="ops-cancel-on-signal",
        daemon=True,
    )
    watcher.start()
    try:
        yield
    finally:
        os.write(stop_write, b"x")
        watcher.join()
        if on_main_thread:
            signal.set_wakeup_fd(previous_fd)
        for fd in (wakeup_read, wakeup_write, stop_read, stop_write):
            os.close(fd)


def _watch(
    wakeup_read: int, stop_read: int, previous_fd: int, cancel: Callable[[], object], deadline_s: float | None
) -> None:
    end = None if deadline_s is None else time.monotonic() + deadline_s
    while True:
        timeout = None if end is None else max(0.0, end - time.monotonic())
        ready, _, _ = select.select([wakeup_read, stop_read], [], [], timeout)
        if stop_read in ready:
            return
        if wakeup_read not in ready:  # the deadline passed
            _call(cancel)
            return
        arrived = os.read(wakeup_read, 512)
        if previous_fd >= 0:
            with contextlib.suppress(OSError):
                os.write(previous_fd, arrived)
        if any(number in INTERRUPT_SIGNALS for number in arrived):
            _call(cancel)
            return


def _call(cancel: Callable[[], object]) -> None:
    with contextlib.suppress(Exception):  # the call may already have ended; cancelling then is harmless
        cancel()
