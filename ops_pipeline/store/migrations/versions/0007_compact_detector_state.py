"""Streaming detector states in compact binary pages instead of one JSON document per series.

The JSON states are dropped, not converted: their detectors' parameters changed with this release (new fields,
new defaults), so every one of them would be discarded as built under other parameters anyway. The probe starts
the affected series afresh from their next points.

Revision ID: 0007_compact_detector_state
Revises: 0006_target_leases
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_compact_detector_state"
down_revision = "0006_target_leases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("detector_states")
    op.create_table(
        "detector_states",
        sa.Column("detector", sa.String(200)),
        sa.Column("series_key", sa.String(1000)),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("layout", sa.LargeBinary, nullable=False),
        sa.Column("last_ts", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("detector", "series_key", name="pk_detector_states"),
    )
    op.create_table(
        "detector_state_pages",
        sa.Column("detector", sa.String(200)),
        sa.Column("page", sa.Integer),
        sa.Column("series_key", sa.String(1000)),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("detector", "page", "series_key", name="pk_detector_state_pages"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_detector_state_pages_detector_series_key", "detector_state_pages", ["detector", "series_key"])


def downgrade() -> None:
    op.drop_index("ix_detector_state_pages_detector_series_key", table_name="detector_state_pages")
    op.drop_table("detector_state_pages")
    op.drop_table("detector_states")
    op.create_table(
        "detector_states",
        sa.Column("detector", sa.String(200)),
        sa.Column("series_key", sa.String(1000)),
        sa.Column("state", sa.JSON, nullable=False),
        sa.Column("last_ts", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("detector", "series_key", name="pk_detector_states"),
    )
