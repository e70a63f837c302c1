"""The control loop's rows in the ops store: its decisions (replan events), the history a decision reads,
recovery actions with their actor, trigger and outcome, and the subjects where the loop stopped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ops_pipeline.core.control_loop import Decision, LoopHistory, Trigger, serialize_trigger
from ops_pipeline.store.control_loop_tables import control_loop_stops, recovery_actions, replan_events

# Rerun and skip continue an execution: its continuation belongs to the same chain for automatic retries.
CONTINUING_ACTIONS = ("rerun", "skip")


@dataclass(frozen=True)
class ReplanEvent:
    id: int
    at: datetime
    subject: str
    execution_id: str | None
    root_execution_id: str | None
    trigger_kind: str
    fingerprint: str
    trigger: dict[str, Any]
    decision: str
    reason: str
    rule: str
    replan_count: int
    cooling_deadline: datetime | None
    escalated: bool
    run_key: str
    settled_at: datetime | None
    plan_version_before: int | None
    plan_version_after: int | None
    diff: dict[str, Any] | None
    diff_markdown: str | None
    outcome: str | None


@dataclass(frozen=True)
class RecoveryAction:
    id: int
    action: str
    execution_id: str
    actor: str
    trigger_kind: str
    trigger_fingerprint: str | None
    replan_event_id: int | None
    run_id: str | None
    status: str
    outcome: str | None
    root_execution_id: str
    result_execution_id: str | None
    result_plan_version: int | None
    details: dict[str, Any] | None
    started_at: datetime
    finished_at: datetime | None


def root_of(conn: sa.Connection, execution_id: str) -> str:
    """The first execution of the rerun chain `execution_id` belongs to (itself when it continues none)."""
    root = conn.execute(
        sa.select(recovery_actions.c.root_execution_id)
        .where(
            recovery_actions.c.result_execution_id == execution_id,
            recovery_actions.c.action.in_(CONTINUING_ACTIONS),
        )
        .limit(1)
    ).scalar()
    return str(root) if root else execution_id


def loop_history(conn: sa.Connection, trigger: Trigger, root_execution_id: str | None, window_s: int) -> LoopHistory:
    """What the store knows that bears on deciding `trigger`: replans of its subject in the window, automatic
    reruns of its execution chain, whether the trigger was handled, and whether the loop stopped."""
    window_start = trigger.occurred_at - timedelta(seconds=window_s)
    replans = conn.execute(
        sa.select(replan_events.c.at).where(
            replan_events.c.subject == trigger.subject,
            replan_events.c.decision == "replan",
            replan_events.c.at > window_start,
        )
    ).scalars()
    reruns = 0
    if root_execution_id is not None:
        reruns = conn.execute(
            sa.select(sa.func.count()).where(
                replan_events.c.root_execution_id == root_execution_id, replan_events.c.decision == "rerun"
            )
        ).scalar_one()
    handled = conn.execute(
        sa.select(replan_events.c.id)
        .where(replan_events.c.fingerprint == trigger.fingerprint, replan_events.c.decision != "hold")
        .limit(1)
    ).first()
    stopped = conn.execute(
        sa.select(control_loop_stops.c.stopped_at).where(control_loop_stops.c.subject == trigger.subject)
    ).scalar()
    return LoopHistory(
        replan_times=tuple(replans), auto_retries=reruns, already_handled=handled is not None, stopped_at=stopped
    )


def record_decision(
    conn: sa.Connection,
    trigger: Trigger,
    decision: Decision,
    *,
    execution_id: str | None,
    root_execution_id: str | None,
    plan_version: int | None,
    now: datetime,
) -> int:
    """Store the decision (settling any hold of the same trigger); stop the loop for the subject at its cap."""
    conn.execute(
        replan_events.update()
        .where(replan_events.c.fingerprint == trigger.fingerprint, replan_events.c.settled_at.is_(None))
        .values(settled_at=now)
    )
    event_id = conn.execute(
        replan_events.insert().values(
            at=now,
            subject=trigger.subject,
            execution_id=execution_id,
            root_execution_id=root_execution_id,
            trigger_kind=trigger.kind,
            fingerprint=trigger.fingerprint,
            trigger=serialize_trigger(trigger),
            decision=decision.action,
            reason=decision.reason,
            rule=decision.rule,
            replan_count=decision.replan_count,
            cooling_deadline=decision.cooling_deadline,
            escalated=decision.escalate,
            run_key=decision.run_key,
            settled_at=None if decision.action == "hold" else now,
            plan_version_before=plan_version,
        )
    ).inserted_primary_key
    event_id = int(event_id[0]) if event_id else 0
    if decision.stops_loop:
        conn.execute(
            control_loop_stops.insert().values(
                subject=trigger.subject, stopped_at=now, reason=decision.reason, replan_event_id=event_id
            )
        )
    return event_id


def due_holds(conn: sa.Connection, now: datetime, limit: int = 100) -> list[ReplanEvent]:
    """Held triggers whose cooling period is over: a tick decides them again."""
    query = (
        sa.select(replan_events)
        .where(
            replan_events.c.decision == "hold",
            replan_events.c.settled_at.is_(None),
            replan_events.c.cooling_deadline <= now,
        )
        .order_by(replan_events.c.id)
        .limit(limit)
    )
    return [_event(row) for row in conn.execute(query)]


def record_replan_result(
    conn: sa.Connection,
    event_id: int,
    *,
    outcome: str,
    version_after: int | None = None,
    diff: dict[str, Any] | None = None,
    diff_markdown: str | None = None,
) -> None:
    values: dict[str, Any] = {"outcome": outcome}
    if version_after is not None:
        values.update(plan_version_after=version_after, diff=diff, diff_markdown=diff_markdown)
    conn.execute(replan_events.update().where(replan_events.c.id == event_id).values(**values))


def resume_loop(conn: sa.Connection, subject: str) -> bool:
    """Let the loop act on `subject` again after it stopped at its cap; False when it had not stopped."""
    return bool(conn.execute(control_loop_stops.delete().where(control_loop_stops.c.subject == subject)).rowcount)


def start_action(
    conn: sa.Connection,
    action: str,
    execution_id: str,
    *,
    actor: str,
    trigger_kind: str,
    fingerprint: str | None,
    replan_event_id: int | None,
    run_id: str | None,
    now: datetime,
    status: str = "running",
) -> int:
    row = {
        "action": action,
        "execution_id": execution_id,
        "actor": actor,
        "trigger_kind": trigger_kind,
        "trigger_fingerprint": fingerprint,
        "replan_event_id": replan_event_id,
        "run_id": run_id,
        "status": status,
        "root_execution_id": root_of(conn, execution_id),
        "started_at": now,
    }
    key = conn.execute(recovery_actions.insert().values(**row)).inserted_primary_key
    return int(key[0]) if key else 0


def finish_action(
    conn: sa.Connection,
    action_id: int,
    status: str,
    outcome: str,
    now: datetime,
    *,
    result_execution_id: str | None = None,
    result_plan_version: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        recovery_actions.update()
        .where(recovery_actions.c.id == action_id)
        .values(
            status=status,
            outcome=outcome,
            finished_at=now,
            result_execution_id=result_execution_id,
            result_plan_version=result_plan_version,
            details=details,
        )
    )


def replan_events_of(
    conn: sa.Connection, subject: str | None = None, decision: str | None = None, limit: int = 50
) -> list[ReplanEvent]:
    """Newest first."""
    query = sa.select(replan_events).order_by(replan_events.c.id.desc()).limit(limit)
    if subject is not None:
        query = query.where(replan_events.c.subject == subject)
    if decision is not None:
        query = query.where(replan_events.c.decision == decision)
    return [_event(row) for row in conn.execute(query)]


def replan_event(conn: sa.Connection, event_id: int) -> ReplanEvent:
    row = conn.execute(sa.select(replan_events).where(replan_events.c.id == event_id)).first()
    if row is None:
        raise LookupError(f"no replan event {event_id}")
    return _event(row)


def actions_of(conn: sa.Connection, execution_id: str | None = None, limit: int = 50) -> list[RecoveryAction]:
    """Newest first; of one execution (as the acted-on or the resulting one) when given."""
    query = sa.select(recovery_actions).order_by(recovery_actions.c.id.desc()).limit(limit)
    if execution_id is not None:
        query = query.where(
            sa.or_(
                recovery_actions.c.execution_id == execution_id,
                recovery_actions.c.result_execution_id == execution_id,
            )
        )
    return [RecoveryAction(**row._asdict()) for row in conn.execute(query)]


def _event(row: sa.Row) -> ReplanEvent:
    return ReplanEvent(**row._asdict())
