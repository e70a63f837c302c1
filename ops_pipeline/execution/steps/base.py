"""What a step runner is given and how it fails.

A runner gets the step's spec and a `StepContext`: the bound parameters, the outputs of the steps before it,
the seconds it may take (`budget_s`, already the lesser of its step timeout and what is left of the
execution's), a secret resolver that registers every value it resolves with the masker, and the ways to reach
the world (registered sources for SQL, the automation service for commands and transfers). It returns a
JSON-ready output, or raises `StepFailed` with a failure class (transient ones may be retried). Every message a
runner raises or logs has been through the masker.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from ops_pipeline.core.control_loop.vocabulary import FailureClass
from ops_pipeline.core.execution.masking import Masker
from ops_pipeline.core.secrets import resolve_secret as resolve_reference
from ops_pipeline.services import AssetService, AutomationService
from ops_pipeline.sources.sql import Session

SecretResolver = Callable[[str], str]
SourceConnector = Callable[[str], AbstractContextManager[Session]]


class StepFailed(Exception):
    """A step that did not do its work; `failure_class` says whether a retry could help. `output` is what the
    step produced before it failed (a command's exit code and output), masked, when there is any."""

    def __init__(
        self, message: str, failure_class: FailureClass = "permanent", output: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.failure_class: FailureClass = failure_class
        self.output = dict(output) if output is not None else None


@dataclass(frozen=True)
class StepServices:
    """The service clients a step may use; a step that needs one that is missing fails saying so."""

    automation: AutomationService | None = None
    assets: AssetService | None = None


def _no_sources(name: str) -> AbstractContextManager[Session]:
    raise StepFailed(f"source {name!r}: no sources are available to this step")


def _no_log(message: str) -> None:
    return None


@dataclass
class StepContext:
    execution_id: str
    step_id: str
    parameters: Mapping[str, object]
    outputs: Mapping[str, object]
    budget_s: float
    masker: Masker
    resolve_secret: SecretResolver
    connect_source: SourceConnector = _no_sources
    services: StepServices = field(default_factory=StepServices)
    log: Callable[[str], None] = _no_log

    def fail(
        self, message: str, failure_class: FailureClass = "permanent", output: Mapping[str, Any] | None = None
    ) -> StepFailed:
        """A StepFailed whose message (and output) went through the masker."""
        masked_output = self.masker.mask_value(dict(output)) if output is not None else None
        return StepFailed(self.masker.mask(message), failure_class, masked_output)  # type: ignore[arg-type]

    def say(self, message: str) -> None:
        self.log(self.masker.mask(message))


def registering_resolver(masker: Masker, resolve: SecretResolver = resolve_reference) -> SecretResolver:
    """A secret resolver that adds every value it resolves to `masker` before handing it out."""

    def resolve_and_register(reference: str) -> str:
        value = resolve(reference)
        masker.add_secret(value)
        return value

    return resolve_and_register


def capped_text(text: str, limit_bytes: int) -> tuple[str, bool]:
    """`text` cut to at most `limit_bytes` of UTF-8 on a character boundary, and whether it was cut."""
    encoded = text.encode("utf-8")
    if len(encoded) <= limit_bytes:
        return text, False
    return encoded[:limit_bytes].decode("utf-8", errors="ignore"), True


def excerpt(text: str, limit: int = 300) -> str:
    """The end of a text on one line, for an error message."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else "..." + flat[-limit:]
