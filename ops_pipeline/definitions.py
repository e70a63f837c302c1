"""The one Definitions object of the ops_pipeline code location, built from ops.yaml ($OPS_CONFIG)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition
from dagster._utils.schedules import is_valid_cron_string

from ops_pipeline.defs.backfills.assets import build_backfill_asset
from ops_pipeline.defs.backfills.jobs import plan_ingestion
from ops_pipeline.defs.catalog.assets import schema_catalog
from ops_pipeline.defs.catalog.jobs import check_source_connection, simulate_resolver
from ops_pipeline.defs.catalog.schedules import build_rescan_schedule, catalog_scan_job
from ops_pipeline.defs.catalog.sensors import build_source_sync_sensor
from ops_pipeline.defs.catalog.table_specs import catalog_table_specs
from ops_pipeline.defs.data_products.assets import data_product_models
from ops_pipeline.defs.insights.assets import build_insight_signals
from ops_pipeline.defs.insights.jobs import REACTION_JOBS, diagnose_signal
from ops_pipeline.defs.insights.schedules import build_insight_refresh
from ops_pipeline.defs.insights.sensors import build_anomaly_probe_sensor
from ops_pipeline.defs.run_history.assets import run_history
from ops_pipeline.defs.run_history.schedules import build_run_history_schedule, run_history_job
from ops_pipeline.resources.metrics import MetricsResource
from ops_pipeline.resources.ops_store import OpsStoreResource
from ops_pipeline.resources.sources import SourceRegistry
from ops_pipeline.settings import ConfigError, OpsSettings, config_path, load_settings


def build_definitions(settings_file: Path | None = None, database_url: str | None = None) -> dg.Definitions:
    settings_file = (settings_file or config_path()).resolve()
    settings = load_settings(settings_file)
    _check_reactions(settings, settings_file)
    ops_store = OpsStoreResource(database_url=database_url)
    insight_signals = build_insight_signals(settings.insights)
    jobs: list[dg.JobDefinition | UnresolvedAssetJobDefinition] = [
        catalog_scan_job,
        check_source_connection,
        simulate_resolver,
        run_history_job,
        diagnose_signal,
        plan_ingestion,
    ]
    backfills = [build_backfill_asset(name, spec) for name, spec in sorted(settings.backfills.items())]
    schedules = _schedules(settings, settings_file)
    if settings.insights.refresh_cron:
        _check_cron(settings.insights.refresh_cron, f"{settings_file}: insights.refresh_cron")
        job, schedule = build_insight_refresh(
            insight_signals, settings.insights.refresh_cron, settings.insights.refresh_schedule_running
        )
        jobs.append(job)
        schedules.append(schedule)
    return dg.Definitions(
        assets=[
            schema_catalog,
            *catalog_table_specs(ops_store.engine()),
            run_history,
            insight_signals,
            data_product_models,
            *backfills,
        ],
        jobs=jobs,
        sensors=[
            build_source_sync_sensor(settings.catalog.sync_interval_s),
            build_anomaly_probe_sensor(settings.insights),
        ],
        schedules=schedules,
        resources={
            "ops_store": ops_store,
            "sources": SourceRegistry(config_path=str(settings_file)),
            "metrics": MetricsResource(config_path=str(settings_file)),
        },
    )


def _check_reactions(settings: OpsSettings, settings_file: Path) -> None:
    for index, detector in enumerate(settings.detectors):
        for number, reaction in enumerate(detector.reactions):
            if reaction.job not in REACTION_JOBS:
                known = ", ".join(sorted(REACTION_JOBS))
                raise ConfigError(
                    f"{settings_file}: detectors[{index}].reactions[{number}].job: unknown job {reaction.job!r} "
                    f"(reactions can launch: {known})"
                )


def _schedules(settings: OpsSettings, settings_file: Path) -> list[dg.ScheduleDefinition]:
    schedules: list[dg.ScheduleDefinition] = []
    if settings.catalog.rescan_cron:
        _check_cron(settings.catalog.rescan_cron, f"{settings_file}: catalog.rescan_cron")
        schedules.append(build_rescan_schedule(settings.catalog.rescan_cron, settings.catalog.rescan_schedule_running))
    if settings.run_history.refresh_cron:
        _check_cron(settings.run_history.refresh_cron, f"{settings_file}: run_history.refresh_cron")
        schedules.append(
            build_run_history_schedule(settings.run_history.refresh_cron, settings.run_history.refresh_schedule_running)
        )
    return schedules


def _check_cron(cron: str, where: str) -> None:
    if not is_valid_cron_string(cron):
        raise ConfigError(f"{where}: {cron!r} is not a valid cron expression (five fields, e.g. '0 * * * *')")


@dg.definitions
def defs() -> dg.Definitions:
    """Loaded by Dagster when the code location starts, so importing this module has no side effects."""
    return build_definitions()
