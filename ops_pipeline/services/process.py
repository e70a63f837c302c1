"""Running a program as a step does: in its own session, output piped and capped, stopped at a deadline, and
never leaving a child behind.

The program starts with `start_new_session=True`, so it leads a new process group holding every child it
spawns. The group is killed (SIGTERM, a short grace, then SIGKILL) when the deadline passes, when the caller is
interrupted by any BaseException (Dagster's `DagsterExecutionInterruptedError` on run termination, a
KeyboardInterrupt), and also after the program exits, so a background child it left running dies with the
step. A child that starts a session of its own (`setsid`) leaves the group and is out of reach.

stdout and stderr are always pipes, never the step process's own descriptors (which Dagster captures into
compute logs): the caller masks them before anyone sees them. Only the first `cap_bytes` of each are kept; the
rest is read and counted so the program never blocks on a full pipe.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from ops_pipeline.core.execution.deadline import Deadline

__all__ = ["KILL_GRACE_S", "ProcessOutput", "ProcessTimedOut", "kill_group", "run_process"]

KILL_GRACE_S = 0.3  # between SIGTERM and SIGKILL: time to clean up, short enough to stay within a second
EXIT_DRAIN_S = 0.2  # after the program exits, how long a child still holding its pipes may keep them
READ_SIZE = 65536


@dataclass
class _Capture:
    cap_bytes: int
    kept: bytearray = field(default_factory=bytearray)
    dropped: int = 0

    def add(self, data: bytes) -> None:
        room = self.cap_bytes - len(self.kept)
        self.kept += data[: max(room, 0)]
        self.dropped += max(len(data) - max(room, 0), 0)


@dataclass(frozen=True)
class ProcessOutput:
    exit_code: int
    stdout: bytes
    stderr: bytes
    stdout_dropped: int = 0  # bytes beyond the cap, read and discarded
    stderr_dropped: int = 0


class ProcessTimedOut(Exception):
    """The program was still running at the deadline; its group was killed. Carries what it printed."""

    def __init__(self, argv0: str, budget_s: float, output: ProcessOutput) -> None:
        super().__init__(f"{argv0} was still running after {budget_s:g} s and was stopped")
        self.budget_s = budget_s
        self.output = output


def kill_group(pgid: int, sig: int) -> bool:
    """Signal every process of the group; False when none is left."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _stop(process: subprocess.Popen[bytes], grace_s: float) -> None:
    """TERM the group, give the program `grace_s` to exit, then KILL whatever of the group is left."""
    if kill_group(process.pid, signal.SIGTERM):
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace_s)
    kill_group(process.pid, signal.SIGKILL)
    process.wait()


def run_process(
    argv: list[str],
    deadline: Deadline,
    *,
    stdin: Iterable[bytes] | None = None,
    keep_stdin_open: bool = False,
    cap_bytes: int = 65536,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    grace_s: float = KILL_GRACE_S,
) -> ProcessOutput:
    """Run `argv` (no shell) until it exits or `deadline` passes; raise ProcessTimedOut at the deadline.

    `stdin` is fed to the program chunk by chunk as it reads (the deadline is checked between chunks), then
    closed; without it the program reads nothing, or, with `keep_stdin_open`, a pipe that stays open until it
    exits (an ssh client then keeps its channel's input open). A program that cannot start raises OSError.
    """
    wants_stdin = stdin is not None or keep_stdin_open
    process = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE if wants_stdin else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        env=dict(env) if env is not None else None,
        cwd=cwd,
    )
    captures = {"stdout": _Capture(cap_bytes), "stderr": _Capture(cap_bytes)}
    try:
        _pump(process, deadline, iter(stdin) if stdin is not None else None, captures)
    except _DeadlinePassed:
        _stop(process, grace_s)
        _drain(process, captures)
        raise ProcessTimedOut(argv[0], deadline.budget_s, _output(process, captures)) from None
    except BaseException:
        _stop(process, grace_s)
        raise
    finally:
        _close_pipes(process)
    # The program is done; whatever it left running in its group goes with it.
    kill_group(process.pid, signal.SIGKILL)
    return _output(process, captures)


class _DeadlinePassed(Exception):
    pass


