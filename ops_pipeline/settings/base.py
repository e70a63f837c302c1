"""What every section of ops.yaml shares: strict models, secret references, durations, the error type."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Annotated, Any, get_args

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from ops_pipeline.core.cron import cron_problem
from ops_pipeline.core.durations import parse_duration
from ops_pipeline.core.secrets import is_secret_ref


class ConfigError(ValueError):
    """ops.yaml is missing or invalid; the message names the file, the key path and the reason."""


FIELD_CTX = "ops_field"


def field_error(field: str, reason: str) -> PydanticCustomError:
    """An error about one field found by a model-level check; the loader adds the field to the key path."""
    return PydanticCustomError("field", "{reason}", {"reason": reason, FIELD_CTX: field})


def _takes_bool(annotation: Any) -> bool:
    return annotation is bool or any(_takes_bool(arg) for arg in get_args(annotation))


class StrictModel(BaseModel):
    """Unknown keys refused; a yes/no only where a field is one (`port: true` is not port 1); numbers finite
    (`.inf` is no timeout); no NUL characters in text (no path or name holds one)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _plain_values(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        for key, value in data.items():
            field = cls.model_fields.get(key) if isinstance(key, str) else None
            if field is None:
                continue  # unknown keys are refused by extra="forbid"
            if isinstance(value, bool) and not _takes_bool(field.annotation):
                raise field_error(key, "must be a number or text, not true or false")
            if isinstance(value, float) and not math.isfinite(value):
                raise field_error(key, "must be a finite number")
            texts = value if isinstance(value, list) else [value]
            if any(isinstance(text, str) and "\x00" in text for text in texts):
                raise field_error(key, "must not contain a NUL character")
        return data


def _check_secret_ref(value: str) -> str:
    if not is_secret_ref(value):
        raise ValueError("must be a secret reference (env:NAME or file:/path), not a literal secret")
    return value


SecretRef = Annotated[str, AfterValidator(_check_secret_ref), Field(description="env:NAME or file:/path")]


MAX_DURATION_S = 366 * 86400


def _duration(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError("must be whole seconds (90) or a duration such as 90s, 30m, 1h or 1d")
    seconds = value if isinstance(value, int) else parse_duration(value)
    if not 0 <= seconds <= MAX_DURATION_S:
        raise ValueError(f"must be between 0s and 366d, not {seconds} seconds")
    return seconds


Duration = Annotated[int, BeforeValidator(_duration), Field(description="seconds, or a string like 30m; at most 366d")]


def _non_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


Name = Annotated[str, AfterValidator(_non_blank)]

EARLIEST_DATE = date(1970, 1, 1)


def _plausible_date(value: date) -> date:
    day = value.date() if isinstance(value, datetime) else value
    if day < EARLIEST_DATE:
        raise ValueError(f"must be on or after {EARLIEST_DATE.isoformat()}")
    return value


PlausibleDate = Annotated[date, AfterValidator(_plausible_date)]
PlausibleDateTime = Annotated[datetime, AfterValidator(_plausible_date)]


HTTP_URL = r"^https?://[^\s/]\S*$"

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
