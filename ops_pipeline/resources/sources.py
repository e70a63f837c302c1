"""The source registry as a Dagster resource: the sources declared in ops.yaml and their databases."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import dagster as dg
from pydantic import Field

from ops_pipeline.settings import OpsSettings, load_settings
from ops_pipeline.sources.base import ConnectionReport
from ops_pipeline.sources.registry import database_for


@lru_cache(maxsize=8)
def _settings_at(path: str, modified_ns: int) -> OpsSettings:
    return load_settings(path)


def cached_settings(path: str) -> OpsSettings:
    """Settings parsed once per file version: sensors and ops call this every tick or step."""
    try:
        modified_ns = Path(path).stat().st_mtime_ns
    except FileNotFoundError:
        return load_settings(path)  # raises ConfigError naming the missing file
    return _settings_at(path, modified_ns)


class SourceRegistry(dg.ConfigurableResource):
    """Reads the `sources:` section of ops.yaml; secrets stay references until a connection opens."""

    config_path: str = Field(description="path of ops.yaml")

    def settings(self) -> OpsSettings:
        return cached_settings(self.config_path)

    def test_connection(self, name: str) -> ConnectionReport:
        config = self.settings().source(name)
        return database_for(config.type).test_connection(name, config)
