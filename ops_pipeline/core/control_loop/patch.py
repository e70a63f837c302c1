"""Replan patches: the change a replan makes to a plan version, checked against the plan before it is made.

A replan never changes a plan's step structure, because a plan's Dagster job graph is fixed when the code
location loads. It changes what a version runs with: parameter values (a parameter's `default` in the
snapshot), steps to skip (listed under `skipped_steps`; the step stays in `steps`), the step a retry starts
from (`retry_from`) and the targets. `apply_patch` returns a new snapshot and never mutates its input; the new
snapshot hashes differently, so a plan at approval level 2 or more needs approval again.

A patch is refused, with a `PatchError` naming each bad field, when it:

* sets a parameter the plan does not declare, or a value its declaration refuses (as a plan file's default:
  `integer` a whole number, `number` a finite number (kept as float, as the plan model keeps it),
  `boolean` true/false, `string` text matching `pattern`, `enum` one of `values`; `min`/`max` bounds);
* skips or retries from a step the plan does not have, or retries from a skipped step;
* skips a step whose output a step that still runs needs, directly or through other skipped steps, or that
  a validation step that still runs asserts on (see `snapshot` for how references are found);
* removes a target the plan does not have or that a step or rollback step still uses, or adds one it has;
* changes nothing at all (a replan that changes nothing is a rerun).

Fields a patch leaves empty (or `retry_from: null`) keep the plan's current values; skipped steps add to the
ones already skipped.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints

from ops_pipeline.core.control_loop.patch_diff import ParameterChange, PatchDiff, patch_diff
from ops_pipeline.core.control_loop.snapshot import PatchError, PlanView, read_snapshot

__all__ = [
    "ParameterChange",
    "PatchDiff",
    "PatchError",
    "PlanPatch",
    "apply_patch",
    "conform_parameter",
    "patch_diff",
]

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class PlanPatch(BaseModel):
    """What a replan changes; see the module docstring."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    parameters: dict[Name, JsonValue] = Field(default_factory=dict, description="parameter -> new value")
    skip_steps: list[Name] = Field(default_factory=list)
    retry_from: Name | None = None
    targets_add: list[Name] = Field(default_factory=list)
    targets_remove: list[Name] = Field(default_factory=list)
    reason: str = Field(min_length=1, max_length=2000, description="why, in a sentence: shown with the replan event")


def _known(names: tuple[str, ...] | list[str]) -> str:
    shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
    return shown or "none"


def _in_range(number: float, spec: Mapping[str, Any]) -> None:
    low, high = spec.get("min"), spec.get("max")
    if isinstance(low, int | float) and number < low:
        raise ValueError(f"{number:g} is below the minimum {low:g}")
    if isinstance(high, int | float) and number > high:
        raise ValueError(f"{number:g} is above the maximum {high:g}")


def _text_fits(text: str, spec: Mapping[str, Any]) -> None:
    values, pattern = spec.get("values"), spec.get("pattern")
    if spec.get("type") == "enum" and isinstance(values, list) and text not in values:
        raise ValueError(f"{text!r} is not one of {', '.join(map(str, values))}")
    if spec.get("type") == "string" and isinstance(pattern, str):
        try:
            matched = re.fullmatch(pattern, text) is not None
        except re.error:
            matched = True  # the plan's own validation reports a bad pattern
        if not matched:
            raise ValueError(f"{text!r} does not match the pattern {pattern!r}")


def conform_parameter(spec: object, value: Any) -> Any:
    """`value` as the declared parameter takes it (a number as float); ValueError saying why it does not fit."""
    if not isinstance(spec, Mapping):
        return value
    declared = spec.get("type")
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if declared == "integer" and not (is_number and isinstance(value, int)):
        raise ValueError(f"must be a whole number, not {type(value).__name__}")
    if declared == "number" and not (is_number and math.isfinite(value)):
        raise ValueError(
            f"must be a finite number, not {value!r}" if is_number else f"must be a number, not {type(value).__name__}"
        )
    if declared in ("integer", "number"):
        _in_range(value, spec)
        return float(value) if declared == "number" else value
    if declared == "boolean" and not isinstance(value, bool):
        raise ValueError(f"must be true or false, not {type(value).__name__}")
    if declared in ("string", "enum"):
        if not isinstance(value, str):
            raise ValueError(f"must be text, not {type(value).__name__}")
        _text_fits(value, spec)
    return value


