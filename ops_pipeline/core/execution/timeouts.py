"""The SLA x action timeout matrix, and the deadline arithmetic every step does with it.

Dagster has no op timeout, so each step enforces its own limit; the numbers come from here. A plan's SLA
class (`fast`, `medium`, `long`) and its action class (`read`, `modify`, `deploy`) pick one `TimeoutPolicy`:

| SLA    | read / modify / deploy: step timeout | execution timeout     | max attempts |
|--------|--------------------------------------|-----------------------|--------------|
| fast   | 5 / 8 / 10 s                         | 10 / 15 / 20 s        | 3            |
| medium | 15 / 20 / 30 s                       | 30 / 45 / 60 s        | 5            |
| long   | 60 / 120 / 300 s                     | 300 / 600 / 1800 s    | 3            |

The execution deadline is fixed when the execution starts (`execution_deadline`) and stored; each step then
gets `step_budget` = min(its step timeout, time left before the deadline), so retries and slow steps can never
push the execution past its deadline. `max_runtime_tag_s` is only Dagster's backstop (`dagster/max_runtime`,
enforced by run monitoring up to one poll interval late), hence the grace on top of the execution timeout.

The matrix is the default in configuration; `TimeoutMatrix.with_overrides` applies a partial
override shaped like the YAML (`{fast: {read: {step_timeout_s: 4}}}`): every value not named keeps its default.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails

from ops_pipeline.core.control_loop.vocabulary import shown
from ops_pipeline.core.plans.sla import SLA_CLASSES, SlaClass

__all__ = [
    "ACTION_CLASSES",
    "DEFAULT_TIMEOUT_MATRIX",
    "ActionClass",
    "StepTimeoutError",
    "TimeoutMatrix",
    "TimeoutPolicy",
    "execution_deadline",
    "lease_timeout_s",
    "max_runtime_tag_s",
    "step_budget",
]

ActionClass = Literal["read", "modify", "deploy"]
ACTION_CLASSES: tuple[ActionClass, ...] = get_args(ActionClass)

MAX_ATTEMPTS_LIMIT = 20

Seconds = float


class StepTimeoutError(Exception):
    """A step stopped by its step timeout or by the execution deadline; classed `timeout`, never retried."""

    def __init__(self, step_id: str, limit_s: float, *, execution_deadline: bool = False) -> None:
        self.step_id = step_id
        self.limit_s = limit_s
        self.execution_deadline = execution_deadline
        cause = "the execution deadline" if execution_deadline else "its step timeout"
        super().__init__(f"step {step_id!r} stopped after {limit_s:g} s: it reached {cause}")


class TimeoutPolicy(BaseModel):
    """Limits for one (SLA class, action class) cell of the matrix."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    step_timeout_s: float = Field(gt=0, allow_inf_nan=False, description="one attempt of one step")
    execution_timeout_s: float = Field(gt=0, allow_inf_nan=False, description="the whole execution, retries included")
    max_attempts: int = Field(ge=1, le=MAX_ATTEMPTS_LIMIT, description="attempts per step, the first included")

    @model_validator(mode="after")
    def _step_fits_execution(self) -> TimeoutPolicy:
        if self.step_timeout_s > self.execution_timeout_s:
            raise ValueError(
                f"step_timeout_s ({self.step_timeout_s:g}) is longer than execution_timeout_s "
                f"({self.execution_timeout_s:g}); a step cannot outlast its execution"
            )
        return self


def _policy(step_s: float, execution_s: float, attempts: int) -> TimeoutPolicy:
    return TimeoutPolicy(step_timeout_s=step_s, execution_timeout_s=execution_s, max_attempts=attempts)


class TimeoutMatrix(Mapping[tuple[SlaClass, ActionClass], TimeoutPolicy]):
    """A read-only mapping (sla, action) -> TimeoutPolicy with every one of the nine cells present."""

    def __init__(self, policies: Mapping[tuple[SlaClass, ActionClass], TimeoutPolicy]) -> None:
        missing = [
            f"{sla}.{action}" for sla in SLA_CLASSES for action in ACTION_CLASSES if (sla, action) not in policies
        ]
        unknown = [key for key in policies if key[0] not in SLA_CLASSES or key[1] not in ACTION_CLASSES]
        if missing or unknown:
            raise ValueError(f"a timeout matrix needs exactly the nine cells; missing {missing}, unknown {unknown}")
        self._policies = MappingProxyType(dict(policies))

    def __getitem__(self, key: tuple[SlaClass, ActionClass]) -> TimeoutPolicy:
        return self._policies[key]

    def __iter__(self) -> Iterator[tuple[SlaClass, ActionClass]]:
        return iter(self._policies)

    def __len__(self) -> int:
        return len(self._policies)

    def __repr__(self) -> str:
        return f"TimeoutMatrix({self.as_config()!r})"

    def policy(self, sla: str, action: str) -> TimeoutPolicy:
        """The policy of one cell; ValueError naming the choices for an unknown class."""
        if sla not in SLA_CLASSES:
            raise ValueError(f"unknown SLA class {sla!r} (use one of {', '.join(SLA_CLASSES)})")
        if action not in ACTION_CLASSES:
            raise ValueError(f"unknown action class {action!r} (use one of {', '.join(ACTION_CLASSES)})")
        return self._policies[(sla, action)]

    def as_config(self) -> dict[str, dict[str, dict[str, float | int]]]:
        """The matrix in the YAML shape `with_overrides` reads, e.g. for docs or `config show`."""
        return {
            sla: {action: self._policies[(sla, action)].model_dump() for action in ACTION_CLASSES}
            for sla in SLA_CLASSES
        }

    def with_overrides(self, overrides: Mapping[str, object] | None) -> TimeoutMatrix:
        """This matrix with `overrides` applied; a cell or field not named keeps its value here.

        Raises ValueError with one `sla.action.field: reason` line per problem.
        """
        if overrides is None:
            return self
        if not isinstance(overrides, Mapping):
            raise ValueError(f"timeouts: must be a mapping of SLA class -> action -> limits, not {_kind(overrides)}")
        problems: list[str] = []
        policies = dict(self._policies)
        for sla, by_action in overrides.items():
            if sla not in SLA_CLASSES:
                problems.append(f"{sla}: unknown SLA class (use one of {', '.join(SLA_CLASSES)})")
            elif by_action is not None and not isinstance(by_action, Mapping):
                problems.append(f"{sla}: must be a mapping of action class -> limits, not {_kind(by_action)}")
            else:
                for action, fields in (by_action or {}).items():
                    path = f"{sla}.{action}"
                    if action not in ACTION_CLASSES:
                        problems.append(f"{path}: unknown action class (use one of {', '.join(ACTION_CLASSES)})")
                        continue
                    merged = _merged_policy(policies[(sla, action)], fields, path, problems)
                    if merged is not None:
                        policies[(sla, action)] = merged
        if problems:
            raise ValueError("invalid timeout matrix:\n" + "\n".join(problems))
        return TimeoutMatrix(policies)


