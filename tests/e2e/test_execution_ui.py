"""Execution plans through the UI's GraphQL API on `dagster dev` (daemon, run queue, sensors), with SQLite and
with PostgreSQL storage (Dagster's and the ops store): a level 0 plan launched from the launchpad runs; a
level 2 plan waits, is approved by launching the approve job as the UI does, and the approvals sensor launches
it; a level 3 plan pauses after each step and the sensor resumes it, one run group, after each step's
approval."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from tests.conftest import PG_HOST, PG_PORT, REPO_ROOT, pg_url, require_service
from tests.e2e.dagster_dev import LAUNCH, demo_config, free_port, graphql_vars, running_dagster_dev, wait_for

pytestmark = pytest.mark.e2e

STEPWISE_PLAN = {
    "name": "stepwise_check",
    "description": "Two read-only checks, each approved on its own.",
    "environment": "dev",
    "action_class": "read",
    "sla_class": "fast",
    "approval_level": 3,
    "steps": [
        {"id": "count_customers", "type": "sql", "source": "demo", "statement": "SELECT COUNT(*) AS n FROM customers"},
        {
            "id": "customers_exist",
            "type": "validation",
            "depends_on": ["count_customers"],
            "assert": {"step": "count_customers", "path": "rows[0].n", "op": "gt", "value": 0},
        },
    ],
}
RUN = """
query($id: ID!) { runOrError(runId: $id) { ... on Run { runId status tags { key value } rootRunId
    stepStats { stepKey status } } } }
"""
RUNS_OF_GROUP = """
query($id: ID!) { runGroupOrError(runId: $id) { ... on RunGroup { rootRunId runs { runId status } } } }
"""
FAILURES = """
query($id: ID!) { logsForRun(runId: $id) { ... on EventConnection { events { __typename
    ... on ExecutionStepFailureEvent { stepKey error { message } } ... on RunFailureEvent { message } } } } }
"""
JOB_FORM = """
query($selector: PipelineSelector!) { pipelineOrError(params: $selector) { ... on Pipeline {
    tags { key value } solidHandles { handleID } } } }
