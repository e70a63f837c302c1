"""Role-based access checked before any side effect, and every decision recorded with the rule that made it:
submitting a plan, approving or rejecting, and each step touching its target, source or host.

Actors are `user:<id>` (a bare name means a user) or `sensor:<name>`; the pure rules are
`core.execution.rbac` (any matching deny wins, else any matching allow, else the environment's default: deny
in prod)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

import sqlalchemy as sa

from ops_pipeline.core.execution.rbac import Decision, RbacPolicy, decide
from ops_pipeline.core.plans.spec import AnyStep, PlanSpec
from ops_pipeline.store.execution_tables import access_decisions
from ops_pipeline.store.executions import Execution


class AccessDenied(PermissionError):
    def __init__(self, decision: Decision) -> None:
        super().__init__(f"access denied: {decision.reason}")
        self.decision = decision


def actor_id(actor: str) -> str:
    """`user:alice` as written; a bare `alice` means the user alice."""
    text = actor.strip()
    return text if ":" in text else f"user:{text}"


def step_resources(step: AnyStep) -> list[str]:
    """What a step touches, as RBAC resources: `target:<id>`, `source:<name>`, `http:<host>`."""
    resources = []
    target = getattr(step, "target", None)
    if target:
        resources.append(f"target:{target}")
    source = getattr(step, "source", None) or getattr(getattr(step, "sql_check", None), "source", None)
    if source:
        resources.append(f"source:{source}")
    url = getattr(step, "url", None)
    if url:
        resources.append(f"http:{urlsplit(url).hostname or url}")
    return resources


def check_submit(
    engine: sa.Engine, policy: RbacPolicy, plan: PlanSpec, *, tenant: str | None, actor: str, now: datetime
) -> None:
    """May this actor submit this plan (resource `plan:<name>`) in the plan's environment?"""
    check(
        engine,
        policy,
        tenant=tenant or plan.tenant,
        actor=actor,
        action="submit",
        resources=[f"plan:{plan.name}"],
        environment=plan.environment,
        now=now,
    )


def check(
    engine: sa.Engine,
    policy: RbacPolicy,
    *,
    tenant: str,
    actor: str,
    action: str,
    resources: list[str],
    environment: str,
    now: datetime,
    execution_id: str | None = None,
) -> None:
    """Decide each resource, record every decision, and raise AccessDenied at the first refusal."""
    decisions = [
        (
            resource,
            decide(
                policy, tenant=tenant, actor=actor_id(actor), resource=resource, action=action, environment=environment
            ),
        )
        for resource in resources
    ]
    with engine.begin() as conn:
        conn.execute(
            access_decisions.insert(),
            [
                {
                    "at": now,
                    "tenant": tenant,
                    "actor": actor_id(actor),
                    "action": action,
                    "resource": resource,
                    "environment": environment,
                    "allowed": d.allowed,
                    "rule": d.rule,
                    "reason": d.reason,
                    "execution_id": execution_id,
                }
                for resource, d in decisions
            ],
        )
    refused = next((d for _, d in decisions if not d.allowed), None)
    if refused is not None:
        raise AccessDenied(refused)


def check_on_execution(
    engine: sa.Engine, policy: RbacPolicy, current: Execution, *, actor: str, action: str, now: datetime
) -> None:
    """May this actor `action` (cancel, requeue, ...) this execution's plan (resource `plan:<name>`)?"""
    check(
        engine,
        policy,
        tenant=current.tenant,
        actor=actor,
        action=action,
        resources=[f"plan:{current.plan_name}"],
        environment=current.environment,
        now=now,
        execution_id=current.id,
    )
