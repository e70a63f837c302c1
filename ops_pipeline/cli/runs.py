"""`ops-pipeline runs log|list|latest`: report an external workflow's run, read the run history."""

from __future__ import annotations

import argparse

from ops_pipeline.cli.common import json_object, positive_int, timestamp, tsv_field
from ops_pipeline.core.runs import RunRecord
from ops_pipeline.store import run_log


def add_commands(commands: argparse._SubParsersAction) -> None:
    runs = commands.add_parser("runs", help="the run history: report external runs, read the history")
    run_commands = runs.add_subparsers(dest="action", required=True)
    log = run_commands.add_parser("log", help="record or update one run of an external workflow (idempotent)")
    log.add_argument("workflow")
    log.add_argument("run_id")
    log.add_argument("status", help="queued, running, success, failure, canceled (or an alias such as completed)")
    log.add_argument("--inputs", type=json_object, help="JSON object")
    log.add_argument("--outputs", type=json_object, help="JSON object")
    log.add_argument("--duration-ms", type=float)
    log.add_argument("--started-at", type=timestamp, help="ISO-8601 with timezone")
    log.add_argument("--ended-at", type=timestamp, help="ISO-8601 with timezone")
    log.add_argument("--failure-message")
    log.set_defaults(handler=runs_log)
    listing = run_commands.add_parser("list", help="one workflow's runs, newest first")
    listing.add_argument("workflow")
    listing.add_argument("--limit", type=positive_int, default=20)
    listing.add_argument("--page", type=positive_int, default=1)
    listing.set_defaults(handler=runs_list)
    run_commands.add_parser("latest", help="the newest run of every workflow").set_defaults(handler=runs_latest)


def runs_log(args: argparse.Namespace) -> int:
    record = run_log.log_run(
        args.workflow,
        args.run_id,
        args.status,
        inputs=args.inputs,
        outputs=args.outputs,
        duration_ms=args.duration_ms,
        started_at=args.started_at,
        ended_at=args.ended_at,
        failure_message=args.failure_message,
    )
    print(f"ok: {record.workflow} {record.run_id} {record.status}")
    return 0


def _print_runs(records: list[RunRecord]) -> None:
    for r in records:
        duration = "-" if r.duration_ms is None else f"{r.duration_ms / 1000:.2f}s"
        created = f"{r.created_at:%Y-%m-%d %H:%M:%S}"
        print(f"{tsv_field(r.workflow)}\t{tsv_field(r.run_id)}\t{r.status}\t{r.origin}\t{created}\t{duration}")


def runs_list(args: argparse.Namespace) -> int:
    _print_runs(run_log.runs_of(args.workflow, limit=args.limit, page=args.page))
    return 0


def runs_latest(args: argparse.Namespace) -> int:
    _print_runs(run_log.latest_runs())
    return 0
