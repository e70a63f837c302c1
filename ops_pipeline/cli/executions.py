"""`ops-pipeline executions list|show` and `approvals list|approve|reject`: read executions with their event
trail, and decide approvals, as a tenant (default `default`)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from datetime import UTC, datetime
from typing import Any

from ops_pipeline.cli.common import positive_int, settings_of
from ops_pipeline.cli.dlq import webserver_of
from ops_pipeline.core.execution.states import EXECUTION_STATUSES
from ops_pipeline.execution.approval_flow import approve, reject
from ops_pipeline.execution.cancellation import cancel
from ops_pipeline.markdown.executions import (
    approval_summary,
    approvals_markdown,
    events_markdown,
    executions_markdown,
    steps_markdown,
)
from ops_pipeline.store.approvals import pending_requests, requests_of, summaries
from ops_pipeline.store.engine import open_store
from ops_pipeline.store.execution_steps import steps_of
from ops_pipeline.store.executions import events_of, execution, list_executions


def add_commands(commands: argparse._SubParsersAction) -> None:
    executions = commands.add_parser("executions", help="executions of plans and their audit trail")
    execution_commands = executions.add_subparsers(dest="action", required=True)
    listing = execution_commands.add_parser("list", help="a tenant's executions, newest first")
    listing.add_argument("--tenant", default="default")
    listing.add_argument("--status", choices=EXECUTION_STATUSES)
    listing.add_argument("--plan")
    listing.add_argument("--limit", type=positive_int, default=50)
    listing.add_argument("--json", action="store_true", help="one JSON object per execution, one per line")
    listing.set_defaults(handler=executions_list)
    show = execution_commands.add_parser("show", help="one execution: steps, approvals and its event trail")
    show.add_argument("execution_id")
    show.add_argument("--tenant", default="default")
    show.add_argument("--json", action="store_true", help="the execution, its steps, approvals and events as JSON")
    show.set_defaults(handler=executions_show)
    cancel = execution_commands.add_parser("cancel", help="cancel an execution: terminate its run, roll back")
    cancel.add_argument("execution_id")
    cancel.add_argument("--actor", default=os.environ.get("USER", "cli"), help="who cancels (default: $USER)")
    cancel.add_argument("--tenant", default="default")
    cancel.add_argument("--wait", type=float, default=30.0, help="seconds to wait for the run to record the end")
    cancel.set_defaults(handler=executions_cancel)

    approvals = commands.add_parser("approvals", help="approval requests: list, approve, reject")
    approval_commands = approvals.add_subparsers(dest="action", required=True)
    pending = approval_commands.add_parser("list", help="approvals waiting for a decision")
    pending.add_argument("--tenant", default="default")
    pending.set_defaults(handler=approvals_list)
    for action, handler in (("approve", approvals_approve), ("reject", approvals_reject)):
        decide = approval_commands.add_parser(action, help=f"{action} an execution (or, at level 3, a step)")
        decide.add_argument("execution_id")
        decide.add_argument("--actor", required=True, help="who decides (e.g. user:bob)")
        decide.add_argument("--tenant", default="default")
        decide.add_argument("--step", help="level 3: the step")
        decide.add_argument("--reason")
        if action == "approve":
            decide.add_argument("--plan-hash", help="the plan hash you reviewed (levels 2 and 3)")
        decide.set_defaults(handler=handler)


def executions_list(args: argparse.Namespace) -> int:
    settings_of(args)
    statuses = (args.status,) if args.status else ()
    with open_store().connect() as conn:
        found = list_executions(conn, args.tenant, statuses=statuses, plan=args.plan, limit=args.limit)
        approvals = {k: approval_summary(v) for k, v in summaries(conn, [e.id for e in found]).items()}
    if args.json:
        for current in found:
            print(json.dumps({**_plain(current), "approvals": approvals.get(current.id, "")}, default=str))
        return 0
    print(executions_markdown(found, approvals, limit=args.limit))
    return 0


def executions_show(args: argparse.Namespace) -> int:
    with open_store().connect() as conn:
        current = execution(conn, args.execution_id, args.tenant)
        steps, events, requests = steps_of(conn, current.id), events_of(conn, current.id), requests_of(conn, current.id)
    if args.json:
        shown = {
            **_plain(current),
            "steps": [dataclasses.asdict(s) for s in steps],
            "approvals": [dataclasses.asdict(r) for r in requests],
            "events": [dataclasses.asdict(e) for e in events],
        }
        print(json.dumps(shown, default=str, indent=2))
        return 0
    print(f"# execution {current.id}: {current.plan_name} v{current.plan_version} ({current.plan_hash})")
    print(
        f"status {current.status}; tenant {current.tenant}; submitted by {current.submitted_by} "
        f"at {current.submitted_at:%Y-%m-%d %H:%M:%S}; approval level {current.approval_level} "
        f"({approval_summary(requests) or 'none needed'}); parameters {current.parameters}"
    )
    print("\n## steps\n" + steps_markdown(steps))
    print("\n## event trail\n" + events_markdown(events))
    return 0


def executions_cancel(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    outcome = cancel(
        open_store(),
        args.execution_id,
        tenant=args.tenant,
        actor=args.actor,
        webserver=webserver_of(settings),
        rbac=settings.policies.rbac,
        wait_s=args.wait,
    )
    runs = f"terminated run {', '.join(outcome.terminated_runs)}" if outcome.terminated_runs else "no run was running"
    print(f"cancel requested ({runs}): execution {outcome.execution_id} is {outcome.status}")
    return 0 if outcome.status == "cancelled" else 1


def _plain(current: Any) -> dict[str, Any]:
    """An execution as JSON-ready fields; its plan snapshot is left out (`ops-pipeline plans show` prints it)."""
    fields = dataclasses.asdict(current)
    fields.pop("snapshot")
    return fields


def approvals_list(args: argparse.Namespace) -> int:
    with open_store().connect() as conn:
        requests = pending_requests(conn, args.tenant)
        found = {r.execution_id: execution(conn, r.execution_id) for r in requests}
    print(approvals_markdown(requests, found))
    return 0


def approvals_approve(args: argparse.Namespace) -> int:
    decided = approve(
        open_store(),
        args.execution_id,
        tenant=args.tenant,
        approver=args.actor,
        now=datetime.now(UTC),
        plan_hash=args.plan_hash,
        step_id=args.step,
        reason=args.reason,
        rbac=settings_of(args).policies.rbac,
    )
    print(f"approved: execution {decided.id} is {decided.status}")
    return 0


def approvals_reject(args: argparse.Namespace) -> int:
    decided = reject(
        open_store(),
        args.execution_id,
        tenant=args.tenant,
        actor=args.actor,
        now=datetime.now(UTC),
        step_id=args.step,
        reason=args.reason,
    )
    print(f"rejected: execution {decided.id} is {decided.status}")
    return 0
