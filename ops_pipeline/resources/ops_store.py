"""The ops store as a Dagster resource: one engine per process, migrated on first use."""

from __future__ import annotations

import dagster as dg
import sqlalchemy as sa
from pydantic import Field

from ops_pipeline.store.engine import open_store


class OpsStoreResource(dg.ConfigurableResource):
    """Where the project keeps its own state. Unset URL: OPS_DATABASE_URL, else $DAGSTER_HOME/ops_store.db."""

    database_url: str | None = Field(default=None, description="SQLAlchemy URL of the ops store")

    def engine(self) -> sa.Engine:
        return open_store(self.database_url)
