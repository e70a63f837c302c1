"""Partitions shared by assets, sensors and jobs."""

from __future__ import annotations

import dagster as dg

from ops_pipeline.settings.sources import SOURCES_PARTITION_NAME

__all__ = ["SOURCES_PARTITION_NAME", "source_partitions"]

# One partition per configured source; the source_partitions_sync sensor keeps it equal to ops.yaml.
source_partitions = dg.DynamicPartitionsDefinition(name=SOURCES_PARTITION_NAME)
