"""The local backend: the argv runs on this machine as a subprocess of the step (see `services.process`)."""

from __future__ import annotations

from ops_pipeline.core.execution.deadline import Deadline
from ops_pipeline.core.targets import Target
from ops_pipeline.services.automation.backend import CAPTURE_BYTES, CommandResult, decoded
from ops_pipeline.services.errors import CommandTimedOut, ServiceError
from ops_pipeline.services.process import ProcessTimedOut, run_process


class LocalBackend:
    name = "local"

    def run(self, target: Target, argv: list[str], deadline: Deadline) -> CommandResult:
        where = f"{target.describe()} via the local backend"
        try:
            output = run_process(argv, deadline, cap_bytes=CAPTURE_BYTES)
        except FileNotFoundError:
            raise ServiceError(f"{where}: program {argv[0]!r} not found") from None
        except PermissionError:
            raise ServiceError(
                f"{where}: program {argv[0]!r} is not executable by this process", "permission"
            ) from None
        except ProcessTimedOut as stopped:
            result = decoded(stopped.output)
            raise CommandTimedOut(
                f"{where}: {argv[0]} was still running after {stopped.budget_s:g} s; it was stopped with every "
                "process it started",
                result.stdout,
                result.stderr,
            ) from None
        except OSError as error:
            raise ServiceError(f"{where}: cannot start {argv[0]!r} ({error.strerror or error})") from None
        return decoded(output)
