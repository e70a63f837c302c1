"""`MaskingPostgresEventLogStorage`: dagster-postgres's event log storage, masking every event before it is stored.

    event_log_storage:
      module: ops_pipeline.instance.postgres_event_log
      class: MaskingPostgresEventLogStorage
      config:
        postgres_url: {env: DAGSTER_PG_URL}
        mask_patterns: ["INTERNAL-[0-9]+"]     # optional, besides the default secret patterns

It takes every setting of `PostgresEventLogStorage` (postgres_url or postgres_db, should_autocreate_tables).
"""

from __future__ import annotations

from typing import Any, cast

from dagster_postgres import PostgresEventLogStorage
from dagster_postgres.utils import get_token_provider_from_config, pg_url_from_config

from ops_pipeline.instance.event_masking import MASK_PATTERNS_FIELD, MaskingEvents, without_mask_patterns


class MaskingPostgresEventLogStorage(MaskingEvents, PostgresEventLogStorage):
    def __init__(self, postgres_url: str, mask_patterns: list[str] | None = None, **kwargs: Any) -> None:
        self._start_masking(mask_patterns or [])
        super().__init__(postgres_url, **kwargs)

    @classmethod
    def config_type(cls) -> Any:
        return {**cast(dict[str, Any], PostgresEventLogStorage.config_type()), "mask_patterns": MASK_PATTERNS_FIELD}

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Any) -> MaskingPostgresEventLogStorage:
        config, mask_patterns = without_mask_patterns(config_value)
        return cls(
            inst_data=inst_data,
            postgres_url=pg_url_from_config(config),
            should_autocreate_tables=config.get("should_autocreate_tables", True),
            token_provider=get_token_provider_from_config(config),
            mask_patterns=mask_patterns,
        )
