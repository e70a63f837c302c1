"""Cancellation, dead letters, requeue and the reaper on `dagster dev` (daemon, run queue, sensors, code server):

* `ops-pipeline executions cancel` stops a running `sleep` step within about a second, kills its child, rolls
  back the completed steps last first, and the execution ends `cancelled`;
* a plan whose service is unreachable is dead-lettered after its last attempt by the `dead_letters` sensor,
  `ops-pipeline dlq requeue` re-executes it from its failure once the service is up, and a second requeue is
  refused;
* a run worker killed with SIGKILL leaves a `running` execution that the reaper ends `failed`, releasing it.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO_ROOT
from tests.e2e.dagster_dev import LAUNCH, free_port, graphql_vars, running_dagster_dev, wait_for

pytestmark = pytest.mark.e2e

RUN = """query($id: ID!) { runOrError(runId: $id) { ... on Run { runId status tags { key value } } } }"""
ENGINE_EVENTS = """
query($id: ID!) { logsForRun(runId: $id) { ... on EventConnection { events { __typename
    ... on EngineEvent { message } ... on ExecutionStepFailureEvent { error { message } }
    ... on RunFailureEvent { message } } } } }
"""


def _shell(text: str) -> list[str]:
    return ["sh", "-c", text]


def _plans(work: Path, service_port: int) -> list[dict[str, Any]]:
    log = work / "changes.log"
    return [
        {
            "name": "slow_change",
            "environment": "dev",
            "targets": ["here"],
            "action_class": "modify",
            "sla_class": "long",
            "approval_level": 0,
            "steps": [
                {
                    "id": "first",
                    "type": "command",
                    "target": "here",
                    "argv": _shell(f"echo first >> {log}"),
                    "rollback": "undo_first",
                },
                {
                    "id": "second",
                    "type": "command",
                    "target": "here",
                    "argv": _shell(f"echo second >> {log}"),
                    "rollback": "undo_second",
                },
                {
                    "id": "wait",
                    "type": "command",
                    "target": "here",
                    "argv": _shell(f"sleep 300 & echo $! > {work / 'child.pid'}; wait"),
                },
            ],
            "rollback_steps": [
                {"id": "undo_first", "type": "command", "target": "here", "argv": _shell(f"echo undo first >> {log}")},
                {
                    "id": "undo_second",
                    "type": "command",
                    "target": "here",
                    "argv": _shell(f"echo undo second >> {log}"),
                },
            ],
        },
        {
            "name": "ping_service",
            "environment": "dev",
            "action_class": "read",
            "sla_class": "fast",
            "approval_level": 0,
            "steps": [{"id": "ping", "type": "http", "url": f"http://127.0.0.1:{service_port}/health"}],
        },
        {
            "name": "hang",
            "environment": "dev",
            "targets": ["here"],
            "action_class": "read",
            "sla_class": "long",
            "approval_level": 0,
            "steps": [{"id": "nap", "type": "command", "target": "here", "argv": ["sleep", "45"]}],
        },
    ]


@dataclass(frozen=True)
class Dev:
    port: int
    log: Path
    env: dict[str, str]
    work: Path
    service_port: int


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dev]:
    work = tmp_path_factory.mktemp("recovery")
    home, plans = work / "home", work / "plans"
    home.mkdir()
    plans.mkdir()
    port, service_port, log = free_port(), free_port(), work / "dagster_dev.log"
    for plan in _plans(work, service_port):
        (plans / f"{plan['name']}.yaml").write_text(yaml.safe_dump(plan, sort_keys=False))
    (home / "dagster.yaml").write_text((REPO_ROOT / "dagster.yaml").read_text())
    config = {
        "plans": {"folders": [str(plans)], "launch_interval_s": 5, "graphql_url": f"http://127.0.0.1:{port}/graphql"},
        "services": {"targets": {"here": {"hostname": "localhost", "connection": "local"}}},
        "policies": {"retry_delay_s": 0.1},
    }
    (work / "ops.yaml").write_text(yaml.safe_dump(config))
    env = {**os.environ, "DAGSTER_HOME": str(home), "OPS_CONFIG": str(work / "ops.yaml")}
    env.pop("OPS_DATABASE_URL", None)
    with running_dagster_dev(port=port, log=log, env=env):
        yield Dev(port, log, env, work, service_port)


def _launch(dev: Dev, job: str) -> str:
    params = {
        "selector": {"repositoryLocationName": "ops_pipeline", "repositoryName": "__repository__", "jobName": job},
        "runConfigData": {},
        "executionMetadata": {"tags": [{"key": "ops/actor", "value": "user:alice"}]},
    }
    launched = graphql_vars(dev.port, LAUNCH, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return str(launched["run"]["runId"])


def _run(dev: Dev, run_id: str) -> dict[str, Any]:
    run: dict[str, Any] = graphql_vars(dev.port, RUN, {"id": run_id})["runOrError"]
    run["tags"] = {t["key"]: t["value"] for t in run["tags"]}
    return run


def _cli(dev: Dev, *args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
    ops_pipeline = Path(sys.executable).parent / "ops-pipeline"
    done = subprocess.run([str(ops_pipeline), *args], env=dev.env, capture_output=True, text=True, timeout=120)
    assert done.returncode == expect, (done.stdout, done.stderr)
    return done


def _show(dev: Dev, execution_id: str) -> dict[str, Any]:
    shown: dict[str, Any] = json.loads(_cli(dev, "executions", "show", execution_id, "--json").stdout)
    return shown


def _execution_id(dev: Dev, run_id: str) -> str:
    def tagged() -> str | None:
        return _run(dev, run_id)["tags"].get("ops/execution_id")

    found: str = wait_for(f"run {run_id} admitting its execution", tagged, 240, dev.log)
    return found


def _step_status(dev: Dev, execution_id: str, step_id: str) -> str:
    return next(s["status"] for s in _show(dev, execution_id)["steps"] if s["step_id"] == step_id)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return status.exists() and status.read_text().split()[2] != "Z"


def test_cancel_from_the_cli_stops_the_step_kills_its_child_and_rolls_back_last_first(dev: Dev) -> None:
    run_id = _launch(dev, "slow_change")
    execution_id = _execution_id(dev, run_id)
    child_pid_file = dev.work / "child.pid"
    wait_for(
        "the sleep step running", lambda: child_pid_file.exists() and child_pid_file.read_text().strip(), 240, dev.log
    )
    child = int(child_pid_file.read_text())
    assert _alive(child)

    started = time.monotonic()
    done = _cli(dev, "executions", "cancel", execution_id, "--actor", "user:bob")
    assert f"execution {execution_id} is cancelled" in done.stdout
    wait_for("the child killed", lambda: not _alive(child), 5, dev.log)
    shown = _show(dev, execution_id)
    steps = {s["step_id"]: s for s in shown["steps"]}
    wait_stopped = datetime_of(steps["wait"]["finished_at"])
    requested = next(e for e in shown["events"] if e["kind"] == "cancel_requested")
    assert (wait_stopped - datetime_of(requested["at"])).total_seconds() < 1.5, "the step stopped within ~1 s"
    assert time.monotonic() - started < 30
    assert shown["status"] == "cancelled" and requested["actor"] == "user:bob"
    assert steps["wait"]["status"] == "cancelled"
    assert steps["first"]["status"] == steps["second"]["status"] == "rolled_back"
    lines = (dev.work / "changes.log").read_text().splitlines()
    assert lines == ["first", "second", "undo second", "undo first"]


def datetime_of(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text)


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"ok": true}')

    def log_message(self, *args: object) -> None:
        pass


def test_an_exhausted_plan_is_dead_lettered_then_requeued_once_from_its_failure(dev: Dev) -> None:
    run_id = _launch(dev, "ping_service")
    execution_id = _execution_id(dev, run_id)

    def dead_letter() -> dict[str, Any] | None:
        listed = _cli(dev, "dlq", "list", "--json").stdout.splitlines()
        found = [json.loads(line) for line in listed if json.loads(line)["execution_id"] == execution_id]
        return found[0] if found else None

    letter = wait_for("the dead letter", dead_letter, 240, dev.log)
    assert (letter["reason"], letter["attempts"], letter["run_id"]) == ("transient", 3, run_id)
    assert "transient\t1\t1" in _cli(dev, "dlq", "stats").stdout

    server = http.server.ThreadingHTTPServer(("127.0.0.1", dev.service_port), _Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        done = _cli(dev, "dlq", "requeue", str(letter["id"]), "--actor", "user:ops")
        requeue_run = re.search(r"as run (\S+)", done.stdout).group(1)  # type: ignore[union-attr]
        refused = _cli(dev, "dlq", "requeue", execution_id, "--actor", "user:ops", expect=2)
        assert (
            f"dead letter {letter['id']} (execution {execution_id}) was already requeued by user:ops" in refused.stderr
        )

        def finished() -> str | None:
            status = _run(dev, requeue_run)["status"]
            return status if status in ("SUCCESS", "FAILURE", "CANCELED") else None

        events = lambda: graphql_vars(dev.port, ENGINE_EVENTS, {"id": requeue_run})["logsForRun"]["events"]  # noqa: E731
        if wait_for("the requeued run", finished, 240, dev.log) != "SUCCESS":
            pytest.fail("; ".join(str(e) for e in events() if "Failure" in e["__typename"]), pytrace=False)
    finally:
        server.shutdown()
    run = _run(dev, requeue_run)
    assert run["tags"]["ops/execution_id"] == execution_id and run["tags"]["dagster/parent_run_id"] == run_id
    shown = _show(dev, execution_id)
    assert shown["status"] == "completed"
    assert [e["actor"] for e in shown["events"] if e["kind"] == "requeued"] == ["user:ops"]
    assert "transient\t1\t0" in _cli(dev, "dlq", "stats").stdout


def test_a_sigkilled_run_worker_leaves_an_execution_the_reaper_ends(dev: Dev) -> None:
    run_id = _launch(dev, "hang")
    execution_id = _execution_id(dev, run_id)
    wait_for("the step running", lambda: _step_status(dev, execution_id, "nap") == "running", 240, dev.log)
    events = graphql_vars(dev.port, ENGINE_EVENTS, {"id": run_id})["logsForRun"]["events"]
    [worker] = [
        int(m.group(1))
        for e in events
        if (m := re.search(r"Executing steps in process \(pid: (\d+)\)", e.get("message") or ""))
    ]
    os.kill(worker, signal.SIGKILL)

    def ended() -> dict[str, Any] | None:
        shown = _show(dev, execution_id)
        return shown if shown["status"] != "running" else None

    shown = wait_for("the reaper ending the execution", ended, 120, dev.log)
    assert shown["status"] == "failed"
    [reaped] = [e for e in shown["events"] if e["actor"] == "ops_pipeline:reaper" and e["kind"] == "status"]
    assert run_id in reaped["reason"] and "terminated by signal 9 (SIGKILL)" in reaped["reason"]
    assert next(s for s in shown["steps"] if s["step_id"] == "nap")["status"] == "failed"
