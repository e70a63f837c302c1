"""`ops-pipeline dlq list|stats|requeue`: the executions that failed for good, counted by reason, and their
requeue (a re-execution of the failed run from its failure, through the webserver, once)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from datetime import UTC, datetime

from ops_pipeline.cli.common import one_line, settings_of
from ops_pipeline.core.execution.retries import FAILURE_CLASSES
from ops_pipeline.execution.requeue import requeue
from ops_pipeline.execution.webserver import Webserver, graphql_url
from ops_pipeline.settings import OpsSettings
from ops_pipeline.store.dead_letters import counts_by_reason, list_dead_letters
from ops_pipeline.store.engine import open_store


def add_commands(commands: argparse._SubParsersAction) -> None:
    dlq = commands.add_parser("dlq", help="dead letters: executions that failed for good, and their requeue")
    actions = dlq.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="dead letters, newest first")
    listing.add_argument("--reason", choices=FAILURE_CLASSES, help="only this failure class")
    listing.add_argument("--tenant", help="only this tenant's (default: every tenant's)")
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--json", action="store_true", help="one JSON object per dead letter, one per line")
    listing.set_defaults(handler=dlq_list)
    stats = actions.add_parser("stats", help="dead letters by reason: total and still waiting for a requeue")
    stats.add_argument("--tenant", help="only this tenant's (default: every tenant's)")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(handler=dlq_stats)
    again = actions.add_parser("requeue", help="re-execute a dead letter's failed run from its failure (once)")
    again.add_argument("id", help="the dead letter's id, or an execution id (its newest dead letter)")
    again.add_argument("--actor", default=os.environ.get("USER", "cli"), help="who requeues (default: $USER)")
    again.set_defaults(handler=dlq_requeue)


def dlq_list(args: argparse.Namespace) -> int:
    settings_of(args)
    with open_store().connect() as conn:
        found = list_dead_letters(conn, tenant=args.tenant, reason=args.reason, limit=args.limit)
    if args.json:
        for letter in found:
            print(json.dumps(dataclasses.asdict(letter), default=str))
        return 0
    print("id\texecution\tplan\treason\tstatus\tattempts\tcreated\trequeued\tlast error")
    for d in found:
        requeued = f"{d.requeued_at:%Y-%m-%d %H:%M:%S} by {d.requeued_by}" if d.requeued_at else "-"
        print(
            f"{d.id}\t{d.execution_id}\t{d.plan_name} v{d.plan_version}\t{d.reason}\t{d.final_status}\t{d.attempts}\t"
            f"{d.created_at:%Y-%m-%d %H:%M:%S}\t{requeued}\t{one_line(d.last_error)[:200]}"
        )
    return 0


def dlq_stats(args: argparse.Namespace) -> int:
    settings_of(args)
    with open_store().connect() as conn:
        counts = counts_by_reason(conn, args.tenant)
    if args.json:
        print(json.dumps({reason: {"total": t, "waiting": w} for reason, (t, w) in sorted(counts.items())}))
        return 0
    print("reason\ttotal\twaiting")
    for reason, (total, waiting) in sorted(counts.items(), key=lambda item: -item[1][0]):
        print(f"{reason}\t{total}\t{waiting}")
    print(f"all\t{sum(t for t, _ in counts.values())}\t{sum(w for _, w in counts.values())}")
    return 0


def dlq_requeue(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    now = datetime.now(UTC)
    requeued = requeue(
        open_store(),
        args.id,
        actor=args.actor,
        now=now,
        launch=webserver_of(settings).reexecute_from_failure,
        rbac=settings.policies.rbac,
    )
    letter = requeued.dead_letter
    print(f"requeued: dead letter {letter.id} (execution {letter.execution_id}) re-executes as run {requeued.run_id}")
    return 0


def webserver_of(settings: OpsSettings) -> Webserver:
    return Webserver(graphql_url(settings.plans.graphql_url))
