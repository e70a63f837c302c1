"""The backfills domain: one time-partitioned asset per pipeline in ops.yaml, with its blocking checks, and the
job that plans a backfill before it runs."""

import dagster as dg

from ops_pipeline.defs.backfills.assets import build_backfill_asset
from ops_pipeline.defs.backfills.jobs import build_plan_ingestion
from ops_pipeline.settings import OpsSettings


def definitions(settings: OpsSettings) -> dg.Definitions:
    return dg.Definitions(
        assets=[build_backfill_asset(name, settings) for name in sorted(settings.backfills)],
        jobs=[build_plan_ingestion(settings)],
    )
