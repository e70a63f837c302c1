"""The HTTP backend: commands for `http` targets go to a remote automation service.

    POST <url>/run  {"target": "<id>", "argv": [...], "timeout_s": <seconds left>}
    200 ->          {"exit_code": 0, "stdout": "...", "stderr": "..."}

The service runs the argv on the target and stops it after `timeout_s`; it may add `"timed_out": true` (the
command was stopped at its limit) and `"failure_class"` (what a non-zero exit means, e.g. "transient"). The
bearer token is the target's credentials if it has any, else the service's own token. The request waits a
little longer than the budget for the answer, so a service that honours `timeout_s` can say what happened.
"""

from __future__ import annotations

from collections.abc import Mapping

from ops_pipeline.core.control_loop.vocabulary import FAILURE_CLASSES
from ops_pipeline.core.execution.deadline import Deadline
from ops_pipeline.core.secrets import SecretError
from ops_pipeline.core.targets import SecretResolver, Target
from ops_pipeline.services.automation.backend import CAPTURE_BYTES, CommandResult
from ops_pipeline.services.errors import CommandTimedOut, ServiceError
from ops_pipeline.services.http_json import call_json, status_failure_class

ANSWER_GRACE_S = 2.0


class HttpAutomationBackend:
    name = "http"

    def __init__(
        self, url: str, *, token: str | None, resolve_secret: SecretResolver, connect_timeout_s: float = 5.0
    ) -> None:
        self._url = url.rstrip("/")
        self._token = token
        self._resolve_secret = resolve_secret
        self._connect_timeout_s = connect_timeout_s

    def run(self, target: Target, argv: list[str], deadline: Deadline) -> CommandResult:
        where = f"{target.describe()} via the http backend ({self._url})"
        reference = target.credentials or self._token
        try:
            token = self._resolve_secret(reference) if reference else None
        except SecretError as error:
            raise ServiceError(f"{where}: {error}", "permission") from None
        budget = deadline.remaining()
        if budget <= 0:
            raise deadline.timeout_error()
        answer = call_json(
            "POST",
            f"{self._url}/run",
            who=where,
            connect_timeout_s=min(self._connect_timeout_s, budget),
            read_timeout_s=budget + ANSWER_GRACE_S,
            payload={"target": target.id, "argv": argv, "timeout_s": round(budget, 3)},
            token=token,
        )
        if answer.status != 200:
            raise ServiceError(
                f"{where}: answered {answer.status}: {answer.excerpt}", status_failure_class(answer.status)
            )
        return _result(answer.body, where, budget)


def _result(body: object, where: str, budget: float) -> CommandResult:
    if not isinstance(body, Mapping):
        raise ServiceError(f"{where}: the answer is not a JSON object with exit_code, stdout and stderr")
    exit_code, stdout, stderr = body.get("exit_code"), body.get("stdout", ""), body.get("stderr", "")
    if isinstance(exit_code, bool) or not isinstance(exit_code, int):
        raise ServiceError(f"{where}: the answer has no integer exit_code")
    if not isinstance(stdout, str) or not isinstance(stderr, str):
        raise ServiceError(f"{where}: stdout and stderr in the answer must be text")
    if body.get("timed_out") is True:
        raise CommandTimedOut(
            f"{where}: the command was still running after {budget:g} s and was stopped", stdout, stderr
        )
    failure_class = body.get("failure_class")
    if failure_class is not None and failure_class not in FAILURE_CLASSES:
        raise ServiceError(f"{where}: unknown failure_class {failure_class!r} in the answer")
    return CommandResult(
        exit_code=exit_code,
        stdout=stdout[:CAPTURE_BYTES],
        stderr=stderr[:CAPTURE_BYTES],
        truncated=len(stdout) > CAPTURE_BYTES or len(stderr) > CAPTURE_BYTES,
        failure_class=failure_class,
    )
