"""The ops store's tables for the catalog, the run history, insights, backfills and data products (SQLAlchemy
Core); execution plans have theirs in `execution_tables`. Migrations under store/migrations keep databases in
step with `metadata`, which holds them all."""

from __future__ import annotations

import sqlalchemy as sa

from ops_pipeline.store.metadata import metadata

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
    sa.Column("user_types", sa.Text),  # JSON list of enum and domain definitions; NULL: not recorded
    sa.Column("notes", sa.Text),  # JSON list of what the scan left out and why
    sa.Column("heartbeat_at", sa.DateTime(timezone=True)),  # renewed while the scan's process lives
    sa.CheckConstraint("status IN ('pending', 'scanning', 'completed', 'failed')", name="status"),
    sa.Index(None, "source", "status", "id"),
)

# Table definitions by content hash: a rescan that finds a table unchanged stores nothing new for it.
catalog_definitions = sa.Table(
    "catalog_definitions",
    metadata,
    sa.Column("hash", sa.String(40), primary_key=True),
    sa.Column("definition", sa.Text, nullable=False),
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
    sa.Column("definition_hash", sa.String(40), sa.ForeignKey("catalog_definitions.hash"), nullable=False),
    sa.Column("entity_rule", sa.String(200)),
    sa.Column("entity_confidence", sa.Float),
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

workflow_runs = sa.Table(
    "workflow_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workflow", sa.String(300), nullable=False),
    sa.Column("run_id", sa.String(200), nullable=False),
    sa.Column("origin", sa.String(20), nullable=False),  # dagster | external
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
    sa.UniqueConstraint("workflow", "run_id"),
    sa.CheckConstraint("status IN ('queued', 'running', 'success', 'failure', 'canceled')", name="status"),
    sa.Index(None, "workflow", "created_at"),
    sa.Index(None, "created_at"),
    sa.Index(None, "origin", "status"),  # the recheck of unfinished runs
)

ingestion_cursors = sa.Table(
    "ingestion_cursors",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

insight_signals = sa.Table(
    "insight_signals",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
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
    sa.Column("origin", sa.String(20), nullable=False),  # batch | probe
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("detector", "series_key", "ts"),
    sa.Index(None, "partition_date"),
    sa.Index(None, "metric", "ts"),
)

# Streaming detector states, one row per series (what the state was built under, where it stands) and its
# state vector in fixed-size binary pages (see core/detectors/pages), so a tick rewrites only what changed.
detector_states = sa.Table(
    "detector_states",
    metadata,
    sa.Column("detector", sa.String(200), primary_key=True),
    sa.Column("series_key", sa.String(1000), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("layout", sa.LargeBinary, nullable=False),
    sa.Column("last_ts", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# Keyed page first: the pages one tick rewrites (page 0 and the same ring page of every series fed the same grid)
# are neighbours in the table, so a tick dirties a few database pages however long the windows are.
detector_state_pages = sa.Table(
    "detector_state_pages",
    metadata,
    sa.Column("detector", sa.String(200), primary_key=True),
    sa.Column("page", sa.Integer, primary_key=True),
    sa.Column("series_key", sa.String(1000), primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Index(None, "detector", "series_key"),
    sqlite_with_rowid=False,
)

backfill_manifests = sa.Table(
    "backfill_manifests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
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
    sa.Index(None, "pipeline", "partition_key"),
)

data_product_models = sa.Table(
    "data_product_models",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
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
    sa.UniqueConstraint("source", "table_name", "version"),
)
