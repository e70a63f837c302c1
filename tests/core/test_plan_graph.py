"""The forward graph: a stable order, who waits for whom, and the order of rollbacks."""

from __future__ import annotations

import pytest
from hypothesis import given

from ops_pipeline.core.plans.graph import ancestors, dependents, forward_order, rollback_sequence
from ops_pipeline.core.plans.loading import parse_plan
from ops_pipeline.core.plans.spec import PlanSpec
from tests.core.plan_builders import plan, plan_documents, step


def diamond() -> PlanSpec:
    """backup -> (stop_web, stop_worker) -> migrate -> start; notify stands alone."""
    return plan(
        step("backup", "sql"),
        step("stop_web"),
        step("notify", "http", depends_on=[]),
        step("stop_worker", depends_on=["backup"]),
        step("migrate", "sql", depends_on=["stop_worker", "stop_web"], rollback="restore"),
        step("start"),
        rollback_steps=[step("restore", "sql")],
    )


def test_forward_order_respects_dependencies_and_list_position() -> None:
    assert forward_order(diamond()) == ("backup", "stop_web", "notify", "stop_worker", "migrate", "start")
    later_first = plan(step("b", depends_on=["a"]), step("a", depends_on=[]))
    assert forward_order(later_first) == ("a", "b")


def test_ancestors_and_dependents_are_transitive() -> None:
    spec = diamond()
    assert ancestors(spec, "migrate") == ("backup", "stop_web", "stop_worker")
    assert ancestors(spec, "notify") == ()
    assert dependents(spec, "backup") == ("stop_web", "stop_worker", "migrate", "start")
    assert dependents(spec, "start") == ()
    with pytest.raises(ValueError, match="has no step 'restore'"):
        dependents(spec, "restore")  # rollback steps are not in the forward graph


def test_rollback_runs_completed_steps_backwards() -> None:
    spec = plan(
        step("copy", "sql", rollback="uncopy"),
        step("check", "http"),
        step("delete", "sql", rollback="restore"),
        rollback_steps=[step("restore", "sql"), step("uncopy", "sql")],
    )
    assert rollback_sequence(spec, ["copy", "check", "delete"]) == (("delete", "restore"), ("copy", "uncopy"))
    assert rollback_sequence(spec, {"copy"}) == (("copy", "uncopy"),)
    assert rollback_sequence(spec, []) == ()


@given(plan_documents())
def test_every_step_comes_after_what_it_depends_on(document: dict[str, object]) -> None:
    spec = parse_plan(document, "test.yaml")
    order = forward_order(spec)
    assert sorted(order) == sorted(s.id for s in spec.steps)
    position = {step_id: index for index, step_id in enumerate(order)}
    for s in spec.steps:
        assert all(position[needed] < position[s.id] for needed in s.depends_on)
        assert set(ancestors(spec, s.id)) >= set(s.depends_on)
        for follower in dependents(spec, s.id):
            assert s.id in ancestors(spec, follower)
