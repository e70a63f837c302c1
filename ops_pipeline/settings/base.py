"""What every section of ops.yaml shares: strict models, secret references, durations, the error type."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from ops_pipeline.core.cron import cron_problem
from ops_pipeline.core.durations import parse_duration
from ops_pipeline.core.secrets import is_secret_ref


class ConfigError(ValueError):
    """ops.yaml is missing or invalid; the message names the file, the key path and the reason."""


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_secret_ref(value: str) -> str:
    if not is_secret_ref(value):
        raise ValueError("must be a secret reference (env:NAME or file:/path), not a literal secret")
    return value


SecretRef = Annotated[str, AfterValidator(_check_secret_ref), Field(description="env:NAME or file:/path")]


def _duration(value: str | int) -> int:
    return value if isinstance(value, int) else parse_duration(value)


Duration = Annotated[int, BeforeValidator(_duration), Field(description="seconds, or a string like 30m")]


KEY_PATH_CTX = "ops_key_path"


def cross_reference_error(key_path: str, reason: str) -> PydanticCustomError:
    """An error found across sections; pydantic would place it at the top level, so it carries its key path."""
    return PydanticCustomError("cross_reference", "{reason}", {"reason": reason, KEY_PATH_CTX: key_path})


def _check_cron(expression: str) -> str:
    problem = cron_problem(expression)
    if problem:
        raise ValueError(f"{expression!r} is not a valid cron expression: {problem} (e.g. '0 * * * *')")
    return expression


CronExpression = Annotated[
    str, AfterValidator(_check_cron), Field(description="five-field cron expression, e.g. '*/15 * * * *'")
]
