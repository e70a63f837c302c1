"""The RBAC audit: every access decision and the rule that made it.

Revision ID: 0008_access_decisions
Revises: 0007_compact_detector_state
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_access_decisions"
down_revision = "0007_compact_detector_state"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_decisions",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("resource", sa.String(500), nullable=False),
        sa.Column("environment", sa.String(10), nullable=False),
        sa.Column("allowed", sa.Boolean, nullable=False),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("execution_id", sa.String(32)),
        sa.PrimaryKeyConstraint("id", name="pk_access_decisions"),
    )
    op.create_index("ix_access_decisions_execution_id", "access_decisions", ["execution_id"])
    op.create_index("ix_access_decisions_at", "access_decisions", ["at"])


def downgrade() -> None:
    op.drop_table("access_decisions")
