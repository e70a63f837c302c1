"""What a plan file may say: defaults a reader can rely on, and the mistakes validation catches."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from ops_pipeline.core.plans.loading import PlanError, parse_plan
from ops_pipeline.core.plans.sla import derive_sla
from ops_pipeline.core.plans.spec import CommandStep, HttpStep, PlanSpec
from tests.core.plan_builders import plan, plan_dict, step


def problem(*steps: dict[str, Any], **fields: Any) -> str:
    with pytest.raises(PlanError) as error:
        parse_plan(plan_dict(*steps, **fields), "p.yaml")
    assert len(error.value.problems) == 1, error.value.problems
    return error.value.problems[0].removeprefix("p.yaml: ")


def param_problem(spec: dict[str, Any]) -> str:
    return problem(parameters={"x": spec})


# ---- defaults


def test_omitted_fields_get_their_documented_defaults() -> None:
    spec = plan(step("restart"), step("check", "http"), step("copy", "file"))
    assert (spec.description, spec.tenant, spec.approval_level, spec.parameters, spec.rollback_steps) == (
        "",
        "default",
        0,
        {},
        [],
    )
    restart, check, copy = spec.steps
    assert isinstance(restart, CommandStep) and isinstance(check, HttpStep)
    assert (restart.retry, restart.timeout_s, restart.rollback, restart.depends_on) == (True, None, None, [])
    assert (check.method, check.expect_status, check.headers, check.body) == ("GET", [200, 201, 202, 204], {}, None)
    assert check.depends_on == ["restart"] and copy.depends_on == ["check"]
    assert copy.checksum == "sha256"  # type: ignore[union-attr]


def test_an_explicit_empty_depends_on_means_no_dependency() -> None:
    spec = plan(step("restart"), step("check", "http", depends_on=[]), step("copy", "file", depends_on=None))
    assert [s.depends_on for s in spec.steps] == [[], [], ["check"]]


def test_a_validated_plan_cannot_be_changed() -> None:
    spec = plan()
    with pytest.raises(ValidationError):
        spec.name = "other"


def test_step_finds_forward_and_rollback_steps() -> None:
    spec = plan(step("restart", rollback="undo"), rollback_steps=[step("undo", "http")])
    assert spec.step("undo").type == "http"
    with pytest.raises(KeyError, match="no step 'ghost'"):
        spec.step("ghost")


# ---- SLA


@pytest.mark.parametrize(
    ("estimate", "expected"), [(0.1, "fast"), (10, "fast"), (10.001, "medium"), (60, "medium"), (60.5, "long")]
)
def test_the_sla_class_is_derived_from_the_estimate(estimate: float, expected: str) -> None:
    assert derive_sla(estimate) == expected
    spec = plan(sla_class=None, estimate_s=estimate)
    assert (spec.sla_class, spec.effective_sla) == (None, expected)


def test_a_named_sla_class_wins_over_the_estimate() -> None:
    assert plan(sla_class="long", estimate_s=3).effective_sla == "long"


def test_a_plan_needs_an_sla_class_or_an_estimate() -> None:
    assert problem(sla_class=None).startswith("sla_class: give sla_class (fast, medium or long) or estimate_s")
    assert problem(sla_class=None, estimate_s=0).startswith("estimate_s: Input should be greater than 0")
    with pytest.raises(ValueError, match="above zero"):
        derive_sla(float("nan"))


# ---- the plan's own fields


@pytest.mark.parametrize("name", ["Restart", "1restart", "restart-web", "r" * 64, ""])
def test_a_plan_name_must_be_a_job_name(name: str) -> None:
    assert problem(name=name).startswith("name: ")


def test_approval_level_is_0_to_3_and_a_real_integer() -> None:
    assert plan(approval_level=3).approval_level == 3
    assert problem(approval_level=4).startswith("approval_level: ")
    assert problem(approval_level="2").startswith("approval_level: ")


def test_targets_are_listed_once() -> None:
    assert problem(targets=["web1", "web1"]) == "targets: lists 'web1' more than once"
    assert problem(targets=["web 1"]).startswith("targets[0]: 'web 1' is not a target id")


def test_a_plan_needs_steps() -> None:
    assert problem(steps=[]).startswith("steps: ")


@pytest.mark.parametrize("reserved", ["preflight", "finalize"])
def test_step_ids_of_the_skins_own_ops_are_reserved(reserved: str) -> None:
    assert problem(step(reserved)).startswith(f"steps[0].id: {reserved!r} is reserved")


# ---- step types


def test_integer_arguments_become_text_but_other_values_do_not() -> None:
    assert plan(step("wait", argv=["sleep", 5])).steps[0].argv == ["sleep", "5"]  # type: ignore[union-attr]
    assert problem(step("wait", argv=["sleep", 1.5])).startswith("steps[0].argv[1]: ")
    assert problem(step("wait", argv=[])).startswith("steps[0].argv: ")
    assert problem(step("wait", argv=[" "])) == "steps[0].argv: argv[0], the program, must not be empty"


def test_http_fields() -> None:
    host = {"host": {"type": "string", "default": "api.example.com"}}
    check = plan(
        step("check", "http", method="post", url="https://{{ params.host }}/x", body={"n": [1, {"a": None}]}),
        parameters=host,
    )
    assert check.steps[0].method == "POST"  # type: ignore[union-attr]
    assert problem(step("c", "http", url="https://x/a b")).startswith("steps[0].url: ")
    assert problem(step("c", "http", method="TRACE")).startswith("steps[0].method: ")
    assert (
        problem(step("c", "http", expect_status=[200, 700]))
        == "steps[0].expect_status: 700 is not an HTTP status (100-599)"
    )
    assert problem(step("c", "http", headers={"Bad Header": "x"})).startswith("steps[0].headers: ")
    assert problem(step("c", "http", body=[1, 2])) == "steps[0].body: must be text or a mapping (sent as JSON)"


def test_sql_statements_are_never_templated() -> None:
    assert problem(step("q", "sql", statement="SELECT * FROM {{ params.table }}")).startswith(
        "steps[0].statement: SQL statements are never templated"
    )
    assert problem(step("q", "sql", statement="SELECT 'open")) == "steps[0].statement: a ' quoted text never ends"
    assert problem(step("q", "sql", source="no such")).startswith("steps[0].source: ")


def test_a_trailing_semicolon_and_a_semicolon_in_text_are_one_statement() -> None:
    plan(
        step("q", "sql", statement="UPDATE orders SET notes = 'a; b' WHERE order_id = :id;  -- done", params={"id": 1})
    )


def test_sql_bind_values_are_single_values() -> None:
    statement = "SELECT :a"
    assert problem(step("q", "sql", statement=statement, params={"a": [1]})).startswith("steps[0].params.a: must be a")


def test_a_file_transfer_names_its_target() -> None:
    assert problem(step("f", "file", mode="transfer")) == (
        "steps[0].target: a transfer moves a file to or from a target; name it"
    )
    plan(step("f", "file", mode="transfer", target="web1"))


def test_a_validation_step_has_exactly_one_check() -> None:
    both = step("v", "validation", **{"assert": {"step": "x", "op": "truthy"}})
    assert problem(step("x"), both) == "steps[1]: give exactly one of assert or sql_check"
    assert problem(step("v", "validation", sql_check=None)) == "steps[0]: give exactly one of assert or sql_check"


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        ({"op": "truthy", "value": 1}, "steps[1].assert.value: truthy compares with nothing; remove value"),
        ({"op": "in", "value": 1}, "steps[1].assert.value: in needs a list of values"),
        ({"op": "gt", "value": [1]}, "steps[1].assert.value: gt compares with a number or a text"),
        ({"op": "gt", "value": 1, "path": "rows[0]..n"}, "steps[1].assert.path: 'rows[0]..n' is not an output path"),
        ({"op": "around", "value": 1}, "steps[1].assert.op: "),
    ],
)
def test_assertions_fit_their_operator(check: dict[str, Any], expected: str) -> None:
    validation = step("v", "validation", sql_check=None, **{"assert": {"step": "restart", **check}})
    assert problem(step("restart"), validation).startswith(expected)


# ---- parameter specs


def test_a_parameter_without_a_default_is_required() -> None:
    spec = plan(parameters={"service": {"type": "string"}, "count": {"type": "integer", "default": 2}})
    assert spec.parameters["service"].required and not spec.parameters["count"].required


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"type": "enum"}, "parameters.x.values: an enum parameter needs a non-empty list of values"),
        ({"type": "string", "values": ["a"]}, "parameters.x.values: only enum parameters have values"),
        ({"type": "enum", "values": ["a", "a"]}, "parameters.x.values: lists a value twice"),
        ({"type": "string", "min": 1}, "parameters.x.min: only integer and number parameters have a min"),
        ({"type": "integer", "min": 5, "max": 1}, "parameters.x.min: min 5 is above max 1"),
        ({"type": "integer", "pattern": "x"}, "parameters.x.pattern: only string parameters have a pattern"),
        ({"type": "string", "pattern": "("}, "parameters.x.pattern: invalid regular expression '('"),
        ({"type": "integer", "default": 1.5}, "parameters.x.default: the default must be a whole number, not 1.5"),
        ({"type": "integer", "default": True}, "parameters.x.default: the default must be a whole number, not True"),
        ({"type": "integer", "default": 0, "min": 1}, "parameters.x.default: the default 0 is below the minimum 1"),
        ({"type": "boolean", "default": "yes"}, "parameters.x.default: the default must be true or false, not 'yes'"),
        ({"type": "enum", "values": ["a"], "default": "b"}, "parameters.x.default: the default 'b' is not one of a"),
        ({"type": "string", "pattern": "[a-z]+", "default": "A"}, "parameters.x.default: the default 'A' does not"),
        ({"type": "string", "default": ["a"]}, "parameters.x.default: must be a single value"),
        ({"type": "date"}, "parameters.x.type: "),
    ],
)
def test_parameter_specs_are_checked_where_they_are_written(spec: dict[str, Any], expected: str) -> None:
    assert param_problem(spec).startswith(expected)


def test_parameter_names_are_identifiers() -> None:
    assert problem(parameters={"Service": {"type": "string"}}).startswith(
        "parameters.Service: 'Service' is not a valid"
    )


def test_plan_spec_validates_directly_too() -> None:
    with pytest.raises(ValidationError, match=r"steps\[0\]\.target: 'web2' is not one of the plan's targets"):
        PlanSpec.model_validate(plan_dict(step("restart", target="web2")))
