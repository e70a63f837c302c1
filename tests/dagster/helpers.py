"""Helpers for Dagster-harness tests: write an ops.yaml, build resources, materialize a source's catalog."""

from pathlib import Path
from typing import Any

import dagster as dg
import sqlalchemy as sa
import yaml

from ops_pipeline.definitions import build_definitions, shared_resources
from ops_pipeline.defs.catalog.partitions import SOURCES_PARTITION_NAME
from ops_pipeline.defs.catalog.scan import scan_source
from ops_pipeline.settings import OpsSettings, load_settings
from ops_pipeline.store.catalog import CompletedScan
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
    """The resources the code location gives its assets, jobs and sensors, for this ops.yaml and store."""
    return shared_resources(load_settings(config_file), store_url)


def code_location(config_file: Path, store_url: str) -> dg.Definitions:
    return build_definitions(config_file, store_url)


def asset_of(config_file: Path, store_url: str, name: str) -> dg.AssetsDefinition:
    return code_location(config_file, store_url).get_assets_def(name)


def job_of(config_file: Path, store_url: str, name: str) -> dg.JobDefinition:
    return code_location(config_file, store_url).get_job_def(name)


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
        [asset_of(config_file, store_url, "schema_catalog")],
        instance=instance,
        partition_key=source,
        resources=resources(config_file, store_url),
        run_config=run_config,
        raise_on_error=False,
    )


def scan_configured(engine: sa.Engine, settings: OpsSettings, name: str) -> CompletedScan:
    """Scan a configured source the way the schema_catalog asset does."""
    return scan_source(engine, name, settings.source(name), settings.resolver_for_source(name))
