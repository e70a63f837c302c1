"""Periodic rescans of every scannable source, so drift is noticed without anyone clicking."""

import dagster as dg

from ops_pipeline.defs.catalog.jobs import catalog_scan_job
from ops_pipeline.defs.catalog.partitions import SOURCES_PARTITION_NAME
from ops_pipeline.resources.sources import SourcesResource
from ops_pipeline.sources.registry import supports_scan


def build_rescan_schedule(cron: str, running: bool) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="catalog_rescan",
        cron_schedule=cron,
        job=catalog_scan_job,
        default_status=dg.DefaultScheduleStatus.RUNNING if running else dg.DefaultScheduleStatus.STOPPED,
        description="Rescan every scannable source on a cron.",
    )
    def catalog_rescan(
        context: dg.ScheduleEvaluationContext, sources: SourcesResource
    ) -> list[dg.RunRequest] | dg.SkipReason:
        partitions = set(context.instance.get_dynamic_partitions(SOURCES_PARTITION_NAME))
        names = [n for n in sources.names() if n in partitions and supports_scan(sources.config(n).type)]
        if not names:
            return dg.SkipReason("no scannable source has a partition yet (the sync sensor adds them)")
        tick = context.scheduled_execution_time.isoformat()
        return [dg.RunRequest(partition_key=n, run_key=f"rescan:{n}:{tick}") for n in names]

    return catalog_rescan
