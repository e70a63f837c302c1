"""Keeps the `sources` partitions equal to the sources in ops.yaml and scans each new or changed source once.

This sensor re-reads ops.yaml on each tick (when the file changed): it is the one place where configuration
is picked up without reloading the code location, so a source added to ops.yaml gets its partition and its
first scan by itself. The cursor keeps a fingerprint of each source's configuration and a generation that
grows with every tick that requests scans; run keys hold both, so a source scanned once per configuration
is scanned again when its configuration comes back (A -> B -> A) or when it is removed and re-added.
"""

import hashlib
import json
from functools import lru_cache
from pathlib import Path

import dagster as dg

from ops_pipeline.defs.catalog.jobs import catalog_scan_job
from ops_pipeline.defs.catalog.liveness import fail_abandoned_scans
from ops_pipeline.defs.catalog.partitions import SOURCES_PARTITION_NAME, source_partitions
from ops_pipeline.defs.catalog.run_states import run_ended_in
from ops_pipeline.resources.ops_store import OpsStoreResource
from ops_pipeline.settings import OpsSettings, load_settings
from ops_pipeline.sources.registry import supports_scan


@lru_cache(maxsize=4)
def _settings_at(path: str, modified_ns: int) -> OpsSettings:
    return load_settings(path)


def current_settings(path: Path) -> OpsSettings:
    """ops.yaml as it is now, parsed again only when the file changed."""
    try:
        modified_ns = path.stat().st_mtime_ns
    except FileNotFoundError:
        return load_settings(path)  # raises ConfigError naming the missing file
    return _settings_at(str(path), modified_ns)


def source_fingerprints(settings: OpsSettings) -> dict[str, str]:
    return {
        name: hashlib.sha256(json.dumps(config.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()[:16]
        for name, config in settings.sources.items()
    }


def _read_cursor(cursor: str | None) -> tuple[dict[str, str], int]:
    """(fingerprints, generation); an older cursor held the fingerprints alone."""
    data = json.loads(cursor) if cursor else {}
    if "fingerprints" in data:
        return dict(data["fingerprints"]), int(data["generation"])
    return dict(data), 0


def build_source_sync_sensor(config_file: Path, interval_s: int) -> dg.SensorDefinition:
    @dg.sensor(
        name="source_partitions_sync",
        job=catalog_scan_job,
        minimum_interval_seconds=interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Adds and removes `sources` partitions to match ops.yaml and scans new or changed sources.",
    )
    def source_partitions_sync(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        settings = current_settings(config_file)
        configured = source_fingerprints(settings)
        existing = set(context.instance.get_dynamic_partitions(SOURCES_PARTITION_NAME))
        seen, generation = _read_cursor(context.cursor)

        added = sorted(set(configured) - existing)
        removed = sorted(existing - set(configured))
        to_scan = sorted(
            name
            for name, fingerprint in configured.items()
            if seen.get(name) != fingerprint and supports_scan(settings.sources[name].type)
        )
        if not (added or removed or to_scan):
            return dg.SkipReason(f"{len(configured)} sources configured, partitions in sync, no source changed")
        generation += 1 if to_scan else 0
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(partition_key=name, run_key=f"scan:{name}:{configured[name]}:{generation}")
                for name in to_scan
            ],
            dynamic_partitions_requests=[
                *([source_partitions.build_add_request(added)] if added else []),
                *([source_partitions.build_delete_request(removed)] if removed else []),
            ],
            cursor=json.dumps({"fingerprints": configured, "generation": generation}, sort_keys=True),
        )

    return source_partitions_sync


def build_abandoned_scan_sensor(interval_s: int = 60) -> dg.SensorDefinition:
    @dg.sensor(
        name="abandoned_scans",
        minimum_interval_seconds=interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Marks failed the catalog scans left open by a run that is gone, has ended, or stopped "
        "renewing its heartbeat (a killed scan); the last completed snapshot stays the latest.",
    )
    def abandoned_scans(context: dg.SensorEvaluationContext, ops_store: OpsStoreResource) -> dg.SkipReason:
        failed = fail_abandoned_scans(ops_store.engine(), run_ended=run_ended_in(context.instance))
        if failed:
            return dg.SkipReason(f"marked {len(failed)} abandoned scans failed: snapshots {failed}")
        return dg.SkipReason("no abandoned scans")

    return abandoned_scans
