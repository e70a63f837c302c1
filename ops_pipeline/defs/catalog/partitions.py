"""Partitions shared by assets, sensors and jobs."""

from __future__ import annotations

import dagster as dg

SOURCES_PARTITION_NAME = "sources"

# One partition per configured source; the source_partitions_sync sensor keeps it equal to ops.yaml.
source_partitions = dg.DynamicPartitionsDefinition(name=SOURCES_PARTITION_NAME)
