"""Helpers for Dagster-harness tests: write an ops.yaml, build resources, materialize a source's catalog."""

from pathlib import Path
from typing import Any

import dagster as dg
import yaml

from ops_pipeline.defs.catalog.assets import schema_catalog
from ops_pipeline.defs.catalog.partitions import SOURCES_PARTITION_NAME
from ops_pipeline.resources.ops_store import OpsStoreResource
from ops_pipeline.resources.sources import SourceRegistry
from tests.conftest import PG_HOST, PG_PORT, PG_USER

SNAKE_CASE_RESOLVER = {
    "name": "canonical",
    "rules": [{"name": "snake", "type": "transformation", "steps": [{"op": "snake_case"}]}],
}


def write_config(path: Path, sources: dict[str, Any], **sections: Any) -> Path:
    path.write_text(yaml.safe_dump({"sources": sources, **sections}))
    return path


def pg_source(database: str, **overrides: Any) -> dict[str, Any]:
    return {
        "type": "postgresql",
        "host": PG_HOST,
        "port": PG_PORT,
        "user": PG_USER,
        "database": database,
        "connect_timeout_s": 3,
        **overrides,
    }


def resources(config_file: Path, store_url: str) -> dict[str, Any]:
    return {
        "ops_store": OpsStoreResource(database_url=store_url),
        "sources": SourceRegistry(config_path=str(config_file)),
    }


def scan(
    instance: dg.DagsterInstance,
    source: str,
    config_file: Path,
    store_url: str,
    run_config: dict[str, Any] | None = None,
) -> dg.ExecuteInProcessResult:
    if not instance.has_dynamic_partition(SOURCES_PARTITION_NAME, source):
        instance.add_dynamic_partitions(SOURCES_PARTITION_NAME, [source])
    return dg.materialize(
        [schema_catalog],
        instance=instance,
        partition_key=source,
        resources=resources(config_file, store_url),
        run_config=run_config,
        raise_on_error=False,
    )
