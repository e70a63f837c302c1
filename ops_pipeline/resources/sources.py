"""The `sources:` section of ops.yaml as a Dagster resource: each source's settings by name (secrets stay
references until a connection opens), shown in the launchpad."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from functools import lru_cache
from typing import Any

import dagster as dg
from pydantic import Field, TypeAdapter

from ops_pipeline.settings import ConfigError, OpsSettings, SourceConfig
from ops_pipeline.sources.base import ConnectionReport
from ops_pipeline.sources.registry import database_for, sql_database_for
from ops_pipeline.sources.sql import Session

_SOURCE_CONFIG: TypeAdapter[SourceConfig] = TypeAdapter(SourceConfig)


@lru_cache(maxsize=256)
def _validated(encoded: str) -> SourceConfig:
    return _SOURCE_CONFIG.validate_python(json.loads(encoded))


class SourcesResource(dg.ConfigurableResource):
    """Every configured source. Built from the parsed ops.yaml when the code location loads."""

    sources: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="source name -> its settings in ops.yaml (secrets as env:/file: references)"
    )

    @classmethod
    def from_settings(cls, settings: OpsSettings) -> SourcesResource:
        return cls(
            sources={
                name: config.model_dump(mode="json", exclude_none=True) for name, config in settings.sources.items()
            }
        )

    def names(self) -> list[str]:
        return sorted(self.sources)

    def config(self, name: str) -> SourceConfig:
        if name not in self.sources:
            known = ", ".join(self.names()) or "none"
            raise ConfigError(f"unknown source {name!r} (configured: {known})")
        return _validated(json.dumps(self.sources[name], sort_keys=True))

    def session(self, name: str, *, writable: bool = False) -> AbstractContextManager[Session]:
        """A connection to a relational source with the database object that speaks its dialect."""
        config = self.config(name)
        return sql_database_for(config.type).session(name, config, writable=writable)

    def test_connection(self, name: str) -> ConnectionReport:
        config = self.config(name)
        return database_for(config.type).test_connection(name, config)
