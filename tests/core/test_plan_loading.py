"""A bad plan file is reported as `<origin>: <key path>: <reason>`, one line per problem."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from ops_pipeline.core.plans.loading import PlanError, parse_plan, parse_plan_text
from tests.core.plan_builders import plan_dict, step

ORIGIN = "plans/restart_web.yaml"


def problems_of(document: Any) -> list[str]:
    with pytest.raises(PlanError) as error:
        parse_plan(document, ORIGIN)
    assert str(error.value).splitlines() == list(error.value.problems)
    return list(error.value.problems)


def text_problems(text: str) -> list[str]:
    with pytest.raises(PlanError) as error:
        parse_plan_text(textwrap.dedent(text), ORIGIN)
    return list(error.value.problems)


def only_problem(document: Any) -> str:
    problems = problems_of(document)
    assert len(problems) == 1, problems
    return problems[0]


GOOD_YAML = """\
name: restart_web
environment: prod
action_class: modify
estimate_s: 4
approval_level: 1
targets: [web1]
parameters:
  service: {type: string, default: nginx, pattern: "[a-z-]+"}
steps:
  - id: restart
    type: command
    argv: [systemctl, restart, "{{ params.service }}"]
    target: web1
  - id: check
    type: http
    url: https://web1.example.com/health
