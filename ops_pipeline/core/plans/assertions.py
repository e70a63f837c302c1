"""Evaluating a validation step's `assert` against the output of the step it names.

The path walks the output: `rows[0].order_count` takes key `rows`, position 0, then key `order_count`;
negative positions count from the end; an empty path is the whole output. Comparisons:

* `eq`, `ne`: JSON equality (a boolean never equals a number; 1 equals 1.0);
* `lt`, `le`, `gt`, `ge`: numbers with numbers, text with text; anything else fails;
* `in`, `not_in`: membership of the value in the assert's list;
* `contains`: a substring of text, an element of a list, or a key of a mapping;
* `truthy`: the value is not null, false, 0, "" or empty.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ops_pipeline.core.plans.steps import AssertCheck

_PART = re.compile(r"\[(-?\d+)\]|([^.\[\]]+)")
_ORDERINGS: Mapping[str, Callable[[Any, Any], bool]] = {
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}
_SYMBOLS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


class MissingOutput(LookupError):
    """The path leads nowhere in the output."""


@dataclass(frozen=True)
class AssertionOutcome:
    passed: bool
    message: str


def value_at(output: object, path: str) -> object:
    """The value at `path` in `output`; raise MissingOutput naming the first part that is not there."""
    value = output
    for match in _PART.finditer(path):
        position, key = match[1], match[2]
        if position is not None and isinstance(value, list) and -len(value) <= int(position) < len(value):
            value = value[int(position)]
        elif key is not None and isinstance(value, Mapping) and key in value:
            value = value[key]
        else:
            raise MissingOutput(f"the output has nothing at {path[: match.end()]!r}")
    return value


def _equal(left: object, right: object) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    return left == right


def _comparable(left: object, right: object) -> bool:
    def number(value: object) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool)

    return (number(left) and number(right)) or (isinstance(left, str) and isinstance(right, str))


def _contains(container: object, item: object) -> bool:
    if isinstance(container, str):
        return isinstance(item, str) and item in container
    if isinstance(container, list):
        return any(_equal(element, item) for element in container)
    if isinstance(container, Mapping):
        return item in container
    return False


def _holds(op: str, actual: object, expected: object) -> bool:
    if op in ("eq", "ne"):
        return _equal(actual, expected) == (op == "eq")
    if op in _ORDERINGS:
        return _comparable(actual, expected) and _ORDERINGS[op](actual, expected)
    if op in ("in", "not_in"):
        member = isinstance(expected, list) and any(_equal(actual, option) for option in expected)
        return member == (op == "in")
    if op == "contains":
        return _contains(actual, expected)
    return bool(actual)  # truthy


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def evaluate_assertion(check: AssertCheck, output: object) -> AssertionOutcome:
    """Whether the assertion holds on `output` (the output of step `check.step`), with a readable message."""
    where = f"{check.step}.{check.path}" if check.path else check.step
    try:
        actual = value_at(output, check.path)
    except MissingOutput as missing:
        return AssertionOutcome(False, f"{where}: {missing}")
    passed = _holds(check.op, actual, check.value)
    if check.op == "truthy":
        expectation = "a true value"
    else:
        expectation = f"{_SYMBOLS.get(check.op, check.op.replace('_', ' '))} {_shown(check.value)}"
    verdict = "holds" if passed else "fails"
    return AssertionOutcome(passed, f"{where} is {_shown(actual)}; expected {expectation}: {verdict}")
