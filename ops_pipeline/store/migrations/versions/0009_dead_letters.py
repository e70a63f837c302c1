"""Dead letters: executions that failed for good, one row per failed run, and their requeues.

Revision ID: 0009_dead_letters
Revises: 0008_access_decisions
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_dead_letters"
down_revision = "0008_access_decisions"
branch_labels = None
depends_on = None

FAILURE_CLASSES = ("transient", "timeout", "permission", "validation", "permanent")


def upgrade() -> None:
    reasons = ", ".join(repr(reason) for reason in FAILURE_CLASSES)
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("execution_id", sa.String(32), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("plan_name", sa.String(64), nullable=False),
        sa.Column("plan_version", sa.Integer, nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("final_status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.Column("run_ids", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requeued_at", sa.DateTime(timezone=True)),
        sa.Column("requeued_by", sa.String(200)),
        sa.Column("requeue_run_id", sa.String(64)),
        sa.PrimaryKeyConstraint("id", name="pk_dead_letters"),
        sa.UniqueConstraint("run_id", name="uq_dead_letters_run_id"),
        sa.ForeignKeyConstraint(
            ["execution_id"], ["executions.id"], name="fk_dead_letters_execution_id_executions", ondelete="CASCADE"
        ),
        sa.CheckConstraint(f"reason IN ({reasons})", name="ck_dead_letters_reason"),
    )
    op.create_index("ix_dead_letters_reason_created_at", "dead_letters", ["reason", "created_at"])
    op.create_index("ix_dead_letters_execution_id", "dead_letters", ["execution_id"])


def downgrade() -> None:
    op.drop_table("dead_letters")
