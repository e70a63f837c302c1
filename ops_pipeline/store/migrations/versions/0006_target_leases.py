"""Per-target leases of executions.

Revision ID: 0006_target_leases
Revises: 0005_executions
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_target_leases"
down_revision = "0005_executions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "target_leases",
        sa.Column("tenant", sa.String(64)),
        sa.Column("target", sa.String(200)),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("token", sa.String(32), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "target", name="pk_target_leases"),
    )
    op.create_index("ix_target_leases_owner", "target_leases", ["owner"])
    op.create_index("ix_target_leases_expires_at", "target_leases", ["expires_at"])


def downgrade() -> None:
    op.drop_table("target_leases")
