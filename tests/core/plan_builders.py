"""Plans for the plan tests: small valid plans to vary, and a hypothesis strategy of random valid plans."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

from ops_pipeline.core.plans.canonical import canonical_document
from ops_pipeline.core.plans.loading import parse_plan
from ops_pipeline.core.plans.spec import PlanSpec

STEP_DEFAULTS: dict[str, dict[str, Any]] = {
    "command": {"argv": ["systemctl", "restart", "nginx"], "target": "web1"},
    "http": {"url": "https://status.example.com/health"},
    "sql": {"source": "demo", "statement": "SELECT COUNT(*) FROM orders"},
    "file": {"mode": "copy", "source_path": "/srv/app/config.yaml", "destination_path": "/srv/app/config.bak"},
    "validation": {"sql_check": {"source": "demo", "statement": "SELECT 1"}},
}


def step(step_id: str, step_type: str = "command", **fields: Any) -> dict[str, Any]:
    return {"id": step_id, "type": step_type, **copy.deepcopy(STEP_DEFAULTS[step_type]), **fields}


def plan_dict(*steps: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A valid plan document (a restart of web1 unless steps are given), with `fields` replacing top-level keys."""
    return {
        "name": "restart_web",
        "environment": "dev",
        "action_class": "modify",
        "sla_class": "fast",
        "targets": ["web1"],
        "steps": list(steps) or [step("restart")],
        **fields,
    }


def plan(*steps: dict[str, Any], **fields: Any) -> PlanSpec:
    return parse_plan(plan_dict(*steps, **fields), "test.yaml")


# ---- random valid plans

identifiers = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)
# Printable text without braces (no accidental templates), including non-ASCII letters.
free_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="{}"), max_size=20)
TARGET_POOL = ("web1", "db1", "app-2.example.com")

PARAMETER_POOL: tuple[dict[str, Any], ...] = (
    {"type": "string", "default": "nginx", "pattern": "[a-z]+"},
    {"type": "integer", "default": 10, "min": 1, "max": 100},
    {"type": "number", "default": 0.5},
    {"type": "boolean", "default": True},
    {"type": "enum", "values": ["blue", "green"], "default": "blue"},
    {"type": "string"},
)


@st.composite
def _step(draw: st.DrawFn, step_id: str, earlier: list[str], targets: list[str], params: list[str]) -> dict[str, Any]:
    step_type = draw(st.sampled_from(sorted(STEP_DEFAULTS)))
    fields: dict[str, Any] = {"id": step_id, "type": step_type}
    reference = f"{{{{ params.{draw(st.sampled_from(params))} }}}}" if bool(params) and draw(st.booleans()) else "x"
    if step_type == "command":
        fields |= {"argv": ["echo", draw(free_text), reference], "target": draw(st.sampled_from(targets))}
    elif step_type == "http":
        fields |= {"url": f"https://api.example.com/{draw(identifiers)}", "headers": {"X-Value": reference}}
        fields["method"] = draw(st.sampled_from(["GET", "POST", "DELETE"]))
    elif step_type == "sql":
        fields |= {"source": "demo", "statement": "SELECT * FROM orders WHERE status = :status"}
        fields["params"] = {"status": reference}
    elif step_type == "file":
        fields |= {"mode": "copy", "source_path": f"/data/{draw(identifiers)}", "destination_path": reference}
    else:
        fields["sql_check"] = {"source": "demo", "statement": f"SELECT {draw(st.integers(0, 9))} = 1"}
    if draw(st.booleans()):
        fields["description"] = draw(free_text)
    if bool(earlier) and draw(st.booleans()):  # otherwise the previous step, by default
        fields["depends_on"] = draw(st.lists(st.sampled_from(earlier), unique=True, max_size=2))
    if draw(st.booleans()):
        fields["timeout_s"] = draw(st.floats(min_value=0.5, max_value=600, allow_nan=False))
    if draw(st.booleans()):
        fields["retry"] = draw(st.booleans())
    return fields


@st.composite
def plan_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A random valid plan document, sparse: optional keys are often left out."""
    targets = draw(st.lists(st.sampled_from(TARGET_POOL), min_size=1, max_size=3, unique=True))
    chosen = draw(st.lists(st.sampled_from(range(len(PARAMETER_POOL))), unique=True, max_size=3))
    parameters = {f"p{index}": dict(PARAMETER_POOL[index]) for index in chosen}
    steps: list[dict[str, Any]] = []
    for index in range(draw(st.integers(1, 5))):
        earlier = [s["id"] for s in steps]
        steps.append(draw(_step(f"s{index}", earlier, targets, list(parameters))))
    document: dict[str, Any] = {
        "name": draw(identifiers),
        "environment": draw(st.sampled_from(["dev", "staging", "prod"])),
        "action_class": draw(st.sampled_from(["read", "modify", "deploy"])),
        "targets": targets,
        "steps": steps,
    }
    if draw(st.booleans()):
        document["sla_class"] = draw(st.sampled_from(["fast", "medium", "long"]))
    if "sla_class" not in document or draw(st.booleans()):
        document["estimate_s"] = draw(st.floats(min_value=0.1, max_value=86_400, allow_nan=False))
    for key, strategy in (
        ("description", free_text),
        ("tenant", st.sampled_from(["default", "team-a"])),
        ("approval_level", st.integers(0, 3)),
    ):
        if draw(st.booleans()):
            document[key] = draw(strategy)
    if parameters:
        document["parameters"] = parameters
    if draw(st.booleans()):
        steps[0]["rollback"] = "undo_first"
        document["rollback_steps"] = [{"id": "undo_first", "type": "http", "url": "https://api.example.com/undo"}]
    return document


def explicit(document: dict[str, Any]) -> dict[str, Any]:
    """The same plan with every default written out."""
    return canonical_document(parse_plan(document, "test.yaml"))
