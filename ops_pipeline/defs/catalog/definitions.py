"""The catalog domain: the schema catalog asset and its per-table assets, the scan, connection-test and
resolver-simulation jobs, the source sync sensor and the rescan schedule."""

from pathlib import Path

import dagster as dg

from ops_pipeline.defs.catalog.assets import build_schema_catalog
from ops_pipeline.defs.catalog.jobs import build_simulate_resolver, catalog_scan_job, check_source_connection
from ops_pipeline.defs.catalog.schedules import build_rescan_schedule
from ops_pipeline.defs.catalog.sensors import build_abandoned_scan_sensor, build_source_sync_sensor
from ops_pipeline.defs.catalog.state import state_dir
from ops_pipeline.defs.catalog.table_specs import catalog_table_specs
from ops_pipeline.settings import OpsSettings
from ops_pipeline.sources.registry import supports_scan

MAX_KINDS = 3  # the UI shows at most three kinds per asset


def definitions(settings: OpsSettings, config_file: Path) -> dg.Definitions:
    """`config_file` is the ops.yaml the sync sensor re-reads to pick up added and removed sources."""
    catalog = settings.catalog
    folder = state_dir(catalog.state_dir)
    scanned_types = sorted({s.type for s in settings.sources.values() if supports_scan(s.type)})
    resolvers = {name: settings.resolver_for_source(name) for name in settings.sources}
    schedules = (
        [build_rescan_schedule(catalog.rescan_cron, catalog.rescan_schedule_running)] if catalog.rescan_cron else []
    )
    tables = catalog_table_specs(folder, sorted(settings.sources))
    return dg.Definitions(
        assets=[
            build_schema_catalog(resolvers, folder, set(scanned_types[:MAX_KINDS]), tables.warnings),
            *tables.specs,
        ],
        jobs=[catalog_scan_job, check_source_connection, build_simulate_resolver(settings.resolvers)],
        sensors=[build_source_sync_sensor(config_file, catalog.sync_interval_s), build_abandoned_scan_sensor()],
        schedules=schedules,
    )
