"""`ops-pipeline backfill plan|manifest`: size a backfill before running it, read its audit manifest."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from ops_pipeline.backfill.plan import plan_backfill
from ops_pipeline.cli.common import moment_argument, settings_of
from ops_pipeline.settings import BackfillSettings, OpsSettings
from ops_pipeline.store.engine import open_store
from ops_pipeline.store.manifests import manifests, manifests_json


def add_commands(commands: argparse._SubParsersAction) -> None:
    backfill = commands.add_parser("backfill", help="backfill pipelines: plan one, read its audit manifest")
    backfill_commands = backfill.add_subparsers(dest="action", required=True)
    planning = backfill_commands.add_parser("plan", help="rows per window, suggested partitions per run, estimate")
    planning.add_argument("pipeline")
    planning.add_argument("--start", required=True, type=moment_argument, help="ISO date or timestamp (UTC)")
    planning.add_argument("--end", required=True, type=moment_argument, help="ISO date or timestamp (UTC), exclusive")
    planning.set_defaults(handler=backfill_plan)
    manifest = backfill_commands.add_parser("manifest", help="one record per partition load, newest first")
    manifest.add_argument("pipeline")
    manifest.add_argument("--partition", help="only this partition key")
    manifest.add_argument("--limit", type=int)
    manifest.add_argument("--json", action="store_true", help="export as JSON")
    manifest.set_defaults(handler=backfill_manifest)


def configured_backfill(settings: OpsSettings, pipeline: str) -> BackfillSettings:
    if pipeline not in settings.backfills:
        raise LookupError(f"unknown backfill {pipeline!r} (configured: {', '.join(settings.backfills) or 'none'})")
    return settings.backfills[pipeline]


def check_range(spec: BackfillSettings, start: datetime, end: datetime) -> None:
    """Refuse an empty or reversed range, and one reaching outside the backfill's configured partitions."""
    if start >= end:
        raise ValueError(f"--start {start:%Y-%m-%d %H:%M} is not before --end {end:%Y-%m-%d %H:%M}: the range is empty")
    first = _utc(spec.start)
    if start < first:
        raise ValueError(f"--start {start:%Y-%m-%d %H:%M} is before the backfill's start {first:%Y-%m-%d %H:%M}")
    last = _utc(spec.end) if spec.end is not None else None
    if last is not None and end > last:
        raise ValueError(f"--end {end:%Y-%m-%d %H:%M} is after the backfill's end {last:%Y-%m-%d %H:%M}")


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def backfill_plan(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    check_range(configured_backfill(settings, args.pipeline), args.start, args.end)
    plan = plan_backfill(settings, args.pipeline, args.start, args.end, open_store())
    for window in plan.windows:
        print(f"{window.start:%Y-%m-%d %H:%M}\t{window.rows}")
    print(plan.summary())
    return 0


def backfill_manifest(args: argparse.Namespace) -> int:
    configured_backfill(settings_of(args), args.pipeline)
    records = manifests(open_store(), args.pipeline, args.partition, args.limit)
    if args.json:
        print(manifests_json(records), end="")
        return 0
    for r in records:
        print(
            f"{r.partition_key}\t{r.rows_read}\t{r.rows_written}\t{r.destination_checksum}\t"
            f"reconciled={r.reconciled}\tscore={r.validation_score:.3f}\t{r.duration_s:.3f}s\t"
            f"{r.rows_per_s:,.0f} rows/s\t{r.run_id or ''}"
        )
    return 0
