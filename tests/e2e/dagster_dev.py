"""`dagster dev` for the end-to-end tests: start it in its own session, wait for its webserver, stop it as Ctrl-C
would; and the GraphQL calls the tests make, as the UI makes them."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO_ROOT
from tests.dagster.test_definitions import load_generator
from tests.insights.conftest import load_demo_module

LAUNCH = """
mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
    __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } } } }
"""


def demo_config(directory: Path) -> tuple[dict[str, Any], Path]:
    """The demo's ops.yaml (as a mapping) over a fresh demo warehouse, lake and metrics file in `directory`; and
    the warehouse's path."""
    warehouse = load_generator().generate_warehouse(directory / "warehouse.db")
    metrics = load_demo_module("generate_metrics").generate_metrics(directory / "metrics.csv")
    config = yaml.safe_load((REPO_ROOT / "ops.yaml").read_text())
    config["sources"]["demo"]["path"] = str(warehouse)
    config["sources"]["lake"]["path"] = str(directory / "lake.db")
    sqlite3.connect(directory / "lake.db").close()
    config["metrics"]["recorded"]["path"] = str(metrics)
    return config, warehouse


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def graphql(port: int, query: str) -> dict[str, Any]:
    return graphql_vars(port, query, {})


def graphql_vars(port: int, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body: dict[str, Any] = json.load(response)
    assert "errors" not in body, body
    return body["data"]


def wait_for(what: str, probe: Callable[[], Any], deadline_s: float, log: Path) -> Any:
    """`probe()`'s first truthy value (an OSError counts as none yet); fails with the log's tail at the deadline."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            value = probe()
        except OSError:
            value = None
        if value:
            return value
        time.sleep(2)
    pytest.fail(f"{what} did not happen within {deadline_s:.0f} s; dagster dev log:\n{log.read_text()[-4000:]}")


@contextmanager
def session_serving(
    command: list[str], *, port: int, log: Path, env: Mapping[str, str], cwd: Path = REPO_ROOT, ready_s: float = 180
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` (a `dagster dev` or `ops-pipeline demo`) in its own session with its output in `log`, until
    its webserver on `port` answers; stop the whole session when the block ends."""
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=cwd, env=dict(env), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_for("the webserver answering", lambda: graphql(port, "{ version }"), ready_s, log)
        yield process
    finally:
        stop_session(process)


@contextmanager
def running_dagster_dev(*, port: int, log: Path, env: Mapping[str, str], ready_s: float = 180) -> Iterator[None]:
    """`dagster dev` on the project's workspace.yaml, with `env` (its DAGSTER_HOME and OPS_CONFIG)."""
    dagster = Path(sys.executable).parent / "dagster"
    command = [str(dagster), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)]
    with session_serving(command, port=port, log=log, env=env, ready_s=ready_s):
        yield


def stop_session(process: subprocess.Popen[bytes]) -> None:
    """Stop a process started in its own session as Ctrl-C would; kill the session if it has not ended in 30 s."""
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
