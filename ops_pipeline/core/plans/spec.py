"""A plan file as pydantic models: `PlanSpec`, its `ParameterSpec`s and its steps (see `steps.py`).

A plan is an operational change written as data: where it runs (`tenant`, `environment`, `targets`), what kind
of change it is (`action_class`, `sla_class` or `estimate_s`, `approval_level`), what a caller may vary
(`parameters`) and what it does (`steps`, in order, each depending on the previous one unless it says
otherwise, plus `rollback_steps` that undo them). Validation refuses anything the skin could not run safely;
`consistency.py` holds the checks that span the whole plan.

Defaults are filled in at validation, so a validated plan says everything explicitly: a step without
`depends_on` gets `[<previous step id>]` (the first step gets `[]`); an explicit `[]` means "no dependency".
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from ops_pipeline.core.plans.consistency import plan_problems
from ops_pipeline.core.plans.errors import located_error, plan_problems_error
from ops_pipeline.core.plans.fields import Identifier, PlanModel, Scalar, TargetId, TenantName
from ops_pipeline.core.plans.parameters import ParameterType, conform
from ops_pipeline.core.plans.sla import SlaClass, derive_sla
from ops_pipeline.core.plans.steps import (
    AnyStep,
    AssertCheck,
    CommandStep,
    FileStep,
    HttpStep,
    SqlCheck,
    SqlStep,
    Step,
    ValidationStep,
)
from ops_pipeline.core.user_regex import check_user_regex

__all__ = [
    "ActionClass",
    "AnyStep",
    "AssertCheck",
    "CommandStep",
    "Environment",
    "FileStep",
    "HttpStep",
    "ParameterSpec",
    "PlanSpec",
    "SqlCheck",
    "SqlStep",
    "Step",
    "ValidationStep",
]

Environment = Literal["dev", "staging", "prod"]
ActionClass = Literal["read", "modify", "deploy"]


class ParameterSpec(PlanModel):
    """A value the caller may choose when submitting; `required` when there is no default."""

    type: ParameterType
    description: str = ""
    values: list[str] | None = None
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    default: Scalar = None

    @model_validator(mode="before")
    @classmethod
    def _number_default_as_float(cls, data: Any) -> Any:
        # `default: 1` and `default: 1.0` are the same number; keep one spelling so both hash the same.
        if isinstance(data, dict) and data.get("type") == "number":
            default = data.get("default")
            if isinstance(default, int) and not isinstance(default, bool):
                return {**data, "default": float(default)}
        return data

    @field_validator("pattern")
    @classmethod
    def _valid_regex(cls, value: str | None) -> str | None:
        return None if value is None else check_user_regex(value)

    @field_validator("values")
    @classmethod
    def _distinct_values(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("lists a value twice")
        return value

    @model_validator(mode="after")
    def _fields_fit_type(self) -> ParameterSpec:
        if self.type == "enum" and not self.values:
            raise located_error("an enum parameter needs a non-empty list of values", "values")
        if self.type != "enum" and self.values is not None:
            raise located_error("only enum parameters have values", "values")
        for bound in ("min", "max"):
            if getattr(self, bound) is not None and self.type not in ("integer", "number"):
                raise located_error(f"only integer and number parameters have a {bound}", bound)
        if self.min is not None and self.max is not None and self.min > self.max:
            raise located_error(f"min {self.min:g} is above max {self.max:g}", "min")
        if self.pattern is not None and self.type != "string":
            raise located_error("only string parameters have a pattern", "pattern")
        if self.default is not None:
            try:
                conform(self, self.default, from_text=False)
            except ValueError as error:
                raise located_error(f"the default {error}", "default") from None
        return self

    @property
    def required(self) -> bool:
        return self.default is None


_STEP_MODELS = (CommandStep, HttpStep, SqlStep, FileStep, ValidationStep)


def _fill_sequential_dependencies(steps: list[Any]) -> list[Any]:
    """Give every step that omits depends_on (or sets it to null) a dependency on the step before it."""
    filled: list[Any] = []
    previous_id: object = None
    for step in steps:
        default = [previous_id] if isinstance(previous_id, str) else []
        if isinstance(step, dict) and step.get("depends_on") is None:
            step = {**step, "depends_on": default}
        elif isinstance(step, _STEP_MODELS) and "depends_on" not in step.model_fields_set:
            step = step.model_copy(update={"depends_on": default})
        filled.append(step)
        previous_id = step.get("id") if isinstance(step, dict) else getattr(step, "id", None)
    return filled


class PlanSpec(PlanModel):
    """One plan file. `name` becomes the Dagster job name."""

    name: Identifier
    description: str = ""
    tenant: TenantName = "default"
    environment: Environment
    action_class: ActionClass
    sla_class: SlaClass | None = None
    estimate_s: float | None = Field(default=None, gt=0)
    approval_level: int = Field(default=0, ge=0, le=3, strict=True)
    targets: list[TargetId] = Field(default_factory=list)
    parameters: dict[Identifier, ParameterSpec] = Field(default_factory=dict)
    steps: list[Step] = Field(min_length=1)
    rollback_steps: list[Step] = Field(default_factory=list)
    # Set by replans (core/control_loop/patch.py): steps kept in the graph but not run, and where a rerun starts.
    skipped_steps: list[Identifier] = Field(default_factory=list)
    retry_from: Identifier | None = None

    @model_validator(mode="before")
    @classmethod
    def _sequential_by_default(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("steps"), list):
            return {**data, "steps": _fill_sequential_dependencies(data["steps"])}
        return data

    @field_validator("targets")
    @classmethod
    def _distinct_targets(cls, value: list[str]) -> list[str]:
        repeated = sorted({target for target in value if value.count(target) > 1})
        if repeated:
            raise ValueError(f"lists {', '.join(map(repr, repeated))} more than once")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> PlanSpec:
        problems = plan_problems(self)
        if self.sla_class is None and self.estimate_s is None:
            problems.insert(0, ("sla_class", "give sla_class (fast, medium or long) or estimate_s to derive it from"))
        if problems:
            raise plan_problems_error(problems)
        return self

    @property
    def effective_sla(self) -> SlaClass:
        """`sla_class` when given, else the class derived from `estimate_s` (see `sla.py`)."""
        if self.sla_class is not None:
            return self.sla_class
        assert self.estimate_s is not None  # the validator requires one of the two
        return derive_sla(self.estimate_s)

    def step(self, step_id: str) -> AnyStep:
        """The forward or rollback step with this id."""
        for step in (*self.steps, *self.rollback_steps):
            if step.id == step_id:
                return step
        raise KeyError(f"plan {self.name!r} has no step {step_id!r}")
