"""The ops store's tables for the control loop: every decision it made (replan events), every recovery action
anyone took (with actor, trigger and outcome), and the subjects on which the loop stopped at its replan cap."""

from __future__ import annotations

import sqlalchemy as sa

from ops_pipeline.store.metadata import UtcDateTime, metadata

ACTION_STATUSES = ("running", "succeeded", "refused", "failed", "open")

# One row per decision of the loop about one trigger: what it decided, by which policy rule, the cooling
# deadline it set and, for a replan, the diff and the plan version it produced (filled in by the replan job).
# A `hold` row stays open (settled_at null) until a later tick decides the trigger again.
replan_events = sa.Table(
    "replan_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),  # the plan (job) the trigger is about
    sa.Column("execution_id", sa.String(32)),
    sa.Column("root_execution_id", sa.String(32)),  # the first execution of a rerun chain
    sa.Column("trigger_kind", sa.String(40), nullable=False),
    sa.Column("fingerprint", sa.String(500), nullable=False),
    sa.Column("trigger", sa.JSON, nullable=False),
    sa.Column("decision", sa.String(20), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("rule", sa.String(300), nullable=False),
    sa.Column("replan_count", sa.Integer, nullable=False),
    sa.Column("cooling_deadline", UtcDateTime),
    sa.Column("escalated", sa.Boolean, nullable=False),
    sa.Column("run_key", sa.String(300), nullable=False),
    sa.Column("settled_at", UtcDateTime),
    sa.Column("plan_version_before", sa.Integer),
    sa.Column("plan_version_after", sa.Integer),
    sa.Column("diff", sa.JSON),
    sa.Column("diff_markdown", sa.Text),
    sa.Column("outcome", sa.Text),
    sa.Index(None, "subject", "at"),
    sa.Index(None, "fingerprint"),
    sa.Index(None, "root_execution_id"),
)

# Every recovery action: who (a person or the loop), why (the trigger), what happened (outcome), and what it
# produced (a continuation execution, a plan version, a debug bundle).
recovery_actions = sa.Table(
    "recovery_actions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("execution_id", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("trigger_kind", sa.String(40), nullable=False),
    sa.Column("trigger_fingerprint", sa.String(500)),
    sa.Column("replan_event_id", sa.Integer),
    sa.Column("run_id", sa.String(64)),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("outcome", sa.Text),
    sa.Column("root_execution_id", sa.String(32), nullable=False),
    sa.Column("result_execution_id", sa.String(32)),
    sa.Column("result_plan_version", sa.Integer),
    sa.Column("details", sa.JSON),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("finished_at", UtcDateTime),
    sa.CheckConstraint(f"status IN ({', '.join(repr(s) for s in ACTION_STATUSES)})", name="status"),
    sa.Index(None, "execution_id"),
    sa.Index(None, "result_execution_id"),
    sa.Index(None, "started_at"),
)

# The loop stopped for a subject when it reached the replan cap; a person resumes it by deleting the row.
control_loop_stops = sa.Table(
    "control_loop_stops",
    metadata,
    sa.Column("subject", sa.String(200), primary_key=True),
    sa.Column("stopped_at", UtcDateTime, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("replan_event_id", sa.Integer),
)
