"""Binding a caller's parameter values to a plan: converted, checked, defaults filled, every mistake named."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ops_pipeline.core.plans.errors import PlanError
from ops_pipeline.core.plans.parameters import bind_parameters
from ops_pipeline.core.plans.spec import PlanSpec
from tests.core.plan_builders import plan

PARAMETERS: dict[str, dict[str, Any]] = {
    "service": {"type": "string", "pattern": "[a-z][a-z0-9-]*", "default": "nginx"},
    "workers": {"type": "integer", "min": 1, "max": 64},
    "ratio": {"type": "number", "min": 0, "max": 1, "default": 0.5},
    "dry_run": {"type": "boolean", "default": True},
    "colour": {"type": "enum", "values": ["blue", "green"], "default": "blue"},
}


@pytest.fixture(scope="module")
def spec() -> PlanSpec:
    return plan(parameters=PARAMETERS)


def bind_error(spec: PlanSpec, given: dict[str, object]) -> list[str]:
    with pytest.raises(PlanError) as error:
        bind_parameters(spec, given)
    return list(error.value.problems)


def test_defaults_fill_what_the_caller_leaves_out(spec: PlanSpec) -> None:
    assert bind_parameters(spec, {"workers": 4}) == {
        "service": "nginx",
        "workers": 4,
        "ratio": 0.5,
        "dry_run": True,
        "colour": "blue",
    }


def test_text_from_the_cli_is_converted(spec: PlanSpec) -> None:
    bound = bind_parameters(spec, {"workers": " 8 ", "ratio": "0.25", "dry_run": "No", "colour": "green"})
    assert (bound["workers"], bound["ratio"], bound["dry_run"], bound["colour"]) == (8, 0.25, False, "green")
    assert bind_parameters(spec, {"workers": 2, "ratio": 1})["ratio"] == 1.0


def test_none_counts_as_not_given(spec: PlanSpec) -> None:
    assert bind_parameters(spec, {"workers": 1, "service": None})["service"] == "nginx"


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ({}, "parameter 'workers': required (it has no default)"),
        ({"workers": 1, "threads": 2}, "parameter 'threads': plan 'restart_web' has no such parameter (it has: "),
        ({"workers": "many"}, "parameter 'workers': must be a whole number, not 'many'"),
        ({"workers": 2.5}, "parameter 'workers': must be a whole number, not 2.5"),
        ({"workers": True}, "parameter 'workers': must be a whole number, not True"),
        ({"workers": 0}, "parameter 'workers': 0 is below the minimum 1"),
        ({"workers": 65}, "parameter 'workers': 65 is above the maximum 64"),
        ({"workers": 1, "ratio": "nan"}, "parameter 'ratio': must be a finite number, not 'nan'"),
        ({"workers": 1, "dry_run": "maybe"}, "parameter 'dry_run': must be true or false, not 'maybe'"),
        ({"workers": 1, "colour": "red"}, "parameter 'colour': 'red' is not one of blue, green"),
        ({"workers": 1, "service": "Bad Name"}, "parameter 'service': 'Bad Name' does not match the pattern"),
        ({"workers": 1, "service": 5}, "parameter 'service': must be text, not 5"),
    ],
)
def test_a_bad_value_is_refused_naming_the_parameter(spec: PlanSpec, given: dict[str, object], problem: str) -> None:
    problems = bind_error(spec, given)
    assert len(problems) == 1 and problems[0].startswith(problem), problems


def test_every_problem_is_reported_together(spec: PlanSpec) -> None:
    assert bind_error(spec, {"ratio": 2, "nope": 1}) == [
        "parameter 'nope': plan 'restart_web' has no such parameter (it has: service, workers, ratio, dry_run, colour)",
        "parameter 'workers': required (it has no default)",
        "parameter 'ratio': 2 is above the maximum 1",
    ]


@given(st.integers(1, 64), st.floats(0, 1), st.booleans())
def test_valid_values_bind_to_themselves_and_their_text_binds_the_same(workers: int, ratio: float, flag: bool) -> None:
    spec = plan(parameters=PARAMETERS)
    typed = bind_parameters(spec, {"workers": workers, "ratio": ratio, "dry_run": flag})
    as_text = bind_parameters(spec, {"workers": str(workers), "ratio": repr(ratio), "dry_run": str(flag).lower()})
    assert typed == as_text
    assert (typed["workers"], typed["ratio"], typed["dry_run"]) == (workers, ratio, flag)
