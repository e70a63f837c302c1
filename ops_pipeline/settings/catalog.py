"""`catalog:` the default resolver, rescans and the source sync sensor."""

from __future__ import annotations

from pydantic import Field

from ops_pipeline.settings.base import CronExpression, StrictModel


class CatalogSettings(StrictModel):
    default_resolver: str | None = Field(default=None, description="resolver for sources that name none")
    rescan_cron: CronExpression | None = Field(default=None, description="cron for periodic rescans of every source")
    rescan_schedule_running: bool = False
    sync_interval_s: int = Field(default=30, ge=5)
    state_dir: str | None = Field(
        default=None,
        description="where each scan leaves the tables the code location draws as assets "
        "(default $DAGSTER_HOME/catalog_state)",
    )
