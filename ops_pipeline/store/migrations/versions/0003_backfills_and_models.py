"""Backfill audit manifests and generated data product models.

Revision ID: 0003_backfills_and_models
Revises: 0002_runs_and_signals
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_backfills_and_models"
down_revision = "0002_runs_and_signals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "backfill_manifests",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("pipeline", sa.String(200), nullable=False),
        sa.Column("partition_key", sa.String(40), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(64)),
        sa.Column("rows_read", sa.BigInteger, nullable=False),
        sa.Column("rows_written", sa.BigInteger, nullable=False),
        sa.Column("source_checksum", sa.String(100), nullable=False),
        sa.Column("destination_checksum", sa.String(100), nullable=False),
        sa.Column("reconciled", sa.Boolean, nullable=False),
        sa.Column("validation_score", sa.Float, nullable=False),
        sa.Column("duration_s", sa.Float, nullable=False),
        sa.Column("rows_per_s", sa.Float, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_backfill_manifests"),
    )
    op.create_index("ix_backfill_manifests_pipeline_partition_key", "backfill_manifests", ["pipeline", "partition_key"])
    op.create_table(
        "data_product_models",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("table_name", sa.String(500), nullable=False),
        sa.Column("model_name", sa.String(300), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("json_schema", sa.Text, nullable=False),
        sa.Column("pure", sa.Text, nullable=False),
        sa.Column("diff", sa.Text, nullable=False),
        sa.Column("table_definition", sa.Text, nullable=False),
        sa.Column("constraints", sa.Text, nullable=False),
        sa.Column("run_id", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_data_product_models"),
        sa.UniqueConstraint("source", "table_name", "version", name="uq_data_product_models_source_table_name_version"),
    )


def downgrade() -> None:
    op.drop_table("data_product_models")
    op.drop_index("ix_backfill_manifests_pipeline_partition_key", table_name="backfill_manifests")
    op.drop_table("backfill_manifests")
