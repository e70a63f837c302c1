"""A scan's heartbeat: an open snapshot whose heartbeat stopped (its process was killed) is marked failed.

Revision ID: 0010_scan_heartbeats
Revises: 0008_access_decisions
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_scan_heartbeats"
down_revision = "0008_access_decisions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("catalog_snapshots") as batch:
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("catalog_snapshots") as batch:
        batch.drop_column("heartbeat_at")
