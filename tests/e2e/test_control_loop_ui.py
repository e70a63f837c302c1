"""The control loop and the recovery actions on `dagster dev` (daemon, run queue, sensors, GraphQL): a failing
plan is rerun by the loop from its failure (a real re-execution in the same run group), then replanned into a
new version that the launcher runs; each action is launched as the launchpad does, and one from the CLI."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.conftest import REPO_ROOT
from tests.dagster.test_control_loop import PLAN, loop_config, ping_plan
from tests.e2e.dagster_dev import free_port, running_dagster_dev, wait_for
from tests.e2e.test_execution_ui import Environment, execution_of, finished, launch, ops_cli, wait_status

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Environment]:
    tmp_path = tmp_path_factory.mktemp("control_loop")
    home, plans, shop = tmp_path / "home", tmp_path / "plans", tmp_path / "shop.db"
    home.mkdir()
    plans.mkdir()
    with sqlite3.connect(shop) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT, note TEXT)")
        conn.execute("CREATE TABLE journal (entry TEXT)")
    (plans / f"{PLAN}.yaml").write_text(yaml.safe_dump(ping_plan(free_port())))
    (home / "dagster.yaml").write_text((REPO_ROOT / "dagster.yaml").read_text())
    port, log = free_port(), tmp_path / "dagster_dev.log"
    loop = {**loop_config(), "failure_interval_s": 5, "signal_interval_s": 3600, "bundle_dir": str(tmp_path / "b")}
    config = {
        "sources": {"shop": {"type": "sqlite", "path": str(shop)}},
        "plans": {"folders": [str(plans)], "launch_interval_s": 5, "graphql_url": f"http://127.0.0.1:{port}/graphql"},
        "control_loop": loop,
    }
    (tmp_path / "ops.yaml").write_text(yaml.safe_dump(config))
    env = {**os.environ, "DAGSTER_HOME": str(home), "OPS_CONFIG": str(tmp_path / "ops.yaml")}
    env.pop("OPS_DATABASE_URL", None)
    with running_dagster_dev(port=port, log=log, env=env, ready_s=120):
        yield Environment(port, log, env, shop)


def actions(environment: Environment) -> list[dict[str, Any]]:
    listed = ops_cli(environment, "actions", "list", "--limit", "200")
    rows = [line.strip("|").split("|") for line in listed.splitlines()[2:] if line.startswith("|")]
    keys = ["id", "started", "action", "execution", "actor", "trigger", "status", "outcome", "result"]
    return [dict(zip(keys, (cell.strip() for cell in row), strict=False)) for row in rows]


def done_action(environment: Environment, action: str, execution_id: str, actor: str) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        return next(
            (
                a
                for a in actions(environment)
                if (a["action"], a["execution"], a["actor"]) == (action, execution_id, actor)
                and a["status"] != "running"
            ),
            None,
        )

    row: dict[str, Any] = wait_for(f"{action} of {execution_id} by {actor}", found, 240, environment.log)
    return row


def test_the_loop_reruns_from_the_failure_then_replans(environment: Environment) -> None:
    failed = finished(environment, launch(environment, PLAN, {"idempotency_key": "e2e-1"}, "user:alice"))
    assert failed["status"] == "FAILURE"
    first = execution_of(environment, failed["runId"])
    rerun = done_action(environment, "rerun", first["id"], "control-loop")
    assert rerun["status"] == "succeeded" and "re-executes from the failure" in rerun["outcome"]
    continuation = wait_status(environment, rerun["result"], "failed")
    steps = {s["step_id"]: s["status"] for s in continuation["steps"]}
    assert steps["prepare"] == "succeeded" and steps["ping"] == "failed"  # carried over, then run again
    replan = done_action(environment, "replan", continuation["id"], "control-loop")
    assert replan["status"] == "succeeded" and f"{PLAN} v2" in replan["outcome"]
    listed = ops_cli(environment, "replans", "list", "--plan", PLAN, "--decision", "replan")
    assert "| replan |" in listed


def test_each_action_launches_from_the_launchpad_and_the_cli(environment: Environment) -> None:
    failed = finished(environment, launch(environment, PLAN, {"idempotency_key": "e2e-2"}, "user:alice"))
    current = execution_of(environment, failed["runId"])
    debug = finished(environment, launch(environment, "debug_execution", {"execution_id": current["id"]}, "user:bob"))
    assert debug["status"] == "SUCCESS", debug["failures"]
    skip = launch(environment, "skip_execution_step", {"execution_id": current["id"], "step": "ping"}, "user:bob")
    assert finished(environment, skip)["status"] == "SUCCESS"
    skipped = done_action(environment, "skip", current["id"], "user:bob")
    continued = wait_status(environment, skipped["result"], "completed")
    assert {s["step_id"]: s["status"] for s in continued["steps"]}["ping"] == "skipped"
    replan = {"execution_id": current["id"], "parameters_json": json.dumps({"note": "by hand"}), "submit": False}
    assert finished(environment, launch(environment, "replan_execution", replan, "user:bob"))["status"] == "SUCCESS"
    rollback = launch(environment, "rollback_execution", {"execution_id": current["id"]}, "user:bob")
    assert finished(environment, rollback)["status"] == "SUCCESS"
    printed = ops_cli(environment, "actions", "rerun", current["id"], "--actor", "user:carol", "--wait")
    assert "launched rerun_execution run" in printed
    audit = {(a["action"], a["actor"]): a["status"] for a in actions(environment) if a["execution"] == current["id"]}
    assert {k: v for k, v in audit.items() if k[1] != "control-loop"} == {
        ("debug", "user:bob"): "succeeded",
        ("skip", "user:bob"): "succeeded",
        ("replan", "user:bob"): "succeeded",
        ("rollback", "user:bob"): "succeeded",
        ("rerun", "user:carol"): "succeeded",
    }