def _kind(value: object) -> str:
    return f"a {type(value).__name__}"


def _merged_policy(base: TimeoutPolicy, fields: object, path: str, problems: list[str]) -> TimeoutPolicy | None:
    if fields is None:
        return base
    if not isinstance(fields, Mapping):
        problems.append(f"{path}: must be a mapping of limits, not {_kind(fields)}")
        return None
    try:
        return TimeoutPolicy.model_validate({**base.model_dump(), **fields})
    except ValidationError as error:
        for problem in error.errors():
            field = str(problem["loc"][0]) if problem["loc"] else ""
            where = f"{path}.{field}" if field else path
            problems.append(f"{where}: {_reason(field, problem)}")
        return None


def _reason(field: str, problem: ErrorDetails) -> str:
    if problem["type"] == "extra_forbidden":
        return f"unknown field (use {', '.join(TimeoutPolicy.model_fields)})"
    if field == "max_attempts":
        return f"must be a whole number from 1 to {MAX_ATTEMPTS_LIMIT}, not {shown(problem['input'])}"
    if field:
        return f"must be a finite number of seconds above zero, not {shown(problem['input'])}"
    return problem["msg"].removeprefix("Value error, ")


DEFAULT_TIMEOUT_MATRIX = TimeoutMatrix(
    {
        ("fast", "read"): _policy(5, 10, 3),
        ("fast", "modify"): _policy(8, 15, 3),
        ("fast", "deploy"): _policy(10, 20, 3),
        ("medium", "read"): _policy(15, 30, 5),
        ("medium", "modify"): _policy(20, 45, 5),
        ("medium", "deploy"): _policy(30, 60, 5),
        ("long", "read"): _policy(60, 300, 3),
        ("long", "modify"): _policy(120, 600, 3),
        ("long", "deploy"): _policy(300, 1800, 3),
    }
)


# ---- deadline arithmetic


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{name} must carry a timezone (e.g. datetime.now(UTC))")
    return moment


def execution_deadline(started_at: datetime, policy: TimeoutPolicy) -> datetime:
    """When an execution that started at `started_at` must be finished; store it with the execution."""
    return _aware(started_at, "started_at") + timedelta(seconds=policy.execution_timeout_s)


def step_budget(step_timeout_s: Seconds, deadline: datetime, now: datetime) -> Seconds:
    """Seconds one step attempt may run: min(step timeout, time left). At or below 0 the deadline has passed."""
    remaining = (_aware(deadline, "deadline") - _aware(now, "now")).total_seconds()
    return min(step_timeout_s, remaining)


def max_runtime_tag_s(policy: TimeoutPolicy, grace_s: Seconds) -> int:
    """Whole seconds for the `dagster/max_runtime` tag: execution timeout + grace, rounded up.

    The grace should cover run start-up and one run-monitoring poll interval, since the tag is only a backstop.
    """
    if not math.isfinite(grace_s) or grace_s < 0:
        raise ValueError(f"grace_s must be a finite number of seconds >= 0, not {grace_s!r}")
    return math.ceil(policy.execution_timeout_s + grace_s)


def lease_timeout_s(step_timeout_s: Seconds, p95_step_s: Seconds | None, buffer_s: Seconds) -> Seconds:
    """How long a target lease stays valid without renewal: max(step timeout + buffer, 2 x p95 step duration).

    `p95_step_s` is None when the step has no history yet; the lease then covers the timeout plus the buffer.
    """
    for name, value in (("step_timeout_s", step_timeout_s), ("buffer_s", buffer_s), ("p95_step_s", p95_step_s)):
        if value is not None and (not math.isfinite(value) or value < 0):
            raise ValueError(f"{name} must be a finite number of seconds >= 0, not {value!r}")
    from_timeout = step_timeout_s + buffer_s
    return from_timeout if p95_step_s is None else max(from_timeout, 2 * p95_step_s)
