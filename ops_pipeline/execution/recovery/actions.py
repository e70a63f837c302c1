"""Rerun, skip and replan: what each changes in the ops store before (for rerun and skip) a re-execution of the
ended run from its failure continues the work.

* rerun: a continuation of the same plan version; the failed step and what follows run again;
* skip: a new plan version with the failed (or named) step in `skipped_steps`, refused when a later step needs
  its output, and at approval levels 1-3 (the plan hash changes: use replan, which asks for approval again);
* replan: a new plan version from a patch (parameters, skipped steps, retry-from step, targets), submitted as a
  new execution of that version, which waits for approval again when its level requires it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ops_pipeline.core.control_loop import PatchDiff, PatchError, PlanPatch, apply_patch, patch_diff
from ops_pipeline.core.plans.canonical import canonical_json, plan_hash, structure_fingerprint
from ops_pipeline.core.plans.errors import PlanError
from ops_pipeline.core.plans.loading import parse_plan
from ops_pipeline.execution.admission import AdmissionPolicy, Submission, admit
from ops_pipeline.execution.recovery.continuation import ActionRefused, check_continuable, continue_execution
from ops_pipeline.store.execution_steps import steps_of
from ops_pipeline.store.execution_tables import executions
from ops_pipeline.store.executions import Execution, execution, record_event, transition
from ops_pipeline.store.plan_versions import PlanVersion, ensure_plan_version, plan_version


@dataclass(frozen=True)
class Replanned:
    version: PlanVersion
    diff: PatchDiff
    submitted: Execution | None


def failed_step(conn: sa.Connection, current: Execution) -> str | None:
    return next((s.step_id for s in steps_of(conn, current.id) if s.status in ("failed", "timeout")), None)


def new_version(
    conn: sa.Connection, current: Execution, patch: PlanPatch, origin: str, now: datetime
) -> tuple[PlanVersion, PatchDiff]:
    """The plan version `patch` makes of the execution's version (registered once per content)."""
    before = json.loads(current.snapshot)
    try:
        after = apply_patch(before, patch)
        plan = parse_plan(after, f"{current.plan_name} patched")
    except (PatchError, PlanError) as error:
        raise ActionRefused(f"the patch cannot apply to {current.plan_name} v{current.plan_version}: {error}") from None
    version = ensure_plan_version(
        conn, plan.name, plan_hash(plan), structure_fingerprint(plan), canonical_json(plan), origin, now
    )
    return version, patch_diff(before, json.loads(version.snapshot))


def start_continuation(
    engine: sa.Engine, execution_id: str, *, actor: str, reason: str, now: datetime, skip: str | None = None
) -> Execution:
    """Rerun (skip None) or skip: the continuation execution, running, before its re-execution is launched."""
    with engine.begin() as conn:
        ended = execution(conn, execution_id)
        check_continuable(ended)
        if skip is None:
            version = plan_version(conn, ended.plan_name, ended.plan_version)
            if version is None:
                raise ActionRefused(f"plan {ended.plan_name} has no version {ended.plan_version}")
        else:
            if ended.approval_level > 0:
                raise ActionRefused(
                    f"skipping changes the plan hash; at approval level {ended.approval_level} replan with "
                    "skip_steps instead, which asks for the approval again"
                )
            step = skip or failed_step(conn, ended) or ""
            patch = PlanPatch(skip_steps=[step], reason=reason or f"skip {step}")
            version, _ = new_version(conn, ended, patch, f"skip of {step} in execution {ended.id} by {actor}", now)
        continuation = continue_execution(conn, ended, version, actor=actor, reason=reason, now=now)
        transition(conn, continuation.id, "running", actor=actor, now=now, reason=reason, started_at=now)
    return continuation


def launched(engine: sa.Engine, continuation_id: str, run_id: str, actor: str, now: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(executions.update().where(executions.c.id == continuation_id).values(last_run_id=run_id))
        record_event(conn, continuation_id, "reexecuted", actor, now=now, run_id=run_id, reason="from the failure")


def launch_failed(engine: sa.Engine, continuation_id: str, error: str, actor: str, now: datetime) -> None:
    with engine.begin() as conn:
        transition(conn, continuation_id, "failed", actor=actor, now=now, reason=error, finished_at=now)


def replan(
    engine: sa.Engine,
    execution_id: str,
    patch: PlanPatch,
    *,
    actor: str,
    now: datetime,
    submit: bool,
    admission: AdmissionPolicy,
) -> Replanned:
    with engine.begin() as conn:
        current = execution(conn, execution_id)
        origin = f"replan of execution {current.id} by {actor}: {patch.reason}"
        version, diff = new_version(conn, current, patch, origin, now)
    if not submit:
        return Replanned(version, diff, None)
    plan = parse_plan(json.loads(version.snapshot), f"{version.plan_name} v{version.version}")
    # Patched parameters take their new defaults; the others keep the values the execution ran with.
    parameters = {k: v for k, v in current.parameters.items() if k not in patch.parameters}
    submission = Submission(
        plan=plan,
        origin=origin,
        actor=actor,
        parameters=parameters,
        tenant=current.tenant,
        idempotency_key=f"replan:{current.id}:v{version.version}",
        version=version.version,
        expected_structure=version.structure,
    )
    return Replanned(version, diff, admit(engine, submission, admission, now).execution)
