"""Field types shared by the plan models: the base model, names and ids, and JSON values."""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, JsonValue

IDENTIFIER_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,62}")
SOURCE_NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")  # as ops.yaml names sources
TARGET_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@/\-]{0,199}")
TENANT_PATTERN = re.compile(r"[a-z0-9][a-z0-9_\-]{0,62}")


class PlanModel(BaseModel):
    """Plan files are data: unknown keys are errors, and a validated plan never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True)


def _identifier(value: str) -> str:
    if not IDENTIFIER_PATTERN.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a valid name: use lowercase letters, digits and '_', starting with a letter, "
            "at most 63 characters"
        )
    return value


def _source_name(value: str) -> str:
    if not SOURCE_NAME_PATTERN.fullmatch(value):
        raise ValueError(f"{value!r} is not a source name: use letters, digits, '_' or '-'")
    return value


def _target_id(value: str) -> str:
    if not TARGET_ID_PATTERN.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a target id: use letters, digits and . _ - : @ /, starting with a letter or digit, "
            "at most 200 characters"
        )
    return value


def _tenant(value: str) -> str:
    if not TENANT_PATTERN.fullmatch(value):
        raise ValueError(f"{value!r} is not a tenant name: use lowercase letters, digits, '_' or '-' (at most 63)")
    return value


def check_json(value: object) -> object:
    """Refuse what JSON cannot hold (sets, dates, NaN, non-text keys) with one clear message."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("numbers must be finite (no NaN or infinity)")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"mapping keys must be text, not {type(key).__name__} ({key!r})")
            check_json(item)
    elif isinstance(value, list):
        for item in value:
            check_json(item)
    elif value is not None and not isinstance(value, str | int | float | bool):
        raise ValueError(
            f"a {type(value).__name__} is not a JSON value: use text, numbers, booleans, null, lists and mappings"
        )
    return value


def check_scalar(value: object) -> object:
    """Text, a number, a boolean or null: the values a parameter default or a SQL bind value may take."""
    if isinstance(value, dict | list):
        raise ValueError("must be a single value (text, number, boolean or null), not a list or mapping")
    return check_json(value)


Identifier = Annotated[str, AfterValidator(_identifier)]
SourceName = Annotated[str, AfterValidator(_source_name)]
TargetId = Annotated[str, AfterValidator(_target_id)]
TenantName = Annotated[str, AfterValidator(_tenant)]
Json = Annotated[JsonValue, BeforeValidator(check_json)]
Scalar = Annotated[str | bool | int | float | None, BeforeValidator(check_scalar)]
