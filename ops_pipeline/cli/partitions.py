"""The `sources` dynamic partitions of the Dagster instance ($DAGSTER_HOME), added from the command line so that
`dagster asset materialize --partition NAME` works before the sync sensor has ticked."""

from __future__ import annotations

import os

from ops_pipeline.settings import ConfigError
from ops_pipeline.settings.sources import SOURCES_PARTITION_NAME


def sync_source_partitions(configured: list[str]) -> tuple[list[str], list[str]]:
    """Add a partition for every configured source that has none; (added, partitions of unconfigured sources)."""
    if not os.environ.get("DAGSTER_HOME"):
        raise ConfigError("the Dagster instance has no location: set DAGSTER_HOME (the demo's is ./.dagster_home)")
    import dagster as dg  # here, not at the top: the other commands start without loading Dagster

    with dg.DagsterInstance.get() as instance:
        existing = set(instance.get_dynamic_partitions(SOURCES_PARTITION_NAME))
        added = [name for name in configured if name not in existing]
        if added:
            instance.add_dynamic_partitions(SOURCES_PARTITION_NAME, added)
    return added, sorted(existing - set(configured))
