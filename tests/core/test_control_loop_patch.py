import copy
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from ops_pipeline.core.control_loop.patch import PatchError, PlanPatch, apply_patch, patch_diff

# The shape `core/plans` dumps (PlanSpec.model_dump(mode="json", by_alias=True)), trimmed to what matters here.
PLAN: dict[str, Any] = {
    "name": "archive",
    "tenant": "acme",
    "environment": "staging",
    "action_class": "modify",
    "approval_level": 2,
    "targets": ["db1", "db2", "spare"],
    "parameters": {
        "batch_size": {"type": "integer", "default": 100, "min": 1, "max": 10000},
        "mode": {"type": "enum", "default": "full", "values": ["full", "incremental"]},
        "dry_run": {"type": "boolean", "default": False},
        "ratio": {"type": "number", "default": 0.5},
        "label": {"type": "string", "default": "nightly", "pattern": "[a-z]+"},
    },
    "steps": [
        {"id": "extract", "type": "command", "argv": ["dump"], "target": "db1", "depends_on": []},
        {"id": "transform", "type": "command", "argv": ["transform"], "target": "db2", "depends_on": ["extract"]},
        {
            "id": "load",
            "type": "command",
            "argv": ["load"],
            "target": "db2",
            "depends_on": ["transform"],
            "rollback": "undo_load",
        },
        {"id": "notify", "type": "http", "url": "http://127.0.0.1:9/hook", "depends_on": ["load"]},
        {
            "id": "check_rows",
            "type": "validation",
            "assert": {"step": "load", "path": "rows", "op": "gt", "value": 0},
            "depends_on": ["load"],
        },
        {"id": "audit", "type": "sql", "source": "demo", "statement": "select 1", "depends_on": []},
        {
            "id": "verify_audit",
            "type": "validation",
            "assert": {"step": "audit", "path": "", "op": "truthy"},
            "depends_on": ["audit"],
        },
    ],
    "rollback_steps": [{"id": "undo_load", "type": "command", "argv": ["undo"], "target": "db1", "depends_on": []}],
}


def patch(**fields: object) -> PlanPatch:
    return PlanPatch.model_validate({"reason": "load timed out twice", **fields})


def refusal(**fields: object) -> str:
    with pytest.raises(PatchError) as failure:
        apply_patch(PLAN, patch(**fields))
    return str(failure.value)


def test_a_patch_returns_a_new_snapshot_and_leaves_the_old_one_alone() -> None:
    before = copy.deepcopy(PLAN)
    after = apply_patch(PLAN, patch(parameters={"batch_size": 50, "mode": "incremental"}, retry_from="load"))
    assert before == PLAN
    assert after["parameters"]["batch_size"] == {**PLAN["parameters"]["batch_size"], "default": 50}
    assert after["parameters"]["mode"]["default"] == "incremental"
    assert after["retry_from"] == "load"
    assert after["steps"] == PLAN["steps"] and after["name"] == "archive"


def test_skipped_steps_are_recorded_and_stay_in_the_graph() -> None:
    after = apply_patch(PLAN, patch(skip_steps=["verify_audit", "notify", "audit"]))
    assert after["skipped_steps"] == ["notify", "audit", "verify_audit"]  # plan order
    assert [step["id"] for step in after["steps"]] == [step["id"] for step in PLAN["steps"]]
    again = apply_patch(after, patch(parameters={"dry_run": True}))
    assert again["skipped_steps"] == ["notify", "audit", "verify_audit"]


def test_a_number_is_kept_as_a_float_as_the_plan_model_keeps_it() -> None:
    after = apply_patch(PLAN, patch(parameters={"ratio": 1}))
    assert after["parameters"]["ratio"]["default"] == 1.0 and isinstance(after["parameters"]["ratio"]["default"], float)


