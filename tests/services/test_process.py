"""Running a program as a step does: output piped and capped, the deadline kept, and no child left behind
after a normal exit, a timeout or an interruption."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ops_pipeline.core.execution.deadline import Deadline
from ops_pipeline.services.process import ProcessTimedOut, run_process
from tests.servers import read_pids, wait_gone

# Writes the pid of a background child, then its own, to $1; then waits for the child.
SPAWNS_A_CHILD = 'sleep 60 & echo $! > "$1"; echo $$ >> "$1"; wait'


class Interrupted(BaseException):
    """Stands in for Dagster's DagsterExecutionInterruptedError: a BaseException raised in the step's thread."""


@contextmanager
def interrupted_after(
    seconds: float, raised: type[BaseException] = Interrupted, once: Callable[[], bool] | None = None
) -> Iterator[None]:
    """SIGINT with a handler raising `raised` in the main thread, as Dagster terminates a run: `seconds` after
    the block starts, or as soon as `once()` holds (the command is known to be running) when it is given."""

    def interrupt(signum: int, frame: object) -> None:
        raise raised("interrupted by the test")

    cancelled = threading.Event()

    def send_when_due() -> None:
        stop = time.monotonic() + 30
        if once is not None:
            while not once() and time.monotonic() < stop and not cancelled.is_set():
                time.sleep(0.02)
        if not cancelled.wait(seconds if once is None else 0):
            os.kill(os.getpid(), signal.SIGINT)

    previous = signal.signal(signal.SIGINT, interrupt)
    sender = threading.Thread(target=send_when_due)
    sender.start()
    try:
        yield
    finally:
        cancelled.set()
        sender.join()
        signal.signal(signal.SIGINT, previous)


def wrote_pids(path: Path, count: int = 2) -> Callable[[], bool]:
    return lambda: path.exists() and len(path.read_text().split()) >= count


def test_output_and_exit_code_come_back_separately() -> None:
    output = run_process(["sh", "-c", "echo out; echo err >&2; exit 3"], Deadline.after(10))
    assert (output.exit_code, output.stdout, output.stderr) == (3, b"out\n", b"err\n")


def test_output_beyond_the_cap_is_counted_not_kept() -> None:
    output = run_process(["sh", "-c", "head -c 300000 /dev/zero"], Deadline.after(10), cap_bytes=1000)
    assert len(output.stdout) == 1000
    assert output.stdout_dropped == 299_000


def test_stdin_is_fed_in_chunks() -> None:
    chunks = (bytes([n]) * 100_000 for n in range(30))
    output = run_process(["wc", "-c"], Deadline.after(10), stdin=chunks)
    assert output.stdout.strip() == b"3000000"


def test_a_timeout_kills_the_program_and_its_children(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    started = time.monotonic()
    with pytest.raises(ProcessTimedOut) as stopped:
        run_process(["sh", "-c", SPAWNS_A_CHILD, "sh", str(pids)], Deadline.after(1.0))
    assert time.monotonic() - started < 2.0
    assert stopped.value.output.exit_code < 0  # ended by a signal
    assert wait_gone(read_pids(pids, 2)) == []


def test_a_program_that_ignores_sigterm_is_killed_after_the_grace(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    script = "trap '' TERM; " + SPAWNS_A_CHILD
    started = time.monotonic()
    with pytest.raises(ProcessTimedOut):
        run_process(["sh", "-c", script, "sh", str(pids)], Deadline.after(0.5))
    assert time.monotonic() - started < 1.5
    assert wait_gone(read_pids(pids, 2)) == []


def test_an_interruption_kills_the_program_and_its_children(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    with pytest.raises(Interrupted), interrupted_after(0, once=wrote_pids(pids)):
        run_process(["sh", "-c", SPAWNS_A_CHILD, "sh", str(pids)], Deadline.after(30))
    assert wait_gone(read_pids(pids, 2)) == []


def test_a_child_left_running_after_a_normal_exit_is_killed(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    started = time.monotonic()
    output = run_process(
        ["sh", "-c", 'sleep 60 >/dev/null 2>&1 & echo $! > "$1"; echo done', "sh", str(pids)], Deadline.after(10)
    )
    assert output.stdout == b"done\n"
    assert time.monotonic() - started < 2.0
    (child,) = read_pids(pids, 1)
    assert wait_gone([child]) == []


def test_a_child_holding_the_pipes_does_not_hold_the_step(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    started = time.monotonic()
    output = run_process(["sh", "-c", 'sleep 60 & echo $! > "$1"; echo done', "sh", str(pids)], Deadline.after(10))
    assert output.exit_code == 0 and output.stdout == b"done\n"
    assert time.monotonic() - started < 2.0
    assert wait_gone(read_pids(pids, 1)) == []


def test_a_missing_program_is_an_os_error() -> None:
    with pytest.raises(FileNotFoundError):
        run_process(["no-such-program-ops"], Deadline.after(5))