def _pump(
    process: subprocess.Popen[bytes],
    deadline: Deadline,
    chunks: Iterator[bytes] | None,
    captures: dict[str, _Capture],
) -> None:
    assert process.stdout is not None and process.stderr is not None
    exit_watch = _exit_watch(process)
    drain_until: float | None = None
    pending = b""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ, "stdout")
        selector.register(process.stderr, selectors.EVENT_READ, "stderr")
        if exit_watch is not None:
            selector.register(exit_watch, selectors.EVENT_READ, "exit")
        if chunks is not None and process.stdin is not None:
            os.set_blocking(process.stdin.fileno(), False)
            selector.register(process.stdin, selectors.EVENT_WRITE, "stdin")
        try:
            while _waiting_for_output(selector):
                if deadline.expired():
                    raise _DeadlinePassed
                if drain_until is None and process.poll() is not None:
                    drain_until = time.monotonic() + EXIT_DRAIN_S
                    _unregister(selector, exit_watch)
                if drain_until is not None and time.monotonic() >= drain_until:
                    break  # a child of the program holds its pipes open; it is killed with the group
                limit = deadline.at if drain_until is None else min(deadline.at, drain_until)
                # Without a pidfd the program's exit is noticed by polling.
                wait_s = max(0.0, limit - time.monotonic())
                if exit_watch is None:
                    wait_s = min(wait_s, 0.05)
                for key, _ in selector.select(wait_s):
                    if key.data == "exit":
                        _unregister(selector, exit_watch)
                    elif key.data == "stdin":
                        pending = _feed(selector, key.fileobj, chunks, pending, deadline)  # type: ignore[arg-type]
                    else:
                        _read(selector, key.fileobj, captures[key.data])  # type: ignore[arg-type]
        finally:
            if exit_watch is not None:
                os.close(exit_watch)
    remaining = deadline.remaining()
    try:
        process.wait(timeout=remaining if remaining > 0 else 0.001)
    except subprocess.TimeoutExpired:
        raise _DeadlinePassed from None


def _waiting_for_output(selector: selectors.BaseSelector) -> bool:
    return any(key.data in ("stdout", "stderr") for key in selector.get_map().values())


def _exit_watch(process: subprocess.Popen[bytes]) -> int | None:
    """A pidfd that becomes readable when the program exits (Linux 5.3+), else None."""
    pidfd_open = getattr(os, "pidfd_open", None)
    if pidfd_open is None:
        return None
    try:
        return int(pidfd_open(process.pid))
    except OSError:
        return None


def _unregister(selector: selectors.BaseSelector, fileobj: Any) -> None:
    if fileobj is not None:
        with contextlib.suppress(KeyError, ValueError):
            selector.unregister(fileobj)


def _read(selector: selectors.BaseSelector, pipe: IO[bytes], capture: _Capture) -> None:
    data = os.read(pipe.fileno(), READ_SIZE)
    if data:
        capture.add(data)
    else:
        selector.unregister(pipe)


def _feed(
    selector: selectors.BaseSelector,
    pipe: IO[bytes],
    chunks: Iterator[bytes] | None,
    pending: bytes,
    deadline: Deadline,
) -> bytes:
    """Write what the pipe takes now; fetch the next chunk (the caller's deadline checked first) when it is empty."""
    while True:
        if not pending:
            if deadline.expired():
                raise _DeadlinePassed
            pending = next(chunks, b"") if chunks is not None else b""
            if not pending:
                selector.unregister(pipe)
                pipe.close()
                return b""
        try:
            written = os.write(pipe.fileno(), pending)
        except BlockingIOError:
            return pending
        except BrokenPipeError:  # the program stopped reading; its exit status says why
            selector.unregister(pipe)
            with contextlib.suppress(OSError):
                pipe.close()
            return b""
        pending = pending[written:]
        if pending:
            return pending


def _drain(process: subprocess.Popen[bytes], captures: dict[str, _Capture]) -> None:
    """What the stopped program printed and nobody read yet (its pipes are at EOF or hold little)."""
    for name, pipe in (("stdout", process.stdout), ("stderr", process.stderr)):
        if pipe is None or pipe.closed:
            continue
        os.set_blocking(pipe.fileno(), False)
        with contextlib.suppress(OSError):
            while data := os.read(pipe.fileno(), READ_SIZE):
                captures[name].add(data)


def _close_pipes(process: subprocess.Popen[bytes]) -> None:
    for pipe in (process.stdin, process.stdout, process.stderr):
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()


def _output(process: subprocess.Popen[bytes], captures: dict[str, _Capture]) -> ProcessOutput:
    out, err = captures["stdout"], captures["stderr"]
    return ProcessOutput(
        exit_code=process.returncode if process.returncode is not None else -1,
        stdout=bytes(out.kept),
        stderr=bytes(err.kept),
        stdout_dropped=out.dropped,
        stderr_dropped=err.dropped,
    )
