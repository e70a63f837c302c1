"""Checks that need the whole plan: step ids, the dependency graph, rollbacks, targets, templates, assertions.

`plan_problems` returns every problem found as (key path, reason), so one run of the validator reports them
all; `PlanSpec` raises them together and the loader prints one line per problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from ops_pipeline.core.plans.graph import ancestor_ids, find_cycle
from ops_pipeline.core.plans.steps import AnyStep, ValidationStep, step_target
from ops_pipeline.core.plans.templates import TemplateError, template_references

if TYPE_CHECKING:
    from ops_pipeline.core.plans.spec import PlanSpec

Problem = tuple[str, str]


def _located_steps(plan: PlanSpec) -> Iterator[tuple[str, AnyStep]]:
    for index, step in enumerate(plan.steps):
        yield f"steps[{index}]", step
    for index, step in enumerate(plan.rollback_steps):
        yield f"rollback_steps[{index}]", step


def _listed(names: Iterable[str]) -> str:
    return ", ".join(sorted(names)) or "none"


def _id_problems(plan: PlanSpec) -> Iterator[Problem]:
    first_seen: dict[str, str] = {}
    for where, step in _located_steps(plan):
        if step.id in first_seen:
            yield f"{where}.id", f"duplicate step id {step.id!r} (already used by {first_seen[step.id]})"
        else:
            first_seen[step.id] = where


def _dependency_problems(plan: PlanSpec) -> Iterator[Problem]:
    forward = {step.id for step in plan.steps}
    rollback = {step.id for step in plan.rollback_steps}
    for index, step in enumerate(plan.steps):
        for position, needed in enumerate(step.depends_on):
            where = f"steps[{index}].depends_on[{position}]"
            if needed == step.id:
                yield where, "a step cannot depend on itself"
            elif needed in rollback:
                yield where, f"{needed!r} is a rollback step; rollback steps are not part of the forward graph"
            elif needed not in forward:
                yield where, f"{needed!r} is not a step of this plan"
            elif needed in step.depends_on[:position]:
                yield where, f"{needed!r} is listed twice"


def _cycle_problems(plan: PlanSpec) -> Iterator[Problem]:
    cycle = find_cycle(plan.steps)
    if cycle:
        index = next(i for i, step in enumerate(plan.steps) if step.id == cycle[0])
        yield f"steps[{index}].depends_on", f"dependency cycle: {' -> '.join(cycle)} (each waits for the next)"


def _rollback_problems(plan: PlanSpec) -> Iterator[Problem]:
    rollback_ids = [step.id for step in plan.rollback_steps]
    forward_ids = {step.id for step in plan.steps}
    named: set[str] = set()
    for index, step in enumerate(plan.steps):
        if step.rollback is None:
            continue
        named.add(step.rollback)
        if step.rollback in forward_ids:
            yield f"steps[{index}].rollback", f"{step.rollback!r} is a forward step; name an entry of rollback_steps"
        elif step.rollback not in rollback_ids:
            known = _listed(rollback_ids)
            yield f"steps[{index}].rollback", f"{step.rollback!r} is not one of rollback_steps (declared: {known})"
    for index, step in enumerate(plan.rollback_steps):
        where = f"rollback_steps[{index}]"
        if step.depends_on:
            yield f"{where}.depends_on", "rollback steps take no depends_on: they run in reverse order of completion"
        if step.rollback is not None:
            yield f"{where}.rollback", "a rollback step has no rollback of its own"
        if step.id not in named:
            yield f"{where}.id", f"no step names {step.id!r} as its rollback; remove it or reference it"


def _target_problems(plan: PlanSpec) -> Iterator[Problem]:
    for where, step in _located_steps(plan):
        target = step_target(step)
        if target is not None and target not in plan.targets:
            yield f"{where}.target", f"{target!r} is not one of the plan's targets ({_listed(plan.targets)})"


def _template_problems(plan: PlanSpec) -> Iterator[Problem]:
    for where, step in _located_steps(plan):
        for path, text in step.template_texts():
            try:
                names = template_references(text).params
            except TemplateError as error:
                yield f"{where}.{path}", str(error)
                continue
            for name in names:
                if name not in plan.parameters:
                    declared = _listed(plan.parameters)
                    yield f"{where}.{path}", f"names parameter {name!r}, which the plan does not declare ({declared})"


def _assert_problems(plan: PlanSpec) -> Iterator[Problem]:
    forward = {step.id for step in plan.steps}
    for where, step in _located_steps(plan):
        if not isinstance(step, ValidationStep) or step.assert_ is None:
            continue
        checked = step.assert_.step
        if checked not in forward:
            yield f"{where}.assert.step", f"{checked!r} is not a step of this plan"
        elif not where.startswith("steps[") or checked not in ancestor_ids(plan.steps, step.id):
            yield (
                f"{where}.assert.step",
                f"{checked!r} must run before this validation: list it (or a step after it) in depends_on",
            )


def _replan_problems(plan: PlanSpec) -> Iterator[Problem]:
    forward = {step.id for step in plan.steps}
    for index, skipped in enumerate(plan.skipped_steps):
        if skipped not in forward:
            yield f"skipped_steps[{index}]", f"{skipped!r} is not a step of this plan"
    if plan.retry_from is not None and plan.retry_from not in forward:
        yield "retry_from", f"{plan.retry_from!r} is not a step of this plan"


def plan_problems(plan: PlanSpec) -> list[Problem]:
    """Every cross-reference problem of `plan`, as (key path, reason)."""
    graph_problems = [*_id_problems(plan)] or [*_dependency_problems(plan)]
    if not graph_problems:  # a cycle or an ancestor means something only once ids and edges are sound
        graph_problems.extend(_cycle_problems(plan))
    if not graph_problems:
        graph_problems.extend(_assert_problems(plan))
    return [
        *graph_problems,
        *_rollback_problems(plan),
        *_target_problems(plan),
        *_template_problems(plan),
        *_replan_problems(plan),
    ]
