"""Plan hashing: equal plans hash equal however they are written; any change gives a new hash."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ops_pipeline.core.plans.canonical import canonical_document, canonical_json, plan_hash, structure_fingerprint
from ops_pipeline.core.plans.loading import parse_plan, parse_plan_text
from tests.core.plan_builders import explicit, plan, plan_documents, step

Document = dict[str, Any]


def hash_of(document: Document) -> str:
    return plan_hash(parse_plan(document, "test.yaml"))


def shuffled(value: Any, draw: Callable[[st.SearchStrategy[Any]], Any]) -> Any:
    """The same data with every mapping's keys in a random order (lists keep theirs: their order means something)."""
    if isinstance(value, dict):
        keys = draw(st.permutations(list(value)))
        return {key: shuffled(value[key], draw) for key in keys}
    if isinstance(value, list):
        return [shuffled(item, draw) for item in value]
    return value


# ---- equal plans, equal hash


@given(plan_documents(), st.data())
def test_key_order_does_not_change_the_hash(document: Document, data: st.DataObject) -> None:
    assert hash_of(shuffled(document, data.draw)) == hash_of(document)


@given(
    plan_documents(),
    st.sampled_from([None, True, False]),
    st.sampled_from([2, 4, 7]),
    st.booleans(),
    st.sampled_from([40, 120, 10_000]),
)
def test_yaml_layout_does_not_change_the_hash(
    document: Document, flow: bool | None, indent: int, sort_keys: bool, width: int
) -> None:
    text = yaml.safe_dump(
        document, default_flow_style=flow, indent=indent, sort_keys=sort_keys, width=width, allow_unicode=True
    )
    assert plan_hash(parse_plan_text(text, "plan.yaml")) == hash_of(document)


@given(plan_documents())
def test_writing_the_defaults_out_does_not_change_the_hash(document: Document) -> None:
    assert hash_of(explicit(document)) == hash_of(document)


def test_an_omitted_dependency_equals_the_previous_step_written_out() -> None:
    implicit = plan(step("first"), step("second"))
    written = plan(step("first", depends_on=[]), step("second", depends_on=["first"]))
    assert plan_hash(implicit) == plan_hash(written)
    assert plan_hash(plan(step("first"), step("second", depends_on=[]))) != plan_hash(implicit)


def test_an_integer_and_a_float_default_of_a_number_parameter_are_the_same_number() -> None:
    as_int = plan(parameters={"ratio": {"type": "number", "default": 1}})
    as_float = plan(parameters={"ratio": {"type": "number", "default": 1.0}})
    assert plan_hash(as_int) == plan_hash(as_float)


@given(plan_documents())
def test_the_canonical_form_is_a_plan_with_the_same_hash(document: Document) -> None:
    spec = parse_plan(document, "test.yaml")
    again = parse_plan(json.loads(canonical_json(spec)), "snapshot")
    assert again == spec
    assert plan_hash(again) == plan_hash(spec)


