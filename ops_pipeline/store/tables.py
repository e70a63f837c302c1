"""The ops store's tables (SQLAlchemy Core). Migrations under store/migrations keep databases in step."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

SNAPSHOT_STATUSES = ("pending", "scanning", "completed", "failed")

catalog_snapshots = sa.Table(
    "catalog_snapshots",
    metadata,
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
    sa.Column("exact_row_counts", sa.Boolean, nullable=False, default=False),
    sa.Column("run_id", sa.String(64)),
    sa.CheckConstraint("status IN ('pending', 'scanning', 'completed', 'failed')", name="status"),
    sa.Index(None, "source", "status", "id"),
)

catalog_tables = sa.Table(
    "catalog_tables",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("snapshot_id", sa.Integer, sa.ForeignKey("catalog_snapshots.id", ondelete="CASCADE"), nullable=False),
    sa.Column("schema_name", sa.String(200), nullable=False),
    sa.Column("table_name", sa.String(500), nullable=False),
    sa.Column("kind", sa.String(30), nullable=False),
    sa.Column("entity_name", sa.String(500)),
    sa.Column("row_count", sa.BigInteger),
    sa.Column("row_count_exact", sa.Boolean, nullable=False, default=False),
    sa.Column("definition", sa.JSON, nullable=False),
    sa.UniqueConstraint("snapshot_id", "schema_name", "table_name"),
)

schema_changes = sa.Table(
    "schema_changes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("snapshot_id", sa.Integer, sa.ForeignKey("catalog_snapshots.id", ondelete="CASCADE"), nullable=False),
    sa.Column("source", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(60), nullable=False),
    sa.Column("object_name", sa.String(1000), nullable=False),
    sa.Column("before", sa.Text),
    sa.Column("after", sa.Text),
    sa.Column("classification", sa.String(20), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Index(None, "snapshot_id"),
)