"""


def test_a_good_file_parses() -> None:
    spec = parse_plan_text(GOOD_YAML, ORIGIN)
    assert (spec.name, spec.environment, spec.effective_sla, spec.approval_level) == ("restart_web", "prod", "fast", 1)
    assert [s.id for s in spec.steps] == ["restart", "check"]
    assert spec.steps[1].depends_on == ["restart"]


def test_a_shell_string_is_refused_with_a_hint_to_write_a_list() -> None:
    problem = only_problem(plan_dict(step("restart", argv="systemctl restart nginx")))
    assert problem.startswith(f"{ORIGIN}: steps[0].argv: must be a list of arguments, not a shell string")


def test_an_unknown_step_type_is_named_without_pydantic_tags() -> None:
    problem = only_problem(plan_dict(step("restart"), {"id": "run", "type": "shell", "script": "ls"}))
    assert problem == (
        f"{ORIGIN}: steps[1]: unknown step type 'shell' (use one of: command, http, sql, file, validation)"
    )


def test_a_field_error_inside_a_step_has_a_plain_key_path() -> None:
    problem = only_problem(plan_dict(step("restart"), step("check", "http", url="ftp://x")))
    assert problem == f"{ORIGIN}: steps[1].url: must be an http:// or https:// URL with a host and no spaces"
    assert "steps[0].command" not in only_problem(plan_dict(step("restart", target="")))


def test_a_duplicate_step_id_names_both_places() -> None:
    problem = only_problem(plan_dict(step("restart"), step("restart", "http")))
    assert problem == f"{ORIGIN}: steps[1].id: duplicate step id 'restart' (already used by steps[0])"


def test_a_rollback_step_cannot_reuse_a_forward_id() -> None:
    document = plan_dict(step("restart", rollback="restart"), rollback_steps=[step("restart", "http")])
    assert f"{ORIGIN}: rollback_steps[0].id: duplicate step id 'restart' (already used by steps[0])" in problems_of(
        document
    )


def test_a_dependency_cycle_is_shown_step_by_step() -> None:
    document = plan_dict(step("a", depends_on=["c"]), step("b"), step("c"))
    assert (
        only_problem(document)
        == f"{ORIGIN}: steps[0].depends_on: dependency cycle: a -> c -> b -> a (each waits for the next)"
    )


def test_unknown_and_self_dependencies_are_located() -> None:
    document = plan_dict(step("a", depends_on=["ghost"]), step("b", depends_on=["b"]))
    assert problems_of(document) == [
        f"{ORIGIN}: steps[0].depends_on[0]: 'ghost' is not a step of this plan",
        f"{ORIGIN}: steps[1].depends_on[0]: a step cannot depend on itself",
    ]


def test_a_rollback_to_an_unknown_id_lists_the_declared_ones() -> None:
    document = plan_dict(step("restart", rollback="undo_restart"), rollback_steps=[step("restore", "http")])
    assert f"{ORIGIN}: steps[0].rollback: 'undo_restart' is not one of rollback_steps (declared: restore)" in (
        problems_of(document)
    )


def test_rollback_steps_take_no_dependencies() -> None:
    document = plan_dict(
        step("restart", rollback="undo"), rollback_steps=[step("undo", "http", depends_on=["restart"])]
    )
    assert only_problem(document).startswith(
        f"{ORIGIN}: rollback_steps[0].depends_on: rollback steps take no depends_on"
    )


def test_an_unknown_parameter_in_a_template_names_the_declared_ones() -> None:
    document = plan_dict(
        step("restart", argv=["systemctl", "restart", "{{ params.servce }}"]),
        parameters={"service": {"type": "string", "default": "nginx"}},
    )
    assert only_problem(document) == (
        f"{ORIGIN}: steps[0].argv[2]: names parameter 'servce', which the plan does not declare (service)"
    )


def test_a_malformed_template_is_located() -> None:
    document = plan_dict(step("check", "http", headers={"Authorization": "Bearer {{ secret:vault:x }}"}))
    assert only_problem(document).startswith(f"{ORIGIN}: steps[0].headers.Authorization: {{{{ secret:vault:x }}}}")


def test_a_second_sql_statement_is_refused() -> None:
    document = plan_dict(step("fix", "sql", statement="UPDATE orders SET status = 'x'; DROP TABLE orders"))
    assert only_problem(document) == (
        f"{ORIGIN}: steps[0].statement: holds more than one statement (SQL follows a ';'); "
        "give each statement its own step"
    )


def test_a_placeholder_without_a_value_and_a_value_without_a_placeholder() -> None:
    missing = plan_dict(step("q", "sql", statement="SELECT * FROM orders WHERE status = :status"))
    assert (
        only_problem(missing)
        == f"{ORIGIN}: steps[0].params: the statement uses :status but params gives no value for it"
    )
    unused = plan_dict(step("q", "sql", params={"limit": 5}))
    assert (
        only_problem(unused) == f"{ORIGIN}: steps[0].params.limit: not used by the statement (it has no placeholders)"
    )


def test_a_target_must_be_declared() -> None:
    document = plan_dict(step("restart", target="web2"))
    assert only_problem(document) == f"{ORIGIN}: steps[0].target: 'web2' is not one of the plan's targets (web1)"


def test_an_assertion_must_look_at_an_earlier_step() -> None:
    check = step("check", "validation", sql_check=None, **{"assert": {"step": "later", "op": "truthy"}})
    document = plan_dict(step("restart"), check, step("later", "http"))
    assert only_problem(document).startswith(f"{ORIGIN}: steps[1].assert.step: 'later' must run before this validation")


def test_a_bad_parameter_default_is_located_at_the_default() -> None:
    document = plan_dict(parameters={"limit": {"type": "integer", "default": "ten", "min": 1}})
    assert (
        only_problem(document) == f"{ORIGIN}: parameters.limit.default: the default must be a whole number, not 'ten'"
    )


def test_unknown_keys_and_missing_keys_are_named() -> None:
    document = plan_dict(step("restart", comand="x"))
    del document["environment"]
    assert problems_of(document) == [
        f"{ORIGIN}: environment: required",
        f"{ORIGIN}: steps[0].comand: unknown key (check its spelling and indentation)",
    ]


def test_every_problem_is_reported_at_once() -> None:
    document = plan_dict(step("restart", target="web9", argv=["echo", "{{ params.nope }}"]), step("restart", "http"))
    assert [p.split(": ")[1] for p in problems_of(document)] == ["steps[1].id", "steps[0].target", "steps[0].argv[1]"]


def test_a_top_level_that_is_not_a_mapping() -> None:
    assert only_problem(["steps"]) == f"{ORIGIN}: (top level): a plan must be a mapping (name, steps, ...), not list"
    assert text_problems("") == [f"{ORIGIN}: (top level): the file is empty; a plan is a mapping with name, steps, ..."]


# ---- YAML


def test_a_duplicate_yaml_key_is_refused_with_its_path_and_lines() -> None:
    problems = text_problems(
        """\
        name: restart_web
        environment: dev
        action_class: modify
        sla_class: fast
        targets: [web1]
        steps:
          - id: restart
            type: command
            argv: [systemctl, restart, nginx]
            target: web1
            target: web2
        """
    )
    assert problems == [f"{ORIGIN}: steps[0].target: duplicate key (lines 10 and 11); keep one"]


def test_a_yaml_syntax_error_names_the_line_but_not_its_content() -> None:
    problems = text_problems(
        """\
        name: restart_web
        steps:
          - id: restart
            argv: [echo, "hunter2-secret-token"
        environment: dev
        """
    )
    assert len(problems) == 1
    assert problems[0].startswith(f"{ORIGIN}: line 5, column 1: not valid YAML: ")
    assert "hunter2" not in problems[0]


def test_yaml_dates_stay_text() -> None:
    spec = parse_plan_text(
        GOOD_YAML.replace(
            'service: {type: string, default: nginx, pattern: "[a-z-]+"}', "day: {type: string, default: 2024-04-01}"
        ).replace("{{ params.service }}", "{{ params.day }}"),
        ORIGIN,
    )
    assert spec.parameters["day"].default == "2024-04-01"