def test_targets_are_added_and_removed() -> None:
    after = apply_patch(PLAN, patch(targets_remove=["spare"], targets_add=["db3", "db3"]))
    assert after["targets"] == ["db1", "db2", "db3"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"parameters": {"colour": "red"}}, "patch.parameters.colour: unknown parameter (plan has: batch_size, mode"),
        ({"parameters": {"batch_size": "50"}}, "patch.parameters.batch_size: must be a whole number, not str"),
        ({"parameters": {"batch_size": True}}, "patch.parameters.batch_size: must be a whole number, not bool"),
        ({"parameters": {"batch_size": 2.5}}, "patch.parameters.batch_size: must be a whole number, not float"),
        ({"parameters": {"batch_size": 0}}, "patch.parameters.batch_size: 0 is below the minimum 1"),
        ({"parameters": {"ratio": False}}, "patch.parameters.ratio: must be a number, not bool"),
        ({"parameters": {"dry_run": "yes"}}, "patch.parameters.dry_run: must be true or false, not str"),
        ({"parameters": {"mode": "partial"}}, "patch.parameters.mode: 'partial' is not one of full, incremental"),
        ({"parameters": {"label": "Nightly 2"}}, "patch.parameters.label: 'Nightly 2' does not match the pattern"),
        ({"skip_steps": ["nope"]}, "patch.skip_steps.nope: unknown step (plan has: extract, transform, load"),
        ({"skip_steps": ["transform"]}, "patch.skip_steps.transform: step 'load' still runs and needs it"),
        (
            {"skip_steps": ["extract", "transform", "load"]},
            "patch.skip_steps.extract: step 'notify' still runs and needs it "
            "(notify, which depends on load, which depends on transform, which depends on extract)",
        ),
        ({"skip_steps": ["audit"]}, "patch.skip_steps.audit: validation step 'verify_audit' asserts on it"),
        ({"skip_steps": ["load", "notify"]}, "patch.skip_steps.load: validation step 'check_rows' asserts on it"),
        ({"retry_from": "nope"}, "patch.retry_from: unknown step 'nope'"),
        ({"retry_from": "notify", "skip_steps": ["notify"]}, "patch.retry_from: step 'notify' is skipped"),
        ({"targets_remove": ["db9"]}, "patch.targets_remove.db9: not a target of the plan (it has: db1, db2, spare)"),
        ({"targets_remove": ["db2"]}, "patch.targets_remove.db2: still used by step(s) transform, load"),
        ({"targets_remove": ["db1"]}, "patch.targets_remove.db1: still used by step(s) extract, undo_load"),
        ({"targets_add": ["db1"]}, "patch.targets_add.db1: already a target of the plan"),
        ({"targets_add": ["spare"], "targets_remove": ["spare"]}, "patch.targets_remove.spare: also in targets_add"),
        ({}, "patch: changes nothing"),
        ({"parameters": {"batch_size": 100}}, "patch: changes nothing"),
    ],
)
def test_refusals_name_the_field(fields: dict, message: str) -> None:
    assert message in refusal(**fields)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(PatchError) as failure:
        apply_patch(PLAN, patch(parameters={"colour": 1}, skip_steps=["nope"], targets_remove=["db9"]))
    assert [problem.split(":")[0] for problem in failure.value.problems] == [
        "patch.parameters.colour",
        "patch.skip_steps.nope",
        "patch.targets_remove.db9",
    ]


def test_skipping_a_validation_with_what_it_checks_is_allowed() -> None:
    after = apply_patch(PLAN, patch(skip_steps=["load", "notify", "check_rows"]))
    assert after["skipped_steps"] == ["load", "notify", "check_rows"]


@pytest.mark.parametrize(
    "fields",
    [{"reason": ""}, {"reason": "r", "colour": 1}, {"reason": "r", "skip_steps": [" "]}, {"skip_steps": ["a"]}],
)
def test_bad_patches_are_refused_by_the_model(fields: dict) -> None:
    with pytest.raises(ValidationError):
        PlanPatch.model_validate(fields)


def test_a_malformed_snapshot_is_named() -> None:
    with pytest.raises(PatchError, match=r"plan\.steps: must be a list of steps"):
        apply_patch({**PLAN, "steps": {"a": 1}}, patch(skip_steps=["a"]))


# ---- diff


