"""The automation service: runs a command on a target, or sends a file to it, through the backend its
connection calls for (local subprocess, ssh, or the remote HTTP automation service).

Only transient failures (no connection, a busy service) are tried again, with exponential backoff and never
past the deadline; a command that ran and exited non-zero is a result, not a failure to retry here. Every
error names the target and the backend.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from ops_pipeline.core.execution.deadline import Deadline
from ops_pipeline.core.secrets import resolve_secret as resolve_reference
from ops_pipeline.core.targets import SecretResolver, Target
from ops_pipeline.services.assets import AssetService
from ops_pipeline.services.automation.backend import CommandBackend, CommandResult
from ops_pipeline.services.automation.files import FileCopy, copy_file
from ops_pipeline.services.automation.local import LocalBackend
from ops_pipeline.services.automation.remote_http import HttpAutomationBackend
from ops_pipeline.services.automation.ssh import SshBackend, SshOptions
from ops_pipeline.services.errors import ServiceError

T = TypeVar("T")


class AutomationService:
    def __init__(
        self,
        assets: AssetService,
        *,
        ssh: SshOptions | None = None,
        http_url: str | None = None,
        http_token: str | None = None,
        retries: int = 2,
        retry_delay_s: float = 0.5,
        resolve_secret: SecretResolver = resolve_reference,
    ) -> None:
        self.assets = assets
        self._local = LocalBackend()
        self._ssh = SshBackend(ssh or SshOptions(), resolve_secret)
        self._http = (
            HttpAutomationBackend(http_url, token=http_token, resolve_secret=resolve_secret) if http_url else None
        )
        self._retries = retries
        self._retry_delay_s = retry_delay_s

    def backend_for(self, target: Target) -> CommandBackend:
        if target.connection == "local":
            return self._local
        if target.connection == "ssh":
            return self._ssh
        if self._http is None:
            raise ServiceError(
                f"{target.describe()}: an http target needs the remote automation service; set "
                "services.automation.http.url"
            )
        return self._http

    def run(self, target_id: str, argv: Sequence[str], deadline: Deadline) -> CommandResult:
        """Run `argv` on the target before `deadline`; ServiceError (CommandTimedOut at the deadline) when it
        could not run, a CommandResult with its exit code when it did."""
        if not argv or not argv[0]:
            raise ServiceError(f"target {target_id!r}: no program to run (argv is empty)")
        target = self.assets.target(target_id, deadline)
        backend = self.backend_for(target)
        return self._with_retries(lambda: backend.run(target, list(argv), deadline), deadline)

    def push_file(self, target_id: str, source: Path, destination: str, deadline: Deadline) -> FileCopy:
        """Send a local file to `destination` on the target, verified by SHA-256 and renamed into place."""
        target = self.assets.target(target_id, deadline)
        if target.connection == "local":
            return copy_file(source, Path(destination), deadline)
        if target.connection == "ssh":
            return self._with_retries(lambda: self._ssh.push_file(target, source, destination, deadline), deadline)
        raise ServiceError(
            f"{target.describe()} via the http backend: the remote automation service runs commands and has no "
            "file transfer; reach the target over ssh to send it files"
        )

    def _with_retries(self, attempt: Callable[[], T], deadline: Deadline) -> T:
        for number in range(self._retries + 1):
            try:
                return attempt()
            except ServiceError as error:
                pause = self._retry_delay_s * 2**number
                if error.failure_class != "transient" or number == self._retries or deadline.remaining() <= pause:
                    raise
                time.sleep(pause)
        raise AssertionError("unreachable")  # the loop returns or raises
