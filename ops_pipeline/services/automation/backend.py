"""What every automation backend does: run an argv on a target before a deadline and report what it printed.

A backend raises ServiceError (with a failure class) when it could not run the command at all, and
CommandTimedOut when the command was still running at the deadline (it is stopped, with its children). A
command that ran and exited non-zero is a CommandResult, not an error: the caller decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ops_pipeline.core.control_loop.vocabulary import FailureClass
from ops_pipeline.core.execution.deadline import Deadline
from ops_pipeline.core.targets import Target
from ops_pipeline.services.process import ProcessOutput

OUTPUT_CAP_BYTES = 65536
# Captured beyond the cap so that a secret cut by the capture boundary lies past the cap: output is masked
# whole, then cut to OUTPUT_CAP_BYTES.
CAPTURE_BYTES = OUTPUT_CAP_BYTES + 4096


@dataclass(frozen=True)
class CommandResult:
    exit_code: int
    stdout: str
    stderr: str
    truncated: bool = False  # output beyond CAPTURE_BYTES was discarded
    # What the backend says a non-zero exit means; None leaves it to the caller (a permanent failure).
    failure_class: FailureClass | None = None


class CommandBackend(Protocol):
    name: str

    def run(self, target: Target, argv: list[str], deadline: Deadline) -> CommandResult: ...


def decoded(output: ProcessOutput) -> CommandResult:
    return CommandResult(
        exit_code=output.exit_code,
        stdout=output.stdout.decode("utf-8", errors="replace"),
        stderr=output.stderr.decode("utf-8", errors="replace"),
        truncated=bool(output.stdout_dropped or output.stderr_dropped),
    )


def tail(text: str, limit: int = 300) -> str:
    """The end of a program's output on one line, for an error message."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else "..." + flat[-limit:]
