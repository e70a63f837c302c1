"""`MaskingSqliteEventLogStorage`: Dagster's SQLite event log storage, masking every event before it is stored.

    event_log_storage:
      module: ops_pipeline.instance.sqlite_event_log
      class: MaskingSqliteEventLogStorage
      config:
        mask_patterns: ["INTERNAL-[0-9]+"]     # optional, besides the default secret patterns
        base_dir: /var/dagster/history/runs    # optional: default $DAGSTER_HOME/history/runs, where Dagster keeps them

Run and schedule storage stay Dagster's defaults under $DAGSTER_HOME, so an existing home keeps its history.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from ops_pipeline.instance.default_classes import sqlite_event_log_storage_class
from ops_pipeline.instance.event_masking import MASK_PATTERNS_FIELD, MaskingEvents, without_mask_patterns
from ops_pipeline.instance.home import under_dagster_home

SqliteEventLogStorage: Any = sqlite_event_log_storage_class()
WHAT = "event_log_storage MaskingSqliteEventLogStorage"


class MaskingSqliteEventLogStorage(MaskingEvents, SqliteEventLogStorage):
    def __init__(self, base_dir: str, mask_patterns: list[str] | None = None, **kwargs: Any) -> None:
        self._start_masking(mask_patterns or [])
        super().__init__(base_dir, **kwargs)

    @classmethod
    def config_type(cls) -> Any:
        return {"base_dir": dg.Field(dg.StringSource, is_required=False), "mask_patterns": MASK_PATTERNS_FIELD}

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Any) -> MaskingSqliteEventLogStorage:
        config, mask_patterns = without_mask_patterns(config_value)
        return cls(
            base_dir=config.get("base_dir") or under_dagster_home(WHAT, "history", "runs", ""),
            inst_data=inst_data,
            mask_patterns=mask_patterns,
        )
