"""Catalog snapshots, scanned tables with content-addressed definitions, and schema changes.

Revision ID: 0001_catalog
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_catalog"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_snapshots",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("source_type", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("duration_s", sa.Float),
        sa.Column("error", sa.Text),
        sa.Column("version", sa.String(20)),
        sa.Column("server_version", sa.String(200)),
        sa.Column("table_count", sa.Integer),
        sa.Column("column_count", sa.Integer),
        sa.Column("change_count", sa.Integer),
        sa.Column("breaking_change_count", sa.Integer),
        sa.Column("exact_row_counts", sa.Boolean, nullable=False),
        sa.Column("run_id", sa.String(64)),
        sa.CheckConstraint(
            "status IN ('pending', 'scanning', 'completed', 'failed')", name="ck_catalog_snapshots_status"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_catalog_snapshots"),
    )
    op.create_index("ix_catalog_snapshots_source_status_id", "catalog_snapshots", ["source", "status", "id"])
    op.create_table(
        "catalog_definitions",
        sa.Column("hash", sa.String(40)),
        sa.Column("definition", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("hash", name="pk_catalog_definitions"),
    )
    op.create_table(
        "catalog_tables",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("snapshot_id", sa.Integer, nullable=False),
        sa.Column("schema_name", sa.String(200), nullable=False),
        sa.Column("table_name", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("entity_name", sa.String(500)),
        sa.Column("row_count", sa.BigInteger),
        sa.Column("row_count_exact", sa.Boolean, nullable=False),
        sa.Column("definition_hash", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_catalog_tables"),
        sa.ForeignKeyConstraint(
            ["definition_hash"],
            ["catalog_definitions.hash"],
            name="fk_catalog_tables_definition_hash_catalog_definitions",
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["catalog_snapshots.id"],
            ondelete="CASCADE",
            name="fk_catalog_tables_snapshot_id_catalog_snapshots",
        ),
        sa.UniqueConstraint(
            "snapshot_id",
            "schema_name",
            "table_name",
            name="uq_catalog_tables_snapshot_id_schema_name_table_name",
        ),
    )
    op.create_table(
        "schema_changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("snapshot_id", sa.Integer, nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(60), nullable=False),
        sa.Column("object_name", sa.String(1000), nullable=False),
        sa.Column("before", sa.Text),
        sa.Column("after", sa.Text),
        sa.Column("classification", sa.String(20), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_schema_changes"),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["catalog_snapshots.id"],
            ondelete="CASCADE",
            name="fk_schema_changes_snapshot_id_catalog_snapshots",
        ),
    )
    op.create_index("ix_schema_changes_snapshot_id", "schema_changes", ["snapshot_id"])


def downgrade() -> None:
    op.drop_table("schema_changes")
    op.drop_table("catalog_tables")
    op.drop_table("catalog_definitions")
    op.drop_index("ix_catalog_snapshots_source_status_id", table_name="catalog_snapshots")
    op.drop_table("catalog_snapshots")
