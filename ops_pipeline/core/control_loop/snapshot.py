"""A read-only view of an execution plan's snapshot, as much of it as a replan patch needs to check.

A snapshot is the plan model dumped to JSON: `name`, `tenant`, `approval_level`, `targets` (target ids),
`parameters` (name -> {type, default, ...}), ordered `steps` (each with `id`, `type`, `depends_on` and an
optional `rollback`) and `rollback_steps`; a replanned version adds `skipped_steps` and `retry_from`.
This module reads only those keys and keeps the rest of the snapshot opaque, so the plan model can grow
without this code changing.

Which steps use a target: a step (or rollback step) whose `target` is the target id (command and file steps
in `core/plans/steps.py`). Which step a validation step asserts on: the one
its `assert` check names (`assert: {step: load, path: rows, op: gt, value: 0}`); a `sql_check` names none.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["PatchError", "PlanView", "read_snapshot"]


class PatchError(ValueError):
    """A patch that cannot apply to a plan; the message names each bad field and why."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(problems))


def _text_list(snapshot: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = snapshot.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise PatchError([f"plan.{key}: must be a list of text"])
    return tuple(value)


def _steps(snapshot: Mapping[str, Any], key: str) -> tuple[Mapping[str, Any], ...]:
    value = snapshot.get(key) or []
    if not isinstance(value, list) or not all(
        isinstance(step, Mapping) and isinstance(step.get("id"), str) for step in value
    ):
        raise PatchError([f"plan.{key}: must be a list of steps, each with a text id"])
    return tuple(value)


@dataclass(frozen=True)
class PlanView:
    name: str
    parameters: Mapping[str, Any]
    steps: tuple[Mapping[str, Any], ...]
    rollback_steps: tuple[Mapping[str, Any], ...]
    targets: tuple[str, ...]
    skipped_steps: tuple[str, ...]
    retry_from: str | None

    @property
    def step_ids(self) -> tuple[str, ...]:
        return tuple(step["id"] for step in self.steps)

    def dependents(self) -> dict[str, list[str]]:
        """Step id -> the steps that list it in `depends_on`."""
        found: dict[str, list[str]] = {step_id: [] for step_id in self.step_ids}
        for step in self.steps:
            for upstream in step.get("depends_on") or []:
                found.setdefault(str(upstream), []).append(step["id"])
        return found

    def dependency_chain(self, step_id: str, skipped: set[str]) -> list[str] | None:
        """The shortest chain from `step_id` to a step outside `skipped` that depends on it, or None."""
        dependents = self.dependents()
        came_from: dict[str, str] = {}
        queue = deque([step_id])
        while queue:
            current = queue.popleft()
            for dependent in dependents.get(current, []):
                if dependent in came_from or dependent == step_id:
                    continue
                came_from[dependent] = current
                if dependent not in skipped:
                    chain = [dependent]
                    while chain[-1] != step_id:
                        chain.append(came_from[chain[-1]])
                    return chain
                queue.append(dependent)
        return None

    def users_of(self, target: str) -> list[str]:
        """Ids of the steps and rollback steps that run against `target`."""
        users = []
        for step in (*self.steps, *self.rollback_steps):
            if step.get("target") == target:
                users.append(step["id"])
        return users

    def validations_asserting_on(self, step_id: str) -> list[str]:
        """Ids of the validation steps that assert on `step_id`'s outcome."""
        return [
            step["id"] for step in self.steps if step.get("type") == "validation" and _asserted_step(step) == step_id
        ]


def _asserted_step(step: Mapping[str, Any]) -> str | None:
    # `assert` is the plan model's alias; a dump without aliases spells it `assert_`.
    check = step.get("assert", step.get("assert_"))
    return check.get("step") if isinstance(check, Mapping) else None


def read_snapshot(snapshot: Mapping[str, Any]) -> PlanView:
    """The parts of a plan snapshot a patch touches; PatchError (`plan.<key>: ...`) when they are malformed."""
    if not isinstance(snapshot, Mapping):
        raise PatchError(["plan: the snapshot must be a mapping"])
    parameters = snapshot.get("parameters") or {}
    if not isinstance(parameters, Mapping):
        raise PatchError(["plan.parameters: must be a mapping of name to parameter"])
    retry_from = snapshot.get("retry_from")
    if retry_from is not None and not isinstance(retry_from, str):
        raise PatchError(["plan.retry_from: must be a step id"])
    return PlanView(
        name=str(snapshot.get("name", "")),
        parameters=parameters,
        steps=_steps(snapshot, "steps"),
        rollback_steps=_steps(snapshot, "rollback_steps"),
        targets=_text_list(snapshot, "targets"),
        skipped_steps=_text_list(snapshot, "skipped_steps"),
        retry_from=retry_from,
    )
