"""An index for the run history's recheck of runs still recorded as queued or running.

Revision ID: 0004_unfinished_runs_index
Revises: 0003_backfills_and_models
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0004_unfinished_runs_index"
down_revision = "0003_backfills_and_models"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_workflow_runs_origin_status", "workflow_runs", ["origin", "status"])


def downgrade() -> None:
    op.drop_index("ix_workflow_runs_origin_status", table_name="workflow_runs")
