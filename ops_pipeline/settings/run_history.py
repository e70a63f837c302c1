"""`run_history:` how often the run history refreshes."""

from __future__ import annotations

from pydantic import Field

from ops_pipeline.settings.base import CronExpression, StrictModel


class RunHistorySettings(StrictModel):
    refresh_cron: CronExpression | None = Field(default=None, description="cron for refreshing the run_history asset")
    refresh_schedule_running: bool = False
