"""`ops-pipeline plans list|check|show|submit|worker-config`: the plan files ops.yaml names, submitting one, and
the config file Celery workers start with (`dagster-celery worker start -y <file> -q <queue>`).

A submission from the command line is admitted here (idempotency, plan version, approval request); the
approvals sensor launches it once it may run (level 0 at once).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

import yaml

from ops_pipeline.cli.common import settings_of
from ops_pipeline.core.plans.canonical import canonical_json, plan_hash, structure_fingerprint
from ops_pipeline.execution.access import actor_id, check_submit
from ops_pipeline.execution.admission import AdmissionPolicy, Submission, admit
from ops_pipeline.execution.plan_files import PlanCatalog, load_plan_files
from ops_pipeline.settings import OpsSettings
from ops_pipeline.store.engine import open_store
from ops_pipeline.store.plan_versions import versions_of


def add_commands(commands: argparse._SubParsersAction) -> None:
    plans = commands.add_parser("plans", help="execution plans: list, check, show and submit them")
    plan_commands = plans.add_subparsers(dest="action", required=True)
    plan_commands.add_parser("list", help="every valid plan, and the files that are not").set_defaults(
        handler=plans_list
    )
    plan_commands.add_parser("check", help="validate every plan file; exit 2 when one is bad").set_defaults(
        handler=plans_check
    )
    show = plan_commands.add_parser("show", help="a plan's hash, structure, steps and stored versions")
    show.add_argument("plan")
    show.set_defaults(handler=plans_show)
    submit = plan_commands.add_parser("submit", help="submit an execution of a plan")
    submit.add_argument("plan")
    submit.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="a plan parameter")
    submit.add_argument("--actor", required=True, help="who submits (e.g. user:alice)")
    submit.add_argument("--tenant", help="default: the plan's tenant")
    submit.add_argument("--idempotency-key", help="default: derived from plan, targets and parameters")
    submit.add_argument("--version", type=int, help="a stored plan version (default: the file as it is)")
    submit.add_argument("--json", action="store_true", help="print the execution as JSON")
    submit.set_defaults(handler=plans_submit)
    plan_commands.add_parser(
        "worker-config", help="the YAML for `dagster-celery worker start -y` from plans.celery (broker, backend)"
    ).set_defaults(handler=plans_worker_config)


def plan_catalog(settings: OpsSettings) -> PlanCatalog:
    return load_plan_files(settings.plans.folders)


def plans_list(args: argparse.Namespace) -> int:
    catalog = plan_catalog(settings_of(args))
    for name, plan_file in sorted(catalog.plans.items()):
        plan = plan_file.plan
        print(
            f"{name}\tlevel {plan.approval_level}\t{plan.environment}\t{plan.action_class}\t{plan.effective_sla}\t"
            f"{len(plan.steps)} steps\t{plan_file.path}"
        )
    for problem in catalog.problems:
        print(f"skipped: {problem}", file=sys.stderr)
    return 0


def plans_check(args: argparse.Namespace) -> int:
    catalog = plan_catalog(settings_of(args))
    for problem in catalog.problems:
        print(problem, file=sys.stderr)
    print(f"{len(catalog.plans)} plans valid, {len(catalog.problems)} problems")
    return 2 if catalog.problems else 0


def plans_show(args: argparse.Namespace) -> int:
    plan_file = plan_catalog(settings_of(args)).plan(args.plan)
    plan = plan_file.plan
    print(f"# {plan.name} ({plan_file.path}): {plan.description}")
    print(f"hash {plan_hash(plan)}\nstructure {structure_fingerprint(plan)}")
    print(
        f"tenant {plan.tenant}, {plan.environment}, {plan.action_class}, {plan.effective_sla}, "
        f"approval level {plan.approval_level}, targets: {', '.join(plan.targets) or 'none'}"
    )
    for step in plan.steps:
        print(
            f"step {step.id}\t{step.type}\tafter: {', '.join(step.depends_on) or '-'}\trollback: {step.rollback or '-'}"
        )
    with open_store().connect() as conn:
        for version in versions_of(conn, plan.name):
            current = " (the file)" if version.snapshot == canonical_json(plan) else ""
            print(f"version {version.version}\t{version.plan_hash}\t{version.created_at:%Y-%m-%d %H:%M:%S}{current}")
    return 0


def plans_submit(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    plan_file = plan_catalog(settings).plan(args.plan)
    parameters = {}
    for pair in args.param:
        name, separator, value = pair.partition("=")
        if not separator or not name:
            raise ValueError(f"--param {pair!r}: write NAME=VALUE")
        parameters[name] = value
    now = datetime.now(UTC)
    check_submit(open_store(), settings.policies.rbac, plan_file.plan, tenant=args.tenant, actor=args.actor, now=now)
    submission = Submission(
        plan=plan_file.plan,
        origin=str(plan_file.path),
        actor=actor_id(args.actor),
        parameters=parameters,
        tenant=args.tenant,
        idempotency_key=args.idempotency_key,
        version=args.version,
    )
    policy = AdmissionPolicy(
        settings.plans.idempotency_window, {k: float(v) for k, v in settings.plans.approval_expiry.items()}
    )
    admission = admit(open_store(), submission, policy, now)
    current = admission.execution
    if args.json:
        print(
            json.dumps(
                {
                    "execution_id": current.id,
                    "status": current.status,
                    "duplicate": admission.duplicate,
                    "plan_hash": current.plan_hash,
                    "version": current.plan_version,
                }
            )
        )
        return 0
    word = "duplicate of" if admission.duplicate else "submitted"
    print(f"{word} execution {current.id}: {current.plan_name} v{current.plan_version}, {current.status}")
    if current.status == "pending_approval":
        hint = f" --plan-hash {current.plan_hash}" if current.approval_level >= 2 else ""
        print(
            f"needs a level {current.approval_level} approval: ops-pipeline approvals approve {current.id}{hint} "
            "--actor <approver>"
        )
    return 0


def plans_worker_config(args: argparse.Namespace) -> int:
    celery = settings_of(args).plans.celery
    print(f"# dagster-celery worker start -A dagster_celery.app -y <this file> -q {celery.queue}")
    print(yaml.safe_dump({"execution": {"config": celery.executor_config()}}, sort_keys=False), end="")
    return 0
