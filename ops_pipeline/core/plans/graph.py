"""The forward graph of a plan: its order, and who depends on whom.

Steps and their `depends_on` edges form a directed acyclic graph (the plan validator refuses cycles); rollback
steps are never part of it. Every order here is stable: among steps free to run, the one written first comes
first, so the same plan always gives the same order.

Used by the skin to build the job, by "skip" (a step that later steps need cannot be skipped: `dependents`)
and by rollback (undo completed steps in reverse order: `rollback_sequence`).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from ops_pipeline.core.plans.steps import AnyStep

if TYPE_CHECKING:
    from ops_pipeline.core.plans.spec import PlanSpec


def _edges(steps: Sequence[AnyStep]) -> dict[str, tuple[str, ...]]:
    return {step.id: tuple(step.depends_on) for step in steps}


def find_cycle(steps: Sequence[AnyStep]) -> list[str] | None:
    """A dependency cycle as [a, b, ..., a] (each depends on the next), or None. Unknown ids are ignored."""
    edges = _edges(steps)
    finished: set[str] = set()

    def visit(step_id: str, path: list[str]) -> list[str] | None:
        if step_id in path:
            return [*path[path.index(step_id) :], step_id]
        if step_id in finished or step_id not in edges:
            return None
        for needed in edges[step_id]:
            cycle = visit(needed, [*path, step_id])
            if cycle:
                return cycle
        finished.add(step_id)
        return None

    for step in steps:
        cycle = visit(step.id, [])
        if cycle:
            return cycle
    return None


def topological_ids(steps: Sequence[AnyStep]) -> tuple[str, ...]:
    """Every step id after the ones it depends on; ties broken by list position."""
    edges = _edges(steps)
    position = {step.id: index for index, step in enumerate(steps)}
    waiting_on = {step_id: set(needed) & edges.keys() for step_id, needed in edges.items()}
    needed_by: dict[str, list[str]] = {step_id: [] for step_id in edges}
    for step_id, needed in waiting_on.items():
        for dependency in needed:
            needed_by[dependency].append(step_id)
    ready = [position[step_id] for step_id, needed in waiting_on.items() if not needed]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        step_id = steps[heapq.heappop(ready)].id
        order.append(step_id)
        for follower in needed_by[step_id]:
            waiting_on[follower].discard(step_id)
            if not waiting_on[follower]:
                heapq.heappush(ready, position[follower])
    if len(order) != len(steps):
        raise ValueError(f"the steps have a dependency cycle: {' -> '.join(find_cycle(steps) or [])}")
    return tuple(order)


def _reachable(start: str, edges: Mapping[str, Iterable[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(edges.get(start, ()))
    while stack:
        step_id = stack.pop()
        if step_id not in seen:
            seen.add(step_id)
            stack.extend(edges.get(step_id, ()))
    return seen


def ancestor_ids(steps: Sequence[AnyStep], step_id: str) -> set[str]:
    """Every step `step_id` waits for, directly or through others."""
    return _reachable(step_id, _edges(steps))


def _known(plan: PlanSpec, step_id: str) -> None:
    if step_id not in {step.id for step in plan.steps}:
        raise ValueError(f"plan {plan.name!r} has no step {step_id!r}")


def forward_order(plan: PlanSpec) -> tuple[str, ...]:
    """The plan's steps in an order that respects every dependency, stable by list position."""
    return topological_ids(plan.steps)


def ancestors(plan: PlanSpec, step_id: str) -> tuple[str, ...]:
    """The steps `step_id` waits for, directly or transitively, in forward order."""
    _known(plan, step_id)
    found = ancestor_ids(plan.steps, step_id)
    return tuple(other for other in forward_order(plan) if other in found)


def dependents(plan: PlanSpec, step_id: str) -> tuple[str, ...]:
    """The steps that need `step_id`, directly or transitively, in forward order."""
    _known(plan, step_id)
    reverse: dict[str, list[str]] = {step.id: [] for step in plan.steps}
    for step in plan.steps:
        for needed in step.depends_on:
            reverse[needed].append(step.id)
    found = _reachable(step_id, reverse)
    return tuple(other for other in forward_order(plan) if other in found)


def rollback_sequence(plan: PlanSpec, completed: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """(step id, rollback step id) for each completed step that has a rollback, last completed first.

    "Last" is by forward order, which any real completion order agrees with on every dependency, so a step is
    always undone before the steps it depended on.
    """
    done = set(completed)
    rollback_of = {step.id: step.rollback for step in plan.steps}
    for step_id in done:
        _known(plan, step_id)
    return tuple(
        (step_id, rollback)
        for step_id in reversed(forward_order(plan))
        if step_id in done and (rollback := rollback_of[step_id]) is not None
    )
