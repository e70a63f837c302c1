"""Backfill pipelines from ops.yaml, each a time-partitioned asset: launch a partition range from the UI or
`dagster asset materialize --partition-range`, batched by a multi-run backfill policy.

In a run, a sample of every window is validated first (the blocking `validate_sample` check): if any window
scores below the threshold, nothing is loaded and the reasons are shown. Then each window is loaded in its own
transaction, reconciled (`reconciliation` check: counts and checksums must match) and recorded in the manifest.
"""

import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from ops_pipeline.backfill.pipeline import BackfillSession, Window, backfill_session
from ops_pipeline.core.sample_validation import SampleVerdict
from ops_pipeline.defs.backfills.checks import RECONCILE, VALIDATE, reconciliation_result, refusal, validation_result
from ops_pipeline.markdown import table
from ops_pipeline.resources.ops_store import OpsStoreResource
from ops_pipeline.settings import BackfillSettings, OpsSettings
from ops_pipeline.sources.base import SourceError
from ops_pipeline.store.manifests import ManifestRecord


def partitions_for(spec: BackfillSettings) -> dg.TimeWindowPartitionsDefinition:
    start = spec.start.astimezone(UTC) if spec.start.tzinfo else spec.start
    end = (spec.end.astimezone(UTC) if spec.end.tzinfo else spec.end) if spec.end else None
    if spec.window == "hourly":
        return dg.HourlyPartitionsDefinition(start_date=start, end_date=end)
    return dg.DailyPartitionsDefinition(start_date=start, end_date=end)


def build_backfill_asset(name: str, settings: OpsSettings) -> dg.AssetsDefinition:
    spec = settings.backfills[name]
    partitions = partitions_for(spec)
    kinds = {settings.sources[spec.source].type, settings.sources[spec.destination].type}

    @dg.asset(
        name=name,
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=spec.partitions_per_run)
        if spec.partitions_per_run
        else dg.BackfillPolicy.single_run(),
        group_name="backfills",
        kinds=kinds,
        pool=f"backfill_{spec.destination}",
        description=f"{spec.source}.{spec.table or 'query'} -> {spec.destination}.{spec.destination_table or name}, "
        f"{spec.window} windows on {spec.time_column}",
        check_specs=[
            dg.AssetCheckSpec(
                VALIDATE,
                asset=name,
                blocking=True,
                description="Sample rules scored before loading; below the threshold nothing loads.",
            ),
            dg.AssetCheckSpec(
                RECONCILE,
                asset=name,
                blocking=True,
                description="Source and destination row counts and checksums agree per window.",
            ),
        ],
    )
    def backfill(context: dg.AssetExecutionContext, ops_store: OpsStoreResource) -> Iterator[Any]:
        windows = [
            Window(key, window.start.astimezone(UTC), window.end.astimezone(UTC))
            for key in context.partition_keys
            for window in [partitions.time_window_for_partition_key(key)]
        ]
        if not windows:
            raise dg.Failure(description=empty_range(context.run.tags), allow_retries=False)
        try:
            lanes = min(len(windows), settings.concurrent_windows(name))
            with backfill_session(settings, name, lanes) as session:
                verdicts = session.validate_all(windows)
                yield validation_result(windows, verdicts)
                failed = [(w, v) for w, v in zip(windows, verdicts, strict=True) if not v.passed]
                if failed:
                    raise dg.Failure(description=refusal(failed), metadata={"windows_refused": len(failed)})
                records, seconds = _load_all(context, session, windows, verdicts, ops_store)
        except SourceError as error:
            raise dg.Failure(description=str(error), metadata={"error_kind": error.kind}) from None
        yield dg.MaterializeResult(
            metadata=_load_metadata(records, seconds, len(session.lanes)),
            check_results=[reconciliation_result(records)],
        )

    return backfill


def empty_range(tags: Mapping[str, str]) -> str:
    """Why a run has no window to load: a partition range whose first key comes after its last."""
    first, last = tags.get("dagster/asset_partition_range_start"), tags.get("dagster/asset_partition_range_end")
    return (
        f"the partition range {first}...{last} holds no partition: its first key must not come after its last "
        f"(write --partition-range {last}...{first})"
    )


def _load_all(
    context: dg.AssetExecutionContext,
    session: BackfillSession,
    windows: list[Window],
    verdicts: list[SampleVerdict],
    ops_store: OpsStoreResource,
) -> tuple[list[ManifestRecord], float]:
    """The manifest records, and the load's wall-clock seconds."""
    started = time.perf_counter()
    records = session.load_all(windows, verdicts, ops_store.engine(), context.run_id)
    seconds = time.perf_counter() - started
    rows = sum(r.rows_written for r in records)
    # One line per run: each log line is an event-log write, and the per-window detail is in the manifest.
    context.log.info(
        f"{len(records)} windows on {len(session.lanes)} lanes, {rows} rows in {seconds:.2f} s; "
        f"{sum(not r.reconciled for r in records)} not reconciled"
    )
    return records, seconds


def _load_metadata(records: list[ManifestRecord], seconds: float, lanes: int) -> dict[str, Any]:
    rows = sum(r.rows_written for r in records)
    return {
        "dagster/row_count": rows,
        "windows": len(records),
        "concurrent_windows": lanes,
        "rows_read": sum(r.rows_read for r in records),
        "load_s": round(seconds, 3),
        "rows_per_s": round(rows / seconds, 1) if seconds else 0.0,
        "manifest": dg.MetadataValue.md(_manifest_markdown(records)),
        "loaded_at": datetime.now(UTC).isoformat(),
    }


def _manifest_markdown(records: list[ManifestRecord]) -> str:
    rows = (
        (
            r.partition_key,
            r.rows_read,
            r.rows_written,
            f"{r.validation_score:.3f}",
            f"{r.duration_s:.3f}",
            f"{r.rows_per_s:,.0f}",
            r.destination_checksum,
        )
        for r in records
    )
    return table(["window", "read", "written", "score", "seconds", "rows/s", "checksum"], rows)
