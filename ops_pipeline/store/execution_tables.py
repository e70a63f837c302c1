"""The ops store's tables for execution plans: plan versions, executions and their audit trail, steps,
approvals and idempotency keys. They share `metadata.metadata` with the rest of the store."""

from __future__ import annotations

import sqlalchemy as sa

from ops_pipeline.core.control_loop.vocabulary import FAILURE_CLASSES
from ops_pipeline.core.execution.states import EXECUTION_STATUSES, STEP_STATUSES
from ops_pipeline.store.metadata import UtcDateTime, metadata


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


APPROVAL_STATES = ("pending", "approved", "rejected", "expired")

# Every version of every plan, immutable: the snapshot is the plan's canonical JSON, the hash its SHA-256.
plan_versions = sa.Table(
    "plan_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("plan_name", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("plan_hash", sa.String(64), nullable=False),
    sa.Column("structure", sa.String(64), nullable=False),
    sa.Column("snapshot", sa.Text, nullable=False),
    sa.Column("origin", sa.String(1000), nullable=False),  # the plan file, or the replan that produced it
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("plan_name", "version"),
    sa.UniqueConstraint("plan_name", "plan_hash"),
)

executions = sa.Table(
    "executions",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("plan_name", sa.String(64), nullable=False),
    sa.Column("plan_version", sa.Integer, nullable=False),
    sa.Column("plan_hash", sa.String(64), nullable=False),
    sa.Column("snapshot", sa.Text, nullable=False),  # the exact plan it runs, as stored in plan_versions
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("approval_level", sa.Integer, nullable=False),
    sa.Column("environment", sa.String(10), nullable=False),
    sa.Column("action_class", sa.String(10), nullable=False),
    sa.Column("sla_class", sa.String(10), nullable=False),
    sa.Column("targets", sa.JSON, nullable=False),
    sa.Column("parameters", sa.JSON, nullable=False),
    sa.Column("idempotency_key", sa.String(200), nullable=False),
    sa.Column("submitted_by", sa.String(200), nullable=False),
    sa.Column("submitted_at", UtcDateTime, nullable=False),
    sa.Column("started_at", UtcDateTime),
    sa.Column("finished_at", UtcDateTime),
    sa.Column("deadline_at", UtcDateTime),
    sa.Column("root_run_id", sa.String(64)),
    sa.Column("last_run_id", sa.String(64)),
    sa.Column("reason", sa.Text),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.CheckConstraint(_one_of("status", EXECUTION_STATUSES), name="status"),
    sa.CheckConstraint("approval_level BETWEEN 0 AND 3", name="approval_level"),
    sa.Index(None, "tenant", "submitted_at"),
    sa.Index(None, "status"),
    sa.Index(None, "plan_name", "submitted_at"),
)

# The audit trail: every status change, approval decision and step event, with who and why.
execution_events = sa.Table(
    "execution_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("execution_id", sa.String(32), sa.ForeignKey("executions.id", ondelete="CASCADE"), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("from_status", sa.String(20)),
    sa.Column("to_status", sa.String(20)),
    sa.Column("step_id", sa.String(64)),
    sa.Column("run_id", sa.String(64)),
    sa.Column("reason", sa.Text),
    sa.Index(None, "execution_id", "id"),
)

execution_steps = sa.Table(
    "execution_steps",
    metadata,
    sa.Column("execution_id", sa.String(32), sa.ForeignKey("executions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("step_id", sa.String(64), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("step_type", sa.String(20), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False, default=0),
    sa.Column("started_at", UtcDateTime),
    sa.Column("finished_at", UtcDateTime),
    sa.Column("duration_s", sa.Float),
    sa.Column("run_id", sa.String(64)),
    sa.Column("output", sa.Text),  # masked, at most 10 KB of JSON
    sa.Column("output_truncated", sa.Boolean, nullable=False, default=False),
    sa.Column("error", sa.Text),
    sa.CheckConstraint(_one_of("status", STEP_STATUSES), name="status"),
)

approvals = sa.Table(
    "approvals",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("execution_id", sa.String(32), sa.ForeignKey("executions.id", ondelete="CASCADE"), nullable=False),
    sa.Column("step_id", sa.String(64)),  # level 3 approves steps; levels 1 and 2 the whole execution
    sa.Column("level", sa.Integer, nullable=False),
    sa.Column("plan_hash", sa.String(64), nullable=False),  # the hash the approval is for
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("requested_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("decided_by", sa.String(200)),
    sa.Column("decided_at", UtcDateTime),
    sa.Column("reason", sa.Text),
    sa.Column("resumed_run_id", sa.String(64)),  # level 3: the run that resumed the execution at this step
    sa.CheckConstraint(_one_of("state", APPROVAL_STATES), name="state"),
    sa.Index(None, "state", "expires_at"),
    sa.Index(None, "execution_id"),
)

# Tenant-scoped idempotency keys: a key is taken for `window` after a submission; a duplicate inside it links
# the existing execution, and an expired key is taken over by the next submission.
idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("tenant", sa.String(64), primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("execution_id", sa.String(32), nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
)

# Per-target mutual exclusion across executions: one lease per (tenant, target), taken all-or-nothing in
# sorted target order, extended by heartbeats while the execution runs, and reaped when it expires.
target_leases = sa.Table(
    "target_leases",
    metadata,
    sa.Column("tenant", sa.String(64), primary_key=True),
    sa.Column("target", sa.String(200), primary_key=True),
    sa.Column("owner", sa.String(64), nullable=False),  # the execution holding it
    sa.Column("token", sa.String(32), nullable=False),  # this acquisition; a reaped-and-retaken lease has another
    sa.Column("acquired_at", UtcDateTime, nullable=False),
    sa.Column("heartbeat_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Index(None, "owner"),
    sa.Index(None, "expires_at"),
)

# Every RBAC decision, with the rule that made it: submissions, approvals and each step's targets.
access_decisions = sa.Table(
    "access_decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("resource", sa.String(500), nullable=False),
    sa.Column("environment", sa.String(10), nullable=False),
    sa.Column("allowed", sa.Boolean, nullable=False),
    sa.Column("rule", sa.String(200), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("execution_id", sa.String(32)),
    sa.Index(None, "execution_id"),
    sa.Index(None, "at"),
)

# Executions that failed for good (retries exhausted, or a failure that is never retried): one row per failed
# run, so a sensor that sees a run twice inserts it once. A requeue re-executes the run from its failure.
dead_letters = sa.Table(
    "dead_letters",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(64), nullable=False),  # the failed Dagster run
    sa.Column("execution_id", sa.String(32), sa.ForeignKey("executions.id", ondelete="CASCADE"), nullable=False),
    sa.Column("tenant", sa.String(64), nullable=False),
    sa.Column("plan_name", sa.String(64), nullable=False),
    sa.Column("plan_version", sa.Integer, nullable=False),
    sa.Column("reason", sa.String(20), nullable=False),  # the failure class
    sa.Column("final_status", sa.String(20), nullable=False),  # the execution's status when it was dead-lettered
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text, nullable=False),  # masked
    sa.Column("run_ids", sa.JSON, nullable=False),  # every run of the execution up to this one, oldest first
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("requeued_at", UtcDateTime),
    sa.Column("requeued_by", sa.String(200)),
    sa.Column("requeue_run_id", sa.String(64)),
    sa.UniqueConstraint("run_id"),
    sa.CheckConstraint(_one_of("reason", FAILURE_CLASSES), name="reason"),
    sa.Index(None, "reason", "created_at"),
    sa.Index(None, "execution_id"),
)
