"""The launchpad form of a plan job: flat and typed (version, tenant, idempotency key, actor and one field per
plan parameter; enums are dropdowns), mapped onto the config of the job's `preflight` op."""

import enum
import json
from typing import Any

import dagster as dg
import pydantic

from ops_pipeline.core.plans.spec import ParameterSpec, PlanSpec

PYTHON_TYPES: dict[str, type] = {"string": str, "integer": int, "number": float, "boolean": bool}


class PreflightConfig(dg.Config):
    """What `preflight` admits: the plan version, who asks, for which tenant, with which parameters."""

    version: int = pydantic.Field(default=0, description="plan version to run; 0: the plan file as loaded")
    tenant: str = pydantic.Field(default="", description="the plan's tenant")
    idempotency_key: str = pydantic.Field(default="", description="empty: derived from plan, targets, parameters")
    actor: str = pydantic.Field(default="", description="who submits (default: the run's ops/actor tag)")
    parameters_json: str = pydantic.Field(default="{}", description="the plan's parameters as a JSON object")


def _dropdown(name: str, values: list[str]) -> Any:
    return enum.Enum(name, {value: value for value in values})


def _parameter_field(name: str, spec: ParameterSpec) -> tuple[Any, Any]:
    annotation: Any
    default: Any = spec.default if spec.default is not None else ...
    if spec.type == "enum":  # a dropdown in the launchpad
        annotation = _dropdown(f"{name}_values", spec.values or [])
        if spec.default is not None:
            default = annotation(spec.default)
    else:
        annotation = PYTHON_TYPES[spec.type]
    return annotation, pydantic.Field(default=default, description=spec.description or f"{spec.type} parameter")


def launch_form(plan: PlanSpec) -> type[dg.Config]:
    fields: dict[str, Any] = {
        "version": (int, pydantic.Field(default=0, description="plan version; 0: the plan file as loaded")),
        "tenant": (str, pydantic.Field(default=plan.tenant, description="tenant the execution belongs to")),
        "idempotency_key": (str, pydantic.Field(default="", description="empty: derived from the submission")),
        "actor": (str, pydantic.Field(default="", description="who submits (default: the run's ops/actor tag)")),
        **{name: _parameter_field(name, spec) for name, spec in plan.parameters.items()},
    }
    return pydantic.create_model(f"{plan.name}_launch", __base__=dg.Config, **fields)


def launch_mapping(plan: PlanSpec) -> dg.ConfigMapping:
    form = launch_form(plan)

    @dg.config_mapping(config_schema=form.to_config_schema())  # type: ignore[call-overload]
    def to_preflight(values: dict[str, Any]) -> dict[str, Any]:
        parameters = {name: _plain(values[name]) for name in plan.parameters if name in values}
        config = {
            "version": values.get("version", 0),
            "tenant": values.get("tenant", plan.tenant),
            "idempotency_key": values.get("idempotency_key", ""),
            "actor": values.get("actor", ""),
            "parameters_json": json.dumps(parameters, sort_keys=True),
        }
        return {"ops": {"preflight": {"config": config}}}

    return to_preflight


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def launch_values(plan: PlanSpec, version: int, tenant: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """The form filled in for an admitted execution (the approvals sensor and resumptions launch with it)."""
    return {"version": version, "tenant": tenant, **{k: v for k, v in parameters.items() if k in plan.parameters}}
