"""`ops-pipeline actions rerun|replan|skip|rollback|debug EXECUTION_ID` launch the recovery job through the
webserver's GraphQL API (the work runs in Dagster, audited like a launch from the UI), `actions list` shows the
audit; `replans list|show|resume` read the control loop's decisions and let it act again on a stopped plan."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from ops_pipeline.cli.common import one_line, settings_of
from ops_pipeline.execution.webserver import FINISHED, Webserver, graphql_url
from ops_pipeline.markdown.table import table
from ops_pipeline.store.control_loop import actions_of, replan_event, replan_events_of, resume_loop
from ops_pipeline.store.engine import open_store

JOBS = {
    "rerun": "rerun_execution",
    "replan": "replan_execution",
    "skip": "skip_execution_step",
    "rollback": "rollback_execution",
    "debug": "debug_execution",
}


def add_commands(commands: argparse._SubParsersAction) -> None:
    actions = commands.add_parser("actions", help="recovery actions on executions, and their audit")
    action_commands = actions.add_subparsers(dest="action", required=True)
    for name in JOBS:
        launch = action_commands.add_parser(name, help=f"launch the {JOBS[name]} job")
        launch.add_argument("execution_id")
        launch.add_argument("--actor", required=True, help="who acts (e.g. user:bob)")
        launch.add_argument("--reason", default="")
        launch.add_argument("--wait", action="store_true", help="wait for the job's run to finish")
        _action_arguments(name, launch)
        launch.set_defaults(handler=actions_launch, job=JOBS[name], name=name)
    listing = action_commands.add_parser("list", help="recovery actions, newest first")
    listing.add_argument("--execution")
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(handler=actions_list)

    replans = commands.add_parser("replans", help="the control loop's decisions (replan events)")
    replan_commands = replans.add_subparsers(dest="action", required=True)
    events = replan_commands.add_parser("list", help="decisions, newest first")
    events.add_argument("--plan")
    events.add_argument("--decision")
    events.add_argument("--limit", type=int, default=50)
    events.set_defaults(handler=replans_list)
    show = replan_commands.add_parser("show", help="one decision with its trigger and patch diff")
    show.add_argument("event_id", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=replans_show)
    resume = replan_commands.add_parser("resume", help="let the loop act again on a plan it stopped for")
    resume.add_argument("plan")
    resume.set_defaults(handler=replans_resume)


def _action_arguments(name: str, parser: argparse.ArgumentParser) -> None:
    if name == "skip":
        parser.add_argument("--step", default="", help="the step to skip (default: the failed one)")
    if name == "rollback":
        parser.add_argument("--steps", nargs="*", default=[], help="steps to undo (default: every completed one)")
    if name == "replan":
        parser.add_argument("--parameters", default="{}", help="parameter -> new value, as a JSON object")
        parser.add_argument("--skip-steps", nargs="*", default=[])
        parser.add_argument("--retry-from", default="")
        parser.add_argument("--targets-add", nargs="*", default=[])
        parser.add_argument("--targets-remove", nargs="*", default=[])
        parser.add_argument("--no-submit", action="store_true", help="make the version, do not submit it")


def _config(args: argparse.Namespace) -> dict[str, Any]:
    config: dict[str, Any] = {"execution_id": args.execution_id, "actor": args.actor, "reason": args.reason}
    if args.name == "skip":
        config["step"] = args.step
    if args.name == "rollback":
        config["steps"] = args.steps
    if args.name == "replan":
        config.update(
            parameters_json=args.parameters,
            skip_steps=args.skip_steps,
            retry_from=args.retry_from,
            targets_add=args.targets_add,
            targets_remove=args.targets_remove,
            submit=not args.no_submit,
        )
    return config


def actions_launch(args: argparse.Namespace) -> int:
    webserver = Webserver(graphql_url(settings_of(args).plans.graphql_url))
    run_id = webserver.launch_run(args.job, _config(args), {"ops/actor": args.actor})
    print(f"{args.name}: launched {args.job} run {run_id}")
    if not args.wait:
        return 0
    while (status := webserver.run_status(run_id)) not in FINISHED:
        time.sleep(1)
    with open_store().connect() as conn:
        done = [a for a in actions_of(conn, args.execution_id) if a.run_id == run_id]
    print(f"run {run_id}: {status}" + (f"; {done[0].status}: {done[0].outcome}" if done else ""))
    return 0 if status == "SUCCESS" else 1


def actions_list(args: argparse.Namespace) -> int:
    with open_store().connect() as conn:
        found = actions_of(conn, args.execution, args.limit)
    rows = [
        [
            a.id,
            f"{a.started_at:%Y-%m-%d %H:%M:%S}",
            a.action,
            a.execution_id,
            a.actor,
            a.trigger_kind,
            a.status,
            one_line(a.outcome),
            a.result_execution_id,
        ]
        for a in found
    ]
    headers = ["id", "started", "action", "execution", "actor", "trigger", "status", "outcome", "result"]
    print(table(headers, rows, empty="No recovery action was taken yet."))
    return 0


def replans_list(args: argparse.Namespace) -> int:
    with open_store().connect() as conn:
        events = replan_events_of(conn, args.plan, args.decision, args.limit)
    rows = [
        [
            e.id,
            f"{e.at:%Y-%m-%d %H:%M:%S}",
            e.subject,
            e.execution_id,
            e.trigger_kind,
            e.decision,
            e.rule,
            e.replan_count,
            e.plan_version_after or "",
            one_line(e.outcome),
        ]
        for e in events
    ]
    headers = ["id", "at", "plan", "execution", "trigger", "decision", "rule", "replans", "new version", "outcome"]
    print(table(headers, rows, empty="The control loop has decided nothing yet."))
    return 0


def replans_show(args: argparse.Namespace) -> int:
    with open_store().connect() as conn:
        event = replan_event(conn, args.event_id)
    if args.json:
        print(json.dumps(event.__dict__, default=str, indent=2))
        return 0
    print(f"# replan event {event.id}: {event.decision} for {event.subject} ({event.trigger_kind})")
    print(f"at {event.at:%Y-%m-%d %H:%M:%S}; execution {event.execution_id}; rule {event.rule}")
    print(f"reason: {event.reason}")
    print(f"replans in the window: {event.replan_count}; cooling until {event.cooling_deadline or '-'}")
    after = event.plan_version_after or "-"
    print(f"plan version {event.plan_version_before} -> {after}; outcome: {event.outcome or '-'}")
    print("\n## trigger\n" + json.dumps(event.trigger, indent=2))
    print("\n## patch diff\n" + (event.diff_markdown or "no new plan version"))
    return 0


def replans_resume(args: argparse.Namespace) -> int:
    with open_store().begin() as conn:
        resumed = resume_loop(conn, args.plan)
    print(f"the loop acts on {args.plan} again" if resumed else f"the loop had not stopped for {args.plan}")
    return 0
