"""Plan parameters: checking a value against its `ParameterSpec`, and binding a caller's values to a plan.

Types and the values they take:

| type      | in a plan file (`default`)  | from a caller (`bind_parameters`), also          | bound as |
|-----------|-----------------------------|--------------------------------------------------|----------|
| `string`  | text, matching `pattern`    |                                                  | str      |
| `integer` | a whole number              | text of a whole number ("12")                    | int      |
| `number`  | any finite number           | text of a number ("0.5")                         | float    |
| `boolean` | true / false                | "true", "false", "yes", "no", "1", "0"           | bool     |
| `enum`    | one of `values` (text)      |                                                  | str      |

`min` / `max` bound integers and numbers (inclusive); `pattern` must match a whole string (RE2, linear time).
Callers give text because the CLI and launchpad forms do; a plan file has real YAML types, so its defaults
must already have the right type. A value of None from a caller counts as not given.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from ops_pipeline.core.plans.errors import PlanError
from ops_pipeline.core.user_regex import compile_user_regex

if TYPE_CHECKING:
    from ops_pipeline.core.plans.spec import ParameterSpec, PlanSpec

ParameterType = Literal["string", "integer", "number", "boolean", "enum"]
PARAMETER_TYPES: tuple[ParameterType, ...] = ("string", "integer", "number", "boolean", "enum")

_TRUE_WORDS = frozenset({"true", "yes", "1"})
_FALSE_WORDS = frozenset({"false", "no", "0"})
_INTEGER_TEXT = re.compile(r"[+-]?\d+")


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _whole_number(value: object, from_text: bool) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if from_text and isinstance(value, str) and _INTEGER_TEXT.fullmatch(value.strip()):
        return int(value.strip())
    raise ValueError(f"must be a whole number, not {_shown(value)}")


def _number(value: object, from_text: bool) -> float:
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif from_text and isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        raise ValueError(f"must be a finite number, not {_shown(value)}")
    return number


def _boolean(value: object, from_text: bool) -> bool:
    if isinstance(value, bool):
        return value
    if from_text and isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS | _FALSE_WORDS:
            return word in _TRUE_WORDS
    raise ValueError(f"must be true or false, not {_shown(value)}")


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be text, not {_shown(value)}")
    return value


def _in_range(value: float, param: ParameterSpec) -> None:
    if param.min is not None and value < param.min:
        raise ValueError(f"{value:g} is below the minimum {param.min:g}")
    if param.max is not None and value > param.max:
        raise ValueError(f"{value:g} is above the maximum {param.max:g}")


def conform(param: ParameterSpec, value: object, *, from_text: bool) -> object:
    """`value` as the parameter's type, or ValueError saying why it does not fit."""
    if param.type == "integer":
        whole = _whole_number(value, from_text)
        _in_range(whole, param)
        return whole
    if param.type == "number":
        number = _number(value, from_text)
        _in_range(number, param)
        return number
    if param.type == "boolean":
        return _boolean(value, from_text)
    text = _text(value)
    if param.type == "enum":
        allowed = param.values or []
        if text not in allowed:
            raise ValueError(f"{_shown(text)} is not one of {', '.join(allowed)}")
    elif param.pattern is not None and not compile_user_regex(param.pattern).fullmatch(text):
        raise ValueError(f"{_shown(text)} does not match the pattern {param.pattern!r}")
    return text


def bind_parameters(plan: PlanSpec, given: Mapping[str, object]) -> dict[str, object]:
    """Every parameter of `plan` with its value: the caller's, checked and converted, else the default.

    Raises PlanError with one line per problem (unknown name, missing required value, wrong type, out of range,
    not an allowed value, pattern mismatch), each naming the parameter.
    """
    problems = [
        f"parameter {name!r}: plan {plan.name!r} has no such parameter (it has: {', '.join(plan.parameters) or 'none'})"
        for name in given
        if name not in plan.parameters
    ]
    bound: dict[str, object] = {}
    for name, param in plan.parameters.items():
        value = given.get(name)
        if value is None:
            if param.required:
                problems.append(f"parameter {name!r}: required (it has no default)")
            else:
                bound[name] = param.default
            continue
        try:
            bound[name] = conform(param, value, from_text=True)
        except ValueError as error:
            problems.append(f"parameter {name!r}: {error}")
    if problems:
        raise PlanError(*problems)
    return bound