def test_the_diff_shows_before_and_after_of_each_change() -> None:
    after = apply_patch(
        PLAN,
        patch(
            parameters={"batch_size": 50, "mode": "incremental"},
            skip_steps=["notify"],
            retry_from="load",
            targets_remove=["spare"],
            targets_add=["db3"],
        ),
    )
    diff = patch_diff(PLAN, after)
    assert diff.as_markdown() == (
        "| field | before | after |\n"
        "|---|---|---|\n"
        "| parameters.batch_size | 100 | 50 |\n"
        '| parameters.mode | "full" | "incremental" |\n'
        "| skipped_steps | — | notify |\n"
        "| retry_from | — | load |\n"
        "| targets | db1, db2, spare | db1, db2, db3 |\n"
    )
    assert diff.as_dict() == {
        "parameters": {"batch_size": {"before": 100, "after": 50}, "mode": {"before": "full", "after": "incremental"}},
        "skipped_steps": {"before": [], "after": ["notify"]},
        "retry_from": {"before": None, "after": "load"},
        "targets": {
            "before": ["db1", "db2", "spare"],
            "after": ["db1", "db2", "db3"],
            "added": ["db3"],
            "removed": ["spare"],
        },
    }
    json.dumps(diff.as_dict())


def test_the_diff_of_versions_that_change_declarations_shows_them_whole() -> None:
    after = copy.deepcopy(PLAN)
    after["parameters"]["dry_run"] = {"type": "boolean", "default": False, "description": "no writes"}
    del after["parameters"]["ratio"]
    after["parameters"]["limit"] = {"type": "integer", "default": 5}
    markdown = patch_diff(PLAN, after).as_markdown()
    assert (
        '| parameters.dry_run | {"default": false, "type": "boolean"} '
        '| {"default": false, "description": "no writes", "type": "boolean"} |'
    ) in markdown
    assert "| parameters.ratio | 0.5 | (absent) |" in markdown
    assert "| parameters.limit | (absent) | 5 |" in markdown
    assert patch_diff(PLAN, after).as_dict()["parameters"]["ratio"] == {"before": 0.5}


def test_markdown_cells_cannot_break_the_table() -> None:
    after = copy.deepcopy(PLAN)
    after["parameters"]["mode"] = {**PLAN["parameters"]["mode"], "default": "a|b\nc"}
    after["targets"] = ["db1", "db2", "odd|name"]
    rows = patch_diff(PLAN, after).as_markdown().splitlines()
    assert rows[2] == r'| parameters.mode | "full" | "a\|b\nc" |'
    assert rows[3] == r"| targets | db1, db2, spare | db1, db2, odd\|name |"


def test_no_changes_say_so() -> None:
    diff = patch_diff(PLAN, copy.deepcopy(PLAN))
    assert diff.is_empty and diff.as_markdown() == "No changes between the two plan versions.\n"


# ---- properties

STEP_IDS = [step["id"] for step in PLAN["steps"]]


def _needs(step_id: str) -> set[str]:
    """Steps whose output `step_id` needs, directly or transitively, and those its validation names."""
    by_id = {step["id"]: step for step in PLAN["steps"]}
    found, todo = set(), list(by_id[step_id]["depends_on"])
    while todo:
        upstream = todo.pop()
        if upstream not in found:
            found.add(upstream)
            todo.extend(by_id[upstream]["depends_on"])
    asserted = by_id[step_id].get("assert", {}).get("step")
    return found | ({asserted} if asserted else set())


@given(st.sets(st.sampled_from(STEP_IDS), min_size=1))
def test_an_accepted_skip_never_leaves_a_running_step_without_its_input(skips: set[str]) -> None:
    before = copy.deepcopy(PLAN)
    try:
        after = apply_patch(PLAN, patch(skip_steps=sorted(skips)))
    except PatchError as error:
        assert all(problem.startswith("patch.skip_steps.") for problem in error.problems)
        assert any(_needs(step) & skips for step in STEP_IDS if step not in skips)
    else:
        assert set(after["skipped_steps"]) == skips
        assert not any(_needs(step) & skips for step in STEP_IDS if step not in skips)
    assert before == PLAN
