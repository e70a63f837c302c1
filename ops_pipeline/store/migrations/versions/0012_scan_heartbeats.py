"""A scan's heartbeat: an open snapshot whose heartbeat stopped (its process was killed) is marked failed.

Revision ID: 0012_scan_heartbeats
Revises: 0011_catalog_depth
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_scan_heartbeats"
down_revision = "0011_catalog_depth"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("catalog_snapshots") as batch:
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("catalog_snapshots") as batch:
        batch.drop_column("heartbeat_at")