def test_the_hash_can_be_recomputed_from_the_documented_form() -> None:
    spec = plan(step("ping", "http", url="https://ex.example/é"), description="Grüße")
    text = json.dumps(canonical_document(spec), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_json(spec) == text
    assert plan_hash(spec) == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert "é" in canonical_json(spec) and " " not in canonical_json(spec).replace("Grüße", "")
    check = step("check", "validation", sql_check=None, **{"assert": {"step": "restart", "op": "truthy"}})
    assert '"assert":{"op":"truthy","path":"","step":"restart","value":null}' in canonical_json(
        plan(step("restart"), check)
    )


# ---- any change, a new hash

Mutation = Callable[[Document, st.DataObject], bool]  # edits the explicit document; False when it cannot apply


def _forward(document: Document, data: st.DataObject) -> Document:
    return document["steps"][data.draw(st.integers(0, len(document["steps"]) - 1))]


def _cycle(options: list[Any], current: Any) -> Any:
    return options[(options.index(current) + 1) % len(options)]


def _set_top(key: str, change: Callable[[Any], Any]) -> Mutation:
    def mutate(document: Document, data: st.DataObject) -> bool:
        document[key] = change(document[key])
        return True

    return mutate


def _sla(document: Document, data: st.DataObject) -> bool:
    if document["sla_class"] is None:
        document["sla_class"] = "long"
    else:
        document["sla_class"] = _cycle(["fast", "medium", "long"], document["sla_class"])
    return True


def _estimate(document: Document, data: st.DataObject) -> bool:
    if document["estimate_s"] is None:
        document["estimate_s"] = 42.0
    elif document["sla_class"] is None:
        document["estimate_s"] = document["estimate_s"] + 1.0
    else:
        document["estimate_s"] = None
    return True


def _step_field(change: Callable[[Document], None]) -> Mutation:
    def mutate(document: Document, data: st.DataObject) -> bool:
        change(_forward(document, data))
        return True

    return mutate


def _type_specific(target: Document) -> None:
    kind = target["type"]
    if kind == "command":
        target["argv"].append("--verbose")
    elif kind == "http":
        target["expect_status"] = [*target["expect_status"], 418]
    elif kind == "sql":
        target["statement"] += " -- changed"
    elif kind == "file":
        target["destination_path"] += ".bak"
    else:
        target["sql_check"]["statement"] += " AND 1 = 1"


def _dependencies(document: Document, data: st.DataObject) -> bool:
    later = [s for s in document["steps"][1:]]
    if not later:
        return False
    target = data.draw(st.sampled_from(later))
    first = document["steps"][0]["id"]
    target["depends_on"] = [] if target["depends_on"] else [first]
    return True


def _swap_steps(document: Document, data: st.DataObject) -> bool:
    steps = document["steps"]
    if len(steps) < 2:
        return False
    i, j = data.draw(st.lists(st.integers(0, len(steps) - 1), min_size=2, max_size=2, unique=True))
    steps[i], steps[j] = steps[j], steps[i]
    return True


def _parameter(document: Document, data: st.DataObject) -> bool:
    if not document["parameters"]:
        document["parameters"]["extra"] = {"type": "string", "default": "x"}
        return True
    name = data.draw(st.sampled_from(sorted(document["parameters"])))
    param = document["parameters"][name]
    change = data.draw(st.sampled_from(["description", "default"]))
    if change == "description":
        param["description"] += "?"
    elif param["type"] == "enum":
        param["default"] = None if param["default"] is not None else param["values"][0]
    elif param["default"] is None:
        param["default"] = {"string": "abc", "integer": 50, "number": 2.5, "boolean": False}[param["type"]]
    else:
        param["default"] = None  # now required
    return True


def _rollback(document: Document, data: st.DataObject) -> bool:
    if not document["rollback_steps"]:
        return False
    document["rollback_steps"][0]["description"] += " (undo)"
    return True


MUTATIONS: dict[str, Mutation] = {
    "name": _set_top("name", lambda name: name[:-1] + ("b" if name[-1] == "a" else "a")),
    "description": _set_top("description", lambda text: text + "."),
    "tenant": _set_top("tenant", lambda tenant: "team-b" if tenant != "team-b" else "default"),
    "environment": _set_top("environment", lambda env: _cycle(["dev", "staging", "prod"], env)),
    "action_class": _set_top("action_class", lambda action: _cycle(["read", "modify", "deploy"], action)),
    "approval_level": _set_top("approval_level", lambda level: (level + 1) % 4),
    "targets": _set_top("targets", lambda targets: [*targets, "extra-host"]),
    "sla_class": _sla,
    "estimate_s": _estimate,
    "step.description": _step_field(lambda s: s.update(description=s["description"] + "!")),
    "step.retry": _step_field(lambda s: s.update(retry=not s["retry"])),
    "step.timeout_s": _step_field(lambda s: s.update(timeout_s=(s["timeout_s"] or 1.0) + 1.0)),
    "step.fields": _step_field(_type_specific),
    "step.depends_on": _dependencies,
    "step order": _swap_steps,
    "parameters": _parameter,
    "rollback_steps": _rollback,
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
@settings(max_examples=30)
@given(document=plan_documents(), data=st.data())
def test_any_single_change_gives_a_new_hash(document: Document, mutation: str, data: st.DataObject) -> None:
    original = explicit(document)
    changed = copy.deepcopy(original)
    if not MUTATIONS[mutation](changed, data):
        return
    assert changed != original
    assert hash_of(changed) != hash_of(original), mutation


# ---- structure fingerprint


def test_the_structure_ignores_what_does_not_shape_the_job() -> None:
    base = plan(step("restart"), step("check", "http"))
    varied = plan(
        step("restart", argv=["systemctl", "reload", "nginx"], description="softer", timeout_s=3),
        step("check", "http", url="https://other.example.com/ready", retry=False),
        description="changed",
        parameters={"unused": {"type": "string", "default": "x"}},
    )
    assert plan_hash(varied) != plan_hash(base)
    assert structure_fingerprint(varied) == structure_fingerprint(base)


def test_the_structure_changes_with_ids_types_edges_and_order() -> None:
    base = structure_fingerprint(plan(step("restart"), step("check", "http")))
    assert structure_fingerprint(plan(step("restart"), step("verify", "http"))) != base
    assert structure_fingerprint(plan(step("restart"), step("check", "sql"))) != base
    assert structure_fingerprint(plan(step("restart"), step("check", "http", depends_on=[]))) != base
    assert structure_fingerprint(plan(step("check", "http"), step("restart", depends_on=["check"]))) != base
