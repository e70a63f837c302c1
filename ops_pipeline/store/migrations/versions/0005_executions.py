"""Execution plans: plan versions, executions, their events, steps, approvals and idempotency keys.

Revision ID: 0005_executions
Revises: 0004_unfinished_runs_index
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_executions"
down_revision = "0004_unfinished_runs_index"
branch_labels = None
depends_on = None

EXECUTION_STATUSES = (
    "pending_approval",
    "approved",
    "rejected",
    "queued",
    "running",
    "completed",
    "failed",
    "cancelled",
    "timeout",
    "partial",
)
STEP_STATUSES = (
    "pending",
    "awaiting_approval",
    "running",
    "succeeded",
    "failed",
    "skipped",
    "timeout",
    "cancelled",
    "rolled_back",
)
APPROVAL_STATES = ("pending", "approved", "rejected", "expired")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "plan_versions",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("plan_name", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("plan_hash", sa.String(64), nullable=False),
        sa.Column("structure", sa.String(64), nullable=False),
        sa.Column("snapshot", sa.Text, nullable=False),
        sa.Column("origin", sa.String(1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_plan_versions"),
        sa.UniqueConstraint("plan_name", "version", name="uq_plan_versions_plan_name_version"),
        sa.UniqueConstraint("plan_name", "plan_hash", name="uq_plan_versions_plan_name_plan_hash"),
    )
    op.create_table(
        "executions",
        sa.Column("id", sa.String(32)),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("plan_name", sa.String(64), nullable=False),
        sa.Column("plan_version", sa.Integer, nullable=False),
        sa.Column("plan_hash", sa.String(64), nullable=False),
        sa.Column("snapshot", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("approval_level", sa.Integer, nullable=False),
        sa.Column("environment", sa.String(10), nullable=False),
        sa.Column("action_class", sa.String(10), nullable=False),
        sa.Column("sla_class", sa.String(10), nullable=False),
        sa.Column("targets", sa.JSON, nullable=False),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("submitted_by", sa.String(200), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("deadline_at", sa.DateTime(timezone=True)),
        sa.Column("root_run_id", sa.String(64)),
        sa.Column("last_run_id", sa.String(64)),
        sa.Column("reason", sa.Text),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_executions"),
        sa.CheckConstraint(_one_of("status", EXECUTION_STATUSES), name="ck_executions_status"),
        sa.CheckConstraint("approval_level BETWEEN 0 AND 3", name="ck_executions_approval_level"),
    )
    op.create_index("ix_executions_tenant_submitted_at", "executions", ["tenant", "submitted_at"])
    op.create_index("ix_executions_status", "executions", ["status"])
    op.create_index("ix_executions_plan_name_submitted_at", "executions", ["plan_name", "submitted_at"])
    op.create_table(
        "execution_events",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("execution_id", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("from_status", sa.String(20)),
        sa.Column("to_status", sa.String(20)),
        sa.Column("step_id", sa.String(64)),
        sa.Column("run_id", sa.String(64)),
        sa.Column("reason", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_execution_events"),
        sa.ForeignKeyConstraint(
            ["execution_id"], ["executions.id"], name="fk_execution_events_execution_id_executions", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_execution_events_execution_id_id", "execution_events", ["execution_id", "id"])
    op.create_table(
        "execution_steps",
        sa.Column("execution_id", sa.String(32)),
        sa.Column("step_id", sa.String(64)),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("step_type", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("duration_s", sa.Float),
        sa.Column("run_id", sa.String(64)),
        sa.Column("output", sa.Text),
        sa.Column("output_truncated", sa.Boolean, nullable=False),
        sa.Column("error", sa.Text),
        sa.PrimaryKeyConstraint("execution_id", "step_id", name="pk_execution_steps"),
        sa.ForeignKeyConstraint(
            ["execution_id"], ["executions.id"], name="fk_execution_steps_execution_id_executions", ondelete="CASCADE"
        ),
        sa.CheckConstraint(_one_of("status", STEP_STATUSES), name="ck_execution_steps_status"),
    )
    op.create_table(
        "approvals",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("execution_id", sa.String(32), nullable=False),
        sa.Column("step_id", sa.String(64)),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("plan_hash", sa.String(64), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(200)),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("reason", sa.Text),
        sa.Column("resumed_run_id", sa.String(64)),
        sa.PrimaryKeyConstraint("id", name="pk_approvals"),
        sa.ForeignKeyConstraint(
            ["execution_id"], ["executions.id"], name="fk_approvals_execution_id_executions", ondelete="CASCADE"
        ),
        sa.CheckConstraint(_one_of("state", APPROVAL_STATES), name="ck_approvals_state"),
    )
    op.create_index("ix_approvals_state_expires_at", "approvals", ["state", "expires_at"])
    op.create_index("ix_approvals_execution_id", "approvals", ["execution_id"])
    op.create_table(
        "idempotency_keys",
        sa.Column("tenant", sa.String(64)),
        sa.Column("key", sa.String(200)),
        sa.Column("execution_id", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "key", name="pk_idempotency_keys"),
    )


def downgrade() -> None:
    for table in (
        "idempotency_keys",
        "approvals",
        "execution_steps",
        "execution_events",
        "executions",
        "plan_versions",
    ):
        op.drop_table(table)
