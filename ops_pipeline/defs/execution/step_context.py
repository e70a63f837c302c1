"""What a plan step gets from the code location: its resources, its time budget, its access check and the
`StepContext` the step runners take (secrets resolved just in time and registered with the masker)."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import dagster as dg
import sqlalchemy as sa

from ops_pipeline.core.execution.masking import Masker
from ops_pipeline.core.plans.spec import AnyStep, PlanSpec
from ops_pipeline.execution.access import AccessDenied, check, step_resources
from ops_pipeline.execution.steps import StepContext, StepServices, registering_resolver
from ops_pipeline.resources.ops_store import OpsStoreResource
from ops_pipeline.resources.plans import PlansResource
from ops_pipeline.resources.policies import PoliciesResource
from ops_pipeline.resources.services import AssetServiceResource, AutomationServiceResource
from ops_pipeline.resources.sources import SourcesResource
from ops_pipeline.store.executions import Execution


@dataclass(frozen=True)
class StepResources:
    KEYS = ("ops_store", "sources", "plans", "policies", "asset_service", "automation_service")

    ops_store: OpsStoreResource
    sources: SourcesResource
    plans: PlansResource
    policies: PoliciesResource
    asset_service: AssetServiceResource
    automation_service: AutomationServiceResource

    @classmethod
    def of(cls, context: dg.OpExecutionContext) -> "StepResources":
        return cls(**{key: getattr(context.resources, key) for key in cls.KEYS})


def budget_s(
    current: Execution, plan: PlanSpec, step_id: str, now: datetime, policies: PoliciesResource, rollback: bool = False
) -> float:
    """The step timeout (the step's own, else the matrix's), cut to what is left before the execution's deadline.
    A rollback always gets its full step timeout: it runs because something went wrong, deadlines included."""
    policy = policies.matrix().policy(current.sla_class, current.action_class)
    step_timeout = plan.step(step_id).timeout_s or policy.step_timeout_s
    if rollback or current.deadline_at is None:
        return step_timeout
    return min(step_timeout, (current.deadline_at - now).total_seconds())


def access_refusal(
    engine: sa.Engine, current: Execution, step: AnyStep, policies: PoliciesResource, now: datetime
) -> str | None:
    """Why the execution's submitter may not have this step touch what it touches, or None."""
    resources = step_resources(step)
    if not resources:
        return None
    try:
        check(
            engine,
            policies.rbac_policy(),
            tenant=current.tenant,
            actor=current.submitted_by,
            action="execute",
            resources=resources,
            environment=current.environment,
            now=now,
            execution_id=current.id,
        )
    except AccessDenied as denied:
        return str(denied)
    return None


def context_for(
    current: Execution,
    step: AnyStep,
    outputs: Mapping[str, object],
    budget: float,
    masker: Masker,
    resources: StepResources,
    log: Callable[[str], Any],
) -> StepContext:
    resolve = registering_resolver(masker)
    assets = resources.asset_service.client(resolve)
    return StepContext(
        execution_id=current.id,
        step_id=step.id,
        parameters=current.parameters,
        outputs=outputs,
        budget_s=budget,
        masker=masker,
        resolve_secret=resolve,
        connect_source=lambda name: resources.sources.session(name, writable=True),
        services=StepServices(automation=resources.automation_service.client(assets, resolve), assets=assets),
        log=lambda message: log(masker.mask(message)),
    )
