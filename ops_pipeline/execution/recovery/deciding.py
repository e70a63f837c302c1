"""One trigger through the loop: read its history from the ops store, decide by the pure policy, record the
decision as a replan event (and an open escalation row when it escalates), all in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ops_pipeline.core.control_loop import ControlLoopPolicy, Decision, Trigger, decide, rules_for
from ops_pipeline.store.control_loop import loop_history, record_decision, root_of, start_action
from ops_pipeline.store.executions import Execution

LOOP_ACTOR = "control-loop"


@dataclass(frozen=True)
class Verdict:
    trigger: Trigger
    decision: Decision
    execution: Execution | None
    event_id: int | None  # None: nothing recorded (the trigger was already handled)


def decide_trigger(
    engine: sa.Engine, policy: ControlLoopPolicy, trigger: Trigger, current: Execution | None, now: datetime
) -> Verdict:
    rules = rules_for(policy, trigger.subject, trigger.tags)
    with engine.begin() as conn:
        root = root_of(conn, current.id) if current else None
        history = loop_history(conn, trigger, root, rules.replan_window_s)
        decision = decide(trigger, rules, history, now)
        if decision.rule == "history.already_handled":
            return Verdict(trigger, decision, current, None)
        event_id = record_decision(
            conn,
            trigger,
            decision,
            execution_id=current.id if current else None,
            root_execution_id=root,
            plan_version=current.plan_version if current else None,
            now=now,
        )
        if decision.escalate and current is not None:
            # Open for a person: the failed run is in the dead-letter queue (the dead_letters sensor records every
            # execution that failed for good) and the alert shows on the replan_events asset.
            start_action(
                conn,
                "escalate",
                current.id,
                actor=LOOP_ACTOR,
                trigger_kind=trigger.kind,
                fingerprint=trigger.fingerprint,
                replan_event_id=event_id,
                run_id=trigger.run_id,
                now=now,
                status="open",
            )
    return Verdict(trigger, decision, current, event_id)


def manual_replan_event(conn: sa.Connection, current: Execution, actor: str, reason: str, now: datetime) -> int:
    """A replan somebody asked for is a replan event too: it shows in `replans list` and counts toward the cap."""
    trigger = Trigger(
        kind="manual",
        subject=current.plan_name,
        occurred_at=now,
        fingerprint=f"manual|replan|{current.id}|{now.isoformat()}",
        execution_id=current.id,
        requested_action="replan",
        detail=reason,
    )
    rules_count = loop_history(conn, trigger, None, 86400).replan_times
    decision = Decision(
        action="replan",
        reason=f"{actor} asked for a replan: {reason or 'no reason given'}",
        rule="trigger.requested_action",
        replan_count=len(rules_count) + 1,
        cooling_deadline=None,
        escalate=False,
        run_key="",
    )
    return record_decision(
        conn,
        trigger,
        decision,
        execution_id=current.id,
        root_execution_id=current.id,
        plan_version=current.plan_version,
        now=now,
    )
