"""Keeps the `sources` partitions equal to the sources in ops.yaml and scans each new or changed source once.

The cursor maps each source to a fingerprint of its configuration; a run key built from that fingerprint
means a source is scanned once per configuration, never twice for the same one.
"""

import hashlib
import json

import dagster as dg

from ops_pipeline.defs.catalog.assets import schema_catalog
from ops_pipeline.defs.catalog.partitions import SOURCES_PARTITION_NAME, source_partitions
from ops_pipeline.resources.sources import SourceRegistry
from ops_pipeline.settings import OpsSettings
from ops_pipeline.sources.registry import supports_scan


def source_fingerprints(settings: OpsSettings) -> dict[str, str]:
    return {
        name: hashlib.sha256(json.dumps(config.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()[:16]
        for name, config in settings.sources.items()
    }


def build_source_sync_sensor(interval_s: int) -> dg.SensorDefinition:
    @dg.sensor(
        name="source_partitions_sync",
        target=schema_catalog,
        minimum_interval_seconds=interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Adds and removes `sources` partitions to match ops.yaml and scans new or changed sources.",
    )
    def source_partitions_sync(
        context: dg.SensorEvaluationContext, sources: SourceRegistry
    ) -> dg.SensorResult | dg.SkipReason:
        settings = sources.settings()
        configured = source_fingerprints(settings)
        existing = set(context.instance.get_dynamic_partitions(SOURCES_PARTITION_NAME))
        seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}

        added = sorted(set(configured) - existing)
        removed = sorted(existing - set(configured))
        to_scan = sorted(
            name
            for name, fingerprint in configured.items()
            if seen.get(name) != fingerprint and supports_scan(settings.sources[name].type)
        )
        if not (added or removed or to_scan):
            return dg.SkipReason(f"{len(configured)} sources configured, partitions in sync, no source changed")
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(partition_key=name, run_key=f"scan:{name}:{configured[name]}") for name in to_scan
            ],
            dynamic_partitions_requests=[
                *([source_partitions.build_add_request(added)] if added else []),
                *([source_partitions.build_delete_request(removed)] if removed else []),
            ],
            cursor=json.dumps(configured, sort_keys=True),
        )

    return source_partitions_sync
