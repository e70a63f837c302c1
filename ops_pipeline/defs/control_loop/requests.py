"""A decision of the loop as a run request of the recovery job that carries it out: the job's flat launchpad
form filled in, and the decision's run key (subject, action, trigger and replan count), so a repeated tick
launches nothing twice and a later replan gets a new key."""

from __future__ import annotations

import json
from typing import Any

import dagster as dg

from ops_pipeline.core.control_loop import serialize_trigger
from ops_pipeline.defs.control_loop.jobs import ACTION_JOBS
from ops_pipeline.defs.execution import tags
from ops_pipeline.execution.recovery.deciding import LOOP_ACTOR, Verdict
from ops_pipeline.resources.control_loop import ControlLoopResource


def _action_fields(verdict: Verdict, control_loop: ControlLoopResource) -> dict[str, Any]:
    action, trigger = verdict.decision.action, verdict.trigger
    if action == "skip":
        return {"step": trigger.step_id or ""}
    if action != "replan":
        return {}
    patch = control_loop.replan_patch(trigger.subject, trigger.step_id)
    if patch is None:
        return {}  # the replan job refuses with the reason: the loop has nothing to change
    return {
        "parameters_json": json.dumps(patch.parameters),
        "skip_steps": list(patch.skip_steps),
        "retry_from": patch.retry_from or "",
        "targets_add": list(patch.targets_add),
        "targets_remove": list(patch.targets_remove),
    }


def recovery_request(verdict: Verdict, control_loop: ControlLoopResource) -> dg.RunRequest | None:
    """The run request of a decision that launches a recovery job; None for hold, ignore and escalate."""
    decision, current = verdict.decision, verdict.execution
    if decision.action not in ACTION_JOBS or current is None:
        return None
    config = {
        "execution_id": current.id,
        "actor": LOOP_ACTOR,
        "reason": decision.reason[:2000],
        "trigger_json": json.dumps(serialize_trigger(verdict.trigger)),
        "replan_event_id": verdict.event_id or 0,
        **_action_fields(verdict, control_loop),
    }
    return dg.RunRequest(
        job_name=ACTION_JOBS[decision.action].name,
        run_key=decision.run_key,
        run_config=config,
        tags={tags.ACTOR: LOOP_ACTOR, "ops/trigger": verdict.trigger.kind, "ops/recovery_of": current.id},
    )


def escalation_alert(verdict: Verdict) -> dg.AssetObservation:
    """The alert of an escalation: an observation on the replan events asset, shown in the UI."""
    return dg.AssetObservation(
        asset_key="replan_events",
        metadata={
            "alert": "escalation",
            "subject": verdict.trigger.subject,
            "execution_id": verdict.execution.id if verdict.execution else "",
            "trigger": verdict.trigger.kind,
            "reason": verdict.decision.reason,
            "replan_event": verdict.event_id or 0,
        },
    )