def _parameter_problems(plan: PlanView, patch: PlanPatch) -> list[str]:
    problems = []
    for name, value in patch.parameters.items():
        if name not in plan.parameters:
            problems.append(f"patch.parameters.{name}: unknown parameter (plan has: {_known(list(plan.parameters))})")
            continue
        try:
            conform_parameter(plan.parameters[name], value)
        except ValueError as error:
            problems.append(f"patch.parameters.{name}: {error}")
    return problems


def _skip_problems(plan: PlanView, patch: PlanPatch, skipped: set[str]) -> list[str]:
    problems = []
    for step_id in dict.fromkeys(patch.skip_steps):
        if step_id not in plan.step_ids:
            problems.append(f"patch.skip_steps.{step_id}: unknown step (plan has: {_known(plan.step_ids)})")
            continue
        validations = [check for check in plan.validations_asserting_on(step_id) if check not in skipped]
        chain = plan.dependency_chain(step_id, skipped)
        if validations:
            problems.append(f"patch.skip_steps.{step_id}: validation step {validations[0]!r} asserts on it")
        elif chain is not None:
            path = ", which depends on ".join(chain)
            problems.append(f"patch.skip_steps.{step_id}: step {chain[0]!r} still runs and needs it ({path})")
    return problems


def _retry_problems(plan: PlanView, patch: PlanPatch, skipped: set[str]) -> list[str]:
    step_id = patch.retry_from
    if step_id is None:
        return []
    if step_id not in plan.step_ids:
        return [f"patch.retry_from: unknown step {step_id!r} (plan has: {_known(plan.step_ids)})"]
    if step_id in skipped:
        return [f"patch.retry_from: step {step_id!r} is skipped"]
    return []


def _target_problems(plan: PlanView, patch: PlanPatch) -> list[str]:
    problems = []
    for target in patch.targets_remove:
        if target not in plan.targets:
            problems.append(f"patch.targets_remove.{target}: not a target of the plan (it has: {_known(plan.targets)})")
        elif users := plan.users_of(target):
            problems.append(f"patch.targets_remove.{target}: still used by step(s) {', '.join(users)}")
        if target in patch.targets_add:
            problems.append(f"patch.targets_remove.{target}: also in targets_add")
    problems.extend(
        f"patch.targets_add.{target}: already a target of the plan"
        for target in patch.targets_add
        if target in plan.targets
    )
    return problems


def _patched(snapshot: Mapping[str, Any], plan: PlanView, patch: PlanPatch, skipped: set[str]) -> dict[str, Any]:
    result = copy.deepcopy(dict(snapshot))
    parameters = dict(result.get("parameters") or {})
    for name, value in patch.parameters.items():
        spec = parameters[name]
        conformed = conform_parameter(spec, copy.deepcopy(value))
        parameters[name] = {**spec, "default": conformed} if isinstance(spec, Mapping) else conformed
    result["parameters"] = parameters
    if skipped or "skipped_steps" in result:
        result["skipped_steps"] = [step_id for step_id in plan.step_ids if step_id in skipped]
    if patch.retry_from is not None:
        result["retry_from"] = patch.retry_from
    kept = [target for target in plan.targets if target not in patch.targets_remove]
    result["targets"] = kept + [target for target in dict.fromkeys(patch.targets_add) if target not in kept]
    return result


def apply_patch(snapshot: Mapping[str, Any], patch: PlanPatch) -> dict[str, Any]:
    """A new snapshot with `patch` applied; PatchError naming each bad field when it cannot apply."""
    plan = read_snapshot(snapshot)
    skipped = {*plan.skipped_steps, *patch.skip_steps}
    problems = [
        *_parameter_problems(plan, patch),
        *_skip_problems(plan, patch, skipped),
        *_retry_problems(plan, patch, skipped),
        *_target_problems(plan, patch),
    ]
    if problems:
        raise PatchError(problems)
    result = _patched(snapshot, plan, patch, skipped)
    if patch_diff(snapshot, result).is_empty:
        raise PatchError(["patch: changes nothing (a replan that changes nothing is a rerun)"])
    return result
