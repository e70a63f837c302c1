"""Catalog depth: a snapshot's user types (enums, domains) and scan notes; per table, the resolver rule that
named its entity and with what confidence.

Revision ID: 0011_catalog_depth
Revises: 0010_control_loop
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_catalog_depth"
down_revision = "0010_control_loop"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("catalog_snapshots") as batch:
        batch.add_column(sa.Column("user_types", sa.Text))
        batch.add_column(sa.Column("notes", sa.Text))
    with op.batch_alter_table("catalog_tables") as batch:
        batch.add_column(sa.Column("entity_rule", sa.String(200)))
        batch.add_column(sa.Column("entity_confidence", sa.Float))


def downgrade() -> None:
    with op.batch_alter_table("catalog_tables") as batch:
        batch.drop_column("entity_confidence")
        batch.drop_column("entity_rule")
    with op.batch_alter_table("catalog_snapshots") as batch:
        batch.drop_column("notes")
        batch.drop_column("user_types")
