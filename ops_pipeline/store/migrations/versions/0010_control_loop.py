"""The control loop: replan events, recovery actions and the subjects where the loop stopped at its cap.

Revision ID: 0010_control_loop
Revises: 0009_dead_letters
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_control_loop"
down_revision = "0009_dead_letters"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "replan_events",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("execution_id", sa.String(32)),
        sa.Column("root_execution_id", sa.String(32)),
        sa.Column("trigger_kind", sa.String(40), nullable=False),
        sa.Column("fingerprint", sa.String(500), nullable=False),
        sa.Column("trigger", sa.JSON, nullable=False),
        sa.Column("decision", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("rule", sa.String(300), nullable=False),
        sa.Column("replan_count", sa.Integer, nullable=False),
        sa.Column("cooling_deadline", sa.DateTime(timezone=True)),
        sa.Column("escalated", sa.Boolean, nullable=False),
        sa.Column("run_key", sa.String(300), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True)),
        sa.Column("plan_version_before", sa.Integer),
        sa.Column("plan_version_after", sa.Integer),
        sa.Column("diff", sa.JSON),
        sa.Column("diff_markdown", sa.Text),
        sa.Column("outcome", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_replan_events"),
    )
    op.create_index("ix_replan_events_subject_at", "replan_events", ["subject", "at"])
    op.create_index("ix_replan_events_fingerprint", "replan_events", ["fingerprint"])
    op.create_index("ix_replan_events_root_execution_id", "replan_events", ["root_execution_id"])
    op.create_table(
        "recovery_actions",
        sa.Column("id", sa.Integer, autoincrement=True),
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
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(
            "status IN ('running', 'succeeded', 'refused', 'failed', 'open')", name="ck_recovery_actions_status"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_recovery_actions"),
    )
    op.create_index("ix_recovery_actions_execution_id", "recovery_actions", ["execution_id"])
    op.create_index("ix_recovery_actions_result_execution_id", "recovery_actions", ["result_execution_id"])
    op.create_index("ix_recovery_actions_started_at", "recovery_actions", ["started_at"])
    op.create_table(
        "control_loop_stops",
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("replan_event_id", sa.Integer),
        sa.PrimaryKeyConstraint("subject", name="pk_control_loop_stops"),
    )


def downgrade() -> None:
    op.drop_table("control_loop_stops")
    op.drop_table("recovery_actions")
    op.drop_table("replan_events")
