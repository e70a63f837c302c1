"""`ops-pipeline backfill plan|manifest`: size a backfill before running it, read its audit manifest."""

from __future__ import annotations

import argparse

from ops_pipeline.backfill.plan import plan_backfill
from ops_pipeline.cli.common import settings_of
from ops_pipeline.core.ingestion_plan import parse_moment
from ops_pipeline.store.engine import open_store
from ops_pipeline.store.manifests import manifests, manifests_json


def add_commands(commands: argparse._SubParsersAction) -> None:
    backfill = commands.add_parser("backfill", help="backfill pipelines: plan one, read its audit manifest")
    backfill_commands = backfill.add_subparsers(dest="action", required=True)
    planning = backfill_commands.add_parser("plan", help="rows per window, suggested partitions per run, estimate")
    planning.add_argument("pipeline")
    planning.add_argument("--start", required=True, help="ISO date or timestamp (UTC)")
    planning.add_argument("--end", required=True, help="ISO date or timestamp (UTC), exclusive")
    planning.set_defaults(handler=backfill_plan)
    manifest = backfill_commands.add_parser("manifest", help="one record per partition load, newest first")
    manifest.add_argument("pipeline")
    manifest.add_argument("--partition", help="only this partition key")
    manifest.add_argument("--limit", type=int)
    manifest.add_argument("--json", action="store_true", help="export as JSON")
    manifest.set_defaults(handler=backfill_manifest)


def backfill_plan(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    if args.pipeline not in settings.backfills:
        raise LookupError(f"unknown backfill {args.pipeline!r} (configured: {', '.join(settings.backfills) or 'none'})")
    plan = plan_backfill(settings, args.pipeline, parse_moment(args.start), parse_moment(args.end), open_store())
    for window in plan.windows:
        print(f"{window.start:%Y-%m-%d %H:%M}\t{window.rows}")
    print(plan.summary())
    return 0


def backfill_manifest(args: argparse.Namespace) -> int:
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
