"""Run history, ingestion cursors, insight signals and streaming detector state.

Revision ID: 0002_runs_and_signals
Revises: 0001_catalog
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_runs_and_signals"
down_revision = "0001_catalog"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workflow_runs",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("workflow", sa.String(300), nullable=False),
        sa.Column("run_id", sa.String(200), nullable=False),
        sa.Column("origin", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("duration_ms", sa.Float),
        sa.Column("inputs", sa.JSON),
        sa.Column("outputs", sa.JSON),
        sa.Column("tags", sa.JSON),
        sa.Column("step_summary", sa.JSON),
        sa.Column("failure_message", sa.Text),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_workflow_runs"),
        sa.UniqueConstraint("workflow", "run_id", name="uq_workflow_runs_workflow_run_id"),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'success', 'failure', 'canceled')", name="ck_workflow_runs_status"
        ),
    )
    op.create_index("ix_workflow_runs_workflow_created_at", "workflow_runs", ["workflow", "created_at"])
    op.create_index("ix_workflow_runs_created_at", "workflow_runs", ["created_at"])
    op.create_table(
        "ingestion_cursors",
        sa.Column("name", sa.String(200)),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_ingestion_cursors"),
    )
    op.create_table(
        "insight_signals",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("detector", sa.String(200), nullable=False),
        sa.Column("metric", sa.String(300), nullable=False),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("series_key", sa.String(1000), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("partition_date", sa.String(10), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("direction", sa.String(10), nullable=False),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Column("hint", sa.Text, nullable=False),
        sa.Column("origin", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_insight_signals"),
        sa.UniqueConstraint("detector", "series_key", "ts", name="uq_insight_signals_detector_series_key_ts"),
    )
    op.create_index("ix_insight_signals_partition_date", "insight_signals", ["partition_date"])
    op.create_index("ix_insight_signals_metric_ts", "insight_signals", ["metric", "ts"])
    op.create_table(
        "detector_states",
        sa.Column("detector", sa.String(200)),
        sa.Column("series_key", sa.String(1000)),
        sa.Column("state", sa.JSON, nullable=False),
        sa.Column("last_ts", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("detector", "series_key", name="pk_detector_states"),
    )


def downgrade() -> None:
    op.drop_table("detector_states")
    op.drop_index("ix_insight_signals_metric_ts", table_name="insight_signals")
    op.drop_index("ix_insight_signals_partition_date", table_name="insight_signals")
    op.drop_table("insight_signals")
    op.drop_table("ingestion_cursors")
    op.drop_index("ix_workflow_runs_created_at", table_name="workflow_runs")
    op.drop_index("ix_workflow_runs_workflow_created_at", table_name="workflow_runs")
    op.drop_table("workflow_runs")
