"""What the service clients raise: a message that names the target and the backend, and a failure class that
says whether trying again could help (only `transient` failures are retried)."""

from __future__ import annotations

from ops_pipeline.core.control_loop.vocabulary import FailureClass


class ServiceError(Exception):
    """A service could not do what was asked. The message never holds a resolved secret."""

    def __init__(self, message: str, failure_class: FailureClass = "permanent") -> None:
        super().__init__(message)
        self.failure_class: FailureClass = failure_class


class TargetNotFound(ServiceError):
    """No inventory knows the target."""


class CommandTimedOut(ServiceError):
    """A command was still running at its deadline and was stopped, with every process it started."""

    def __init__(self, message: str, stdout: str = "", stderr: str = "") -> None:
        super().__init__(message, "timeout")
        self.stdout = stdout
        self.stderr = stderr


class ChecksumMismatch(ServiceError):
    """A copied file's SHA-256 differs from its source's; the copy was discarded."""
