"""Admitting an execution: the plan version it runs, its bound parameters, its idempotency key, its steps and
its first approval request, written in one transaction.

A submission within the idempotency window whose key (given by the caller, or computed from tenant, plan hash,
targets and parameters) is already taken returns the execution that holds it and writes nothing, also when
submitters race: the key is claimed by one `INSERT ... ON CONFLICT ... WHERE expired RETURNING` statement.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ops_pipeline.core.execution.approvals import expires_at
from ops_pipeline.core.execution.idempotency import caller_key, idempotency_key
from ops_pipeline.core.execution.states import StepStatus, initial_status
from ops_pipeline.core.plans.canonical import canonical_json, plan_hash, structure_fingerprint
from ops_pipeline.core.plans.errors import PlanError
from ops_pipeline.core.plans.graph import forward_order
from ops_pipeline.core.plans.loading import parse_plan
from ops_pipeline.core.plans.parameters import bind_parameters
from ops_pipeline.core.plans.spec import AnyStep, PlanSpec
from ops_pipeline.store.approvals import insert_requests
from ops_pipeline.store.execution_steps import insert_steps
from ops_pipeline.store.executions import Execution, claim_idempotency_key, execution, insert_execution, record_events
from ops_pipeline.store.plan_versions import PlanVersion, ensure_plan_version, plan_version


@dataclass(frozen=True)
class Submission:
    plan: PlanSpec  # the plan as loaded (its file), used when no version is named
    origin: str  # where that plan came from (its file)
    actor: str
    parameters: Mapping[str, object]
    tenant: str | None = None  # None: the plan's tenant
    idempotency_key: str | None = None  # None: computed from tenant, plan hash, targets and parameters
    version: int | None = None  # None: the plan as loaded, registered as a version if new
    expected_structure: str | None = None  # refuse a version whose job graph differs from this one
    run_id: str | None = None  # the Dagster run that submitted it, if any


@dataclass(frozen=True)
class Admission:
    execution: Execution
    duplicate: bool


@dataclass(frozen=True)
class AdmissionPolicy:
    idempotency_window_s: int = 86400
    approval_expiry_s: Mapping[int, float] | None = None


def admit(engine: sa.Engine, submission: Submission, policy: AdmissionPolicy, now: datetime) -> Admission:
    """Admit `submission`, or return the execution that already holds its idempotency key."""
    tenant = submission.tenant or submission.plan.tenant
    if tenant != submission.plan.tenant:
        raise PlanError(f"plan {submission.plan.name!r} belongs to tenant {submission.plan.tenant!r}, not {tenant!r}")
    with engine.begin() as conn:
        version = _version(conn, submission, now)
        plan = submission.plan if submission.version is None else _stored_plan(version)
        parameters = bind_parameters(plan, submission.parameters)
        admission = _admit(conn, submission, policy, now, tenant, version, plan, parameters)
    _registered[(str(engine.url), version.plan_name, version.plan_hash)] = version  # committed: it exists now
    return admission


# Plan versions are immutable once committed: each process looks one up once.
_registered: dict[tuple[str, str, str], PlanVersion] = {}


def _admit(
    conn: sa.Connection,
    submission: Submission,
    policy: AdmissionPolicy,
    now: datetime,
    tenant: str,
    version: PlanVersion,
    plan: PlanSpec,
    parameters: dict[str, object],
) -> Admission:
    key = (
        caller_key(tenant, submission.idempotency_key)
        if submission.idempotency_key
        else idempotency_key(tenant, version.plan_hash, plan.targets, parameters)
    )
    new_id = uuid.uuid4().hex
    expiry = now + timedelta(seconds=policy.idempotency_window_s)
    holder = claim_idempotency_key(conn, tenant, key, new_id, expiry, now)
    if holder != new_id:
        return Admission(execution(conn, holder, tenant), duplicate=True)
    admitted = _execution(new_id, tenant, plan, version, parameters, key, submission, now)
    events = [insert_execution(conn, admitted)]
    insert_steps(conn, new_id, _step_rows(plan))
    events += _request_first_approvals(conn, admitted, plan, policy, now)
    record_events(conn, events)
    return Admission(admitted, duplicate=False)


def _version(conn: sa.Connection, submission: Submission, now: datetime) -> PlanVersion:
    name = submission.plan.name
    if submission.version is None:
        plan = submission.plan
        digest = plan_hash(plan)
        known = _registered.get((str(conn.engine.url), name, digest))
        found = known or ensure_plan_version(
            conn, name, digest, structure_fingerprint(plan), canonical_json(plan), submission.origin, now
        )
    else:
        stored = plan_version(conn, name, submission.version)
        if stored is None:
            raise PlanError(f"plan {name!r} has no version {submission.version}")
        found = stored
    if submission.expected_structure is not None and found.structure != submission.expected_structure:
        raise PlanError(
            f"plan {name!r} version {found.version} has other steps or dependencies than the loaded job; "
            "reload the code location to run it"
        )
    return found


def _stored_plan(version: PlanVersion) -> PlanSpec:
    return parse_plan(json.loads(version.snapshot), f"plan {version.plan_name} v{version.version}")


def _step_rows(plan: PlanSpec) -> list[tuple[str, str, StepStatus]]:
    """(id, type, first status) of every step, forward steps in run order, then the rollback steps. At level 3
    the steps that need no other wait for their approval from the start."""
    by_id = {step.id: step for step in plan.steps}
    forward: list[AnyStep] = [by_id[step_id] for step_id in forward_order(plan)]
    first_approved = plan.approval_level == 3
    return [
        (s.id, s.type, "awaiting_approval" if first_approved and s in plan.steps and not s.depends_on else "pending")
        for s in (*forward, *plan.rollback_steps)
    ]


def _execution(
    execution_id: str,
    tenant: str,
    plan: PlanSpec,
    version: PlanVersion,
    parameters: dict[str, object],
    key: str,
    submission: Submission,
    now: datetime,
) -> Execution:
    return Execution(
        id=execution_id,
        tenant=tenant,
        plan_name=plan.name,
        plan_version=version.version,
        plan_hash=version.plan_hash,
        snapshot=version.snapshot,
        status=initial_status(plan.approval_level),
        approval_level=plan.approval_level,
        environment=plan.environment,
        action_class=plan.action_class,
        sla_class=plan.effective_sla,
        targets=list(plan.targets),
        parameters=parameters,
        idempotency_key=key,
        submitted_by=submission.actor,
        submitted_at=now,
        started_at=None,
        finished_at=None,
        deadline_at=None,
        root_run_id=None,
        last_run_id=submission.run_id,
        reason=None,
        updated_at=now,
    )


def _request_first_approvals(
    conn: sa.Connection, admitted: Execution, plan: PlanSpec, policy: AdmissionPolicy, now: datetime
) -> list[dict[str, Any]]:
    level = plan.approval_level
    if level == 0:
        return []
    until = expires_at(level, now, policy.approval_expiry_s)
    # Level 3 approves steps, starting with those that need no other; levels 1 and 2 approve the execution.
    steps: list[str | None] = [s.id for s in plan.steps if not s.depends_on] if level == 3 else [None]
    return insert_requests(conn, admitted.id, level, admitted.plan_hash, steps, admitted.submitted_by, now, until)
