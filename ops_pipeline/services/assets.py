"""The asset service: which targets exist and how to reach them.

Targets listed in configuration answer first; any other id is asked of the HTTP asset service when one is
configured (`GET <url>/targets/<id>` answering the target as JSON: `hostname`, `connection`, `port`, `user`,
`credentials`; other fields are ignored). Lookups retry transient failures (no connection, 429/502/503/504) a
few times, and every error names the target and the service.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from urllib.parse import quote

from pydantic import ValidationError

from ops_pipeline.core.execution.deadline import Deadline
from ops_pipeline.core.secrets import resolve_secret as resolve_reference
from ops_pipeline.core.targets import SecretResolver, Target, TargetSpec
from ops_pipeline.services.errors import ServiceError, TargetNotFound
from ops_pipeline.services.http_json import call_json, status_failure_class


class AssetService:
    """Looks targets up: configured ones first, then the HTTP asset service at `url` if there is one."""

    def __init__(
        self,
        targets: Mapping[str, TargetSpec] | None = None,
        *,
        url: str | None = None,
        token: str | None = None,
        timeout_s: float = 5.0,
        retries: int = 2,
        retry_delay_s: float = 0.5,
        resolve_secret: SecretResolver = resolve_reference,
    ) -> None:
        self._configured = {
            target_id: Target(id=target_id, **spec.model_dump()) for target_id, spec in (targets or {}).items()
        }
        self._url = url.rstrip("/") if url else None
        self._token = token
        self._timeout_s = timeout_s
        self._retries = retries
        self._retry_delay_s = retry_delay_s
        self._resolve_secret = resolve_secret
        self._looked_up: dict[str, Target] = {}

    @property
    def configured_ids(self) -> list[str]:
        return sorted(self._configured)

    def target(self, target_id: str, deadline: Deadline | None = None) -> Target:
        """The target named `target_id`; TargetNotFound when no inventory knows it. A lookup over HTTP never
        runs past `deadline` (the step's)."""
        known = self._configured.get(target_id) or self._looked_up.get(target_id)
        if known is not None:
            return known
        if self._url is None:
            listed = ", ".join(self.configured_ids) or "none"
            raise TargetNotFound(
                f"target {target_id!r} is not in services.targets (configured: {listed}) and no asset service "
                "url is set to ask"
            )
        found = self._ask(target_id, deadline)
        self._looked_up[target_id] = found
        return found

    def _ask(self, target_id: str, deadline: Deadline | None) -> Target:
        url = f"{self._url}/targets/{quote(target_id, safe='')}"
        who = f"target {target_id!r} (asset service {self._url})"
        token = self._resolve_secret(self._token) if self._token else None
        for attempt in range(self._retries + 1):
            timeout_s = self._timeout_s
            if deadline is not None:
                if deadline.expired():
                    raise deadline.timeout_error()
                timeout_s = min(timeout_s, deadline.remaining())
            try:
                answer = call_json(
                    "GET", url, who=who, connect_timeout_s=timeout_s, read_timeout_s=timeout_s, token=token
                )
                if answer.status == 404:
                    raise TargetNotFound(f"{who}: the asset service does not know this target (404)")
                if answer.status != 200:
                    raise ServiceError(
                        f"{who}: answered {answer.status}: {answer.excerpt}", status_failure_class(answer.status)
                    )
                return _target_from(answer.body, target_id, who)
            except ServiceError as error:
                pause = self._retry_delay_s * 2**attempt
                out_of_time = deadline is not None and deadline.remaining() <= pause
                if error.failure_class != "transient" or attempt == self._retries or out_of_time:
                    raise
                time.sleep(pause)
        raise AssertionError("unreachable")  # the loop returns or raises


def _target_from(body: object, target_id: str, who: str) -> Target:
    if not isinstance(body, Mapping):
        raise ServiceError(f"{who}: the answer is not a JSON object describing the target")
    answered_id = body.get("id", target_id)
    if answered_id != target_id:
        raise ServiceError(f"{who}: the answer describes target {answered_id!r}, not the one asked for")
    fields = {name: body[name] for name in TargetSpec.model_fields if name in body}
    try:
        return Target(id=target_id, **fields)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or 'target'}: {problem['msg']}"
            for problem in error.errors()
        )
        raise ServiceError(f"{who}: the answer is not a valid target ({problems})") from None