"""


@dataclass(frozen=True)
class Environment:
    port: int
    log: Path
    env: dict[str, str]
    warehouse: Path


def _dagster_yaml(home: Path, pg_url: str | None) -> None:
    config = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())
    if pg_url:  # the storages of deploy/dagster.postgres.yaml (event_log_storage masks), on this database
        postgres = yaml.safe_load((REPO_ROOT / "deploy" / "dagster.postgres.yaml").read_text())
        for key in ("run_storage", "event_log_storage", "schedule_storage"):
            config[key] = {**postgres[key], "config": {**postgres[key]["config"], "postgres_url": pg_url}}
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def environment(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Environment]:
    tmp_path = tmp_path_factory.mktemp(f"plans_{request.param}")
    home, plans = tmp_path / "home", tmp_path / "plans"
    home.mkdir()
    plans.mkdir()
    (plans / "stepwise_check.yaml").write_text(yaml.safe_dump(STEPWISE_PLAN, sort_keys=False))
    port, log = free_port(), tmp_path / "dagster_dev.log"

    env = {**os.environ, "DAGSTER_HOME": str(home), "OPS_CONFIG": str(tmp_path / "ops.yaml")}
    env.pop("OPS_DATABASE_URL", None)
    databases: list[str] = []
    if request.param == "postgresql":
        require_service("PostgreSQL", PG_HOST, PG_PORT)
        databases = [_create_pg_database(), _create_pg_database()]
        _dagster_yaml(home, pg_url(databases[0]).replace("+psycopg2", ""))
        env["OPS_DATABASE_URL"] = pg_url(databases[1])
    else:
        _dagster_yaml(home, None)

    config, warehouse = demo_config(tmp_path)
    config["plans"] = {
        "folders": [str(REPO_ROOT / "examples" / "demo" / "plans"), str(plans)],
        "launch_interval_s": 5,
        "graphql_url": f"http://127.0.0.1:{port}/graphql",
    }
    (tmp_path / "ops.yaml").write_text(yaml.safe_dump(config))

    try:
        with running_dagster_dev(port=port, log=log, env=env, ready_s=120):
            yield Environment(port, log, env, warehouse)
    finally:
        for database in databases:
            _drop_pg_database(database)


def _create_pg_database() -> str:
    name = f"ops_e2e_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name


def _drop_pg_database(name: str) -> None:
    admin = sa.create_engine(pg_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def selector(job: str) -> dict[str, str]:
    return {"repositoryLocationName": "ops_pipeline", "repositoryName": "__repository__", "jobName": job}


def launch(environment: Environment, job: str, config: dict[str, Any], actor: str) -> str:
    params = {
        "selector": selector(job),
        "runConfigData": config,
        "executionMetadata": {"tags": [{"key": "ops/actor", "value": actor}]},
    }
    launched = graphql_vars(environment.port, LAUNCH, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return str(launched["run"]["runId"])


def finished(environment: Environment, run_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        run = graphql_vars(environment.port, RUN, {"id": run_id})["runOrError"]
        return run if run.get("status") in ("SUCCESS", "FAILURE", "CANCELED") else None

    run: dict[str, Any] = wait_for(f"run {run_id} finishing", done, 180, environment.log)
    events = graphql_vars(environment.port, FAILURES, {"id": run_id})["logsForRun"]["events"]
    run["failures"] = [
        e.get("error", {}).get("message") or e.get("message") for e in events if "Failure" in e["__typename"]
    ]
    return run


def ops_cli(environment: Environment, *args: str) -> str:
    ops_pipeline = Path(sys.executable).parent / "ops-pipeline"
    done = subprocess.run(
        [str(ops_pipeline), *args], env=environment.env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def execution_of(environment: Environment, run_id: str) -> dict[str, Any]:
    run = graphql_vars(environment.port, RUN, {"id": run_id})["runOrError"]
    execution_id = {t["key"]: t["value"] for t in run["tags"]}["ops/execution_id"]
    shown: dict[str, Any] = json.loads(ops_cli(environment, "executions", "show", execution_id, "--json"))
    return shown


def wait_status(environment: Environment, execution_id: str, status: str) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        shown = json.loads(ops_cli(environment, "executions", "show", execution_id, "--json"))
        return shown if shown["status"] == status else None

    shown: dict[str, Any] = wait_for(f"execution {execution_id} {status}", reached, 180, environment.log)
    return shown


def test_a_plan_job_shows_its_steps_tags_and_flat_form(environment: Environment) -> None:
    job_selector = {**selector(""), "pipelineName": "warehouse_health"}
    job_selector.pop("jobName")
    job = graphql_vars(environment.port, JOB_FORM, {"selector": job_selector})["pipelineOrError"]
    assert {h["handleID"] for h in job["solidHandles"]} == {"preflight", "count_orders", "orders_exist"}
    job_tags = {t["key"]: t["value"] for t in job["tags"]}
    assert job_tags["ops/sla"] == "fast" and job_tags["dagster/priority"] == "10"


def test_a_level_0_plan_launched_from_the_launchpad_runs_at_once(environment: Environment) -> None:
    run_id = launch(environment, "warehouse_health", {"status": "cancelled"}, "user:alice")
    run = finished(environment, run_id)
    assert run["status"] == "SUCCESS", run["failures"]
    assert {s["stepKey"]: s["status"] for s in run["stepStats"]} == {
        "preflight": "SUCCESS",
        "count_orders": "SUCCESS",
        "orders_exist": "SUCCESS",
    }
    shown = execution_of(environment, run_id)
    assert (shown["status"], shown["submitted_by"]) == ("completed", "user:alice")
    assert [e["to_status"] for e in shown["events"] if e["kind"] == "status"][-1] == "completed"


def test_a_level_2_plan_waits_for_an_approval_from_the_ui_then_the_sensor_runs_it(environment: Environment) -> None:
    cancelled_before = _cancelled_orders(environment.warehouse)
    submitted = finished(environment, launch(environment, "archive_cancelled_orders", {}, "user:alice"))
    assert submitted["status"] == "SUCCESS"  # preflight admitted it; the steps wait for the approval
    shown = execution_of(environment, _run_id(submitted))
    assert shown["status"] == "pending_approval" and shown["approval_level"] == 2

    wrong_hash = launch(
        environment, "approve_execution", {"execution_id": shown["id"], "plan_hash": "0" * 64}, "user:bob"
    )
    assert finished(environment, wrong_hash)["status"] == "FAILURE"
    approved = launch(
        environment, "approve_execution", {"execution_id": shown["id"], "plan_hash": shown["plan_hash"]}, "user:bob"
    )
    assert finished(environment, approved)["status"] == "SUCCESS"

    done = wait_status(environment, shown["id"], "completed")
    assert _cancelled_orders(environment.warehouse) < cancelled_before
    trail = [(e["kind"], e["actor"]) for e in done["events"]]
    assert ("approval_approved", "user:bob") in trail and ("submitted", "user:alice") in trail


def test_a_level_3_plan_pauses_after_each_step_and_resumes_in_one_run_group(environment: Environment) -> None:
    first_run = finished(environment, launch(environment, "stepwise_check", {}, "user:alice"))
    shown = execution_of(environment, _run_id(first_run))
    assert shown["status"] == "pending_approval"

    for step, status in (("count_customers", "running"), ("customers_exist", "completed")):
        approval = ("--plan-hash", shown["plan_hash"], "--step", step, "--actor", "user:bob")
        ops_cli(environment, "approvals", "approve", shown["id"], *approval)
        shown = wait_status(environment, shown["id"], status)
        steps = {s["step_id"]: s["status"] for s in shown["steps"]}
        assert steps[step] == "succeeded"

    group = graphql_vars(environment.port, RUNS_OF_GROUP, {"id": shown["last_run_id"]})["runGroupOrError"]
    # The approved first step's run, and the resumption at the second step, re-executing it: one run group.
    assert group["rootRunId"] == shown["root_run_id"] and len(group["runs"]) == 2
    assert all(r["status"] == "SUCCESS" for r in group["runs"])


def _run_id(run: dict[str, Any]) -> str:
    return str(run["runId"])


def _cancelled_orders(warehouse: Path) -> int:
    with sqlite3.connect(warehouse) as conn:
        count: int = conn.execute("SELECT COUNT(*) FROM orders WHERE status = 'cancelled'").fetchone()[0]
    return count
