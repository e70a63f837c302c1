"""Plans for execution tests, written as a user writes them."""

from __future__ import annotations

from typing import Any

from ops_pipeline.core.plans.loading import parse_plan
from ops_pipeline.core.plans.spec import PlanSpec


def plan(level: int = 0, name: str = "restart_api", tenant: str = "default", **overrides: Any) -> PlanSpec:
    data: dict[str, Any] = {
        "name": name,
        "tenant": tenant,
        "environment": "staging",
        "action_class": "modify",
        "sla_class": "fast",
        "approval_level": level,
        "targets": ["web1"],
        "parameters": {"service": {"type": "string", "default": "api"}, "limit": {"type": "integer", "default": 5}},
        "steps": [
            {"id": "stop", "type": "command", "target": "web1", "argv": ["echo", "stop", "{{ params.service }}"]},
            {"id": "start", "type": "command", "target": "web1", "argv": ["echo", "start"]},
            {
                "id": "check",
                "type": "validation",
                "assert": {"step": "start", "path": "exit_code", "op": "eq", "value": 0},
            },
        ],
        **overrides,
    }
    return parse_plan(data, f"{name}.yaml")
