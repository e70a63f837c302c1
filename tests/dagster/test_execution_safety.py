"""What keeps a plan run safe, through the plan jobs on a real instance: a step past its timeout is stopped with
its children and rolled back and the execution ends `timeout`; transient failures are retried by the node's
RetryPolicy and others are not; RBAC refuses a submission or a step before any side effect, with the deciding
rule audited."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml

from ops_pipeline.definitions import build_definitions
from ops_pipeline.store.engine import open_store
from ops_pipeline.store.execution_steps import steps_of
from ops_pipeline.store.execution_tables import access_decisions
from ops_pipeline.store.executions import events_of, list_executions
from tests.servers import RecordingHttpServer, Reply, Request, http_server

__all__ = ["http_server"]


def _plan(name: str, steps: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return {
        "name": name,
        "environment": "dev",
        "action_class": "modify",
        "sla_class": "fast",
        "approval_level": 0,
        "steps": steps,
        **fields,
    }


def _location(tmp_path: Path, plans: list[dict[str, Any]], policies: dict[str, Any]) -> tuple[dg.Definitions, str]:
    folder = tmp_path / "plans"
    folder.mkdir()
    for plan in plans:
        (folder / f"{plan['name']}.yaml").write_text(yaml.safe_dump(plan))
    config = tmp_path / "ops.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "plans": {"folders": [str(folder)]},
                "services": {"targets": {"box": {"hostname": "127.0.0.1", "connection": "local"}}},
                "policies": policies,
            }
        )
    )
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    return build_definitions(config, store_url), store_url


def _run(defs: dg.Definitions, job: str, tags: dict[str, str] | None = None) -> dg.ExecuteInProcessResult:
    with dg.instance_for_test() as instance:
        return defs.get_job_def(job).execute_in_process(instance=instance, tags=tags, raise_on_error=False)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_a_step_past_its_timeout_is_killed_with_its_children_rolled_back_and_the_execution_times_out(
    tmp_path: Path,
) -> None:
    child_pid, undone = tmp_path / "child.pid", tmp_path / "undone"
    hang = {
        "id": "hang",
        "type": "command",
        "target": "box",
        "argv": ["sh", "-c", f"sleep 60 & echo $! > {child_pid}; wait"],
        "rollback": "undo_hang",
    }
    undo = {"id": "undo_hang", "type": "command", "target": "box", "argv": ["touch", str(undone)]}
    plan = _plan("hangs", [hang], targets=["box"], rollback_steps=[undo])
    policies = {"timeout_matrix": {"fast": {"modify": {"step_timeout_s": 2, "max_attempts": 1}}}}
    defs, store_url = _location(tmp_path, [plan], policies)

    began = time.monotonic()
    result = _run(defs, "hangs")
    elapsed = time.monotonic() - began

    assert not result.success
    assert not _alive(int(child_pid.read_text())), "the step's child outlived its timeout"
    assert undone.exists(), "the timed-out step's own rollback did not run"
    with open_store(store_url).connect() as conn:
        [current] = list_executions(conn, "default")
        steps = {s.step_id: s.status for s in steps_of(conn, current.id)}
        trail = events_of(conn, current.id)
    assert (current.status, steps) == ("timeout", {"hang": "timeout", "undo_hang": "succeeded"})
    assert [(e.step_id, e.to_status) for e in trail if e.step_id][-3:] == [
        ("hang", "timeout"),
        ("undo_hang", "running"),
        ("undo_hang", "succeeded"),
    ]
    assert "stopped with every process it started" in (trail[-3].reason or "")
    assert elapsed < 60, "the run waited for the child instead of killing it"


@pytest.fixture
def flaky_server(http_server: RecordingHttpServer) -> RecordingHttpServer:
    calls: dict[str, int] = {}

    def unavailable_twice(request: Request) -> Reply:
        calls[request.path] = calls.get(request.path, 0) + 1
        return Reply(503, "busy") if calls[request.path] <= 2 else Reply(200, {"ok": True})

    http_server.route("/flaky", unavailable_twice)
    http_server.route("/bad", Reply(400, "no such thing"))
    return http_server


def test_transient_failures_are_retried_by_the_matrix_and_others_fail_at_once(
    tmp_path: Path, flaky_server: RecordingHttpServer
) -> None:
    flaky = _plan("flaky_call", [{"id": "call", "type": "http", "url": f"{flaky_server.url}/flaky"}])
    bad = _plan("bad_call", [{"id": "call", "type": "http", "url": f"{flaky_server.url}/bad"}])
    defs, store_url = _location(tmp_path, [flaky, bad], {"retry_delay_s": 0.05})

    assert _run(defs, "flaky_call").success
    assert not _run(defs, "bad_call").success

    requests = [r.path for r in flaky_server.received]
    assert requests.count("/flaky") == 3  # fast: 3 attempts
    assert requests.count("/bad") == 1  # a 400 is not transient: never repeated
    with open_store(store_url).connect() as conn:
        by_plan = {e.plan_name: e for e in list_executions(conn, "default")}
        [flaky_step] = steps_of(conn, by_plan["flaky_call"].id)
        [bad_step] = steps_of(conn, by_plan["bad_call"].id)
    assert (by_plan["flaky_call"].status, flaky_step.status, flaky_step.attempt) == ("completed", "succeeded", 3)
    assert (by_plan["bad_call"].status, bad_step.status, bad_step.attempt) == ("failed", "failed", 1)


def test_rbac_refuses_a_submission_and_a_step_before_any_side_effect_and_audits_the_rule(tmp_path: Path) -> None:
    touched = tmp_path / "touched"
    touch = {"id": "touch", "type": "command", "target": "box", "argv": ["touch", str(touched)]}
    guarded = _plan("guarded", [touch], targets=["box"])
    secret = _plan("secret_plan", [touch], targets=["box"])
    policies = {
        "rbac": {
            "rules": [
                {"name": "no_box", "effect": "deny", "resources": ["target:box"], "actions": ["execute"]},
                {"name": "not_secret", "effect": "deny", "resources": ["plan:secret_plan"], "actions": ["submit"]},
            ]
        }
    }
    defs, store_url = _location(tmp_path, [guarded, secret], policies)

    refused_submit = _run(defs, "secret_plan", tags={"ops/actor": "user:mallory"})
    refused_step = _run(defs, "guarded", tags={"ops/actor": "user:alice"})

    assert not refused_submit.success and not refused_step.success
    assert not touched.exists()
    with open_store(store_url).connect() as conn:
        executions = {e.plan_name: e for e in list_executions(conn, "default")}
        decisions = conn.execute(sa.select(access_decisions).where(access_decisions.c.allowed.is_(False))).all()
        [step] = steps_of(conn, executions["guarded"].id)
    assert "secret_plan" not in executions  # refused before admission: nothing was written for it
    assert {(d.actor, d.action, d.resource, d.rule) for d in decisions} == {
        ("user:mallory", "submit", "plan:secret_plan", "not_secret"),
        ("user:alice", "execute", "target:box", "no_box"),
    }
    assert (executions["guarded"].status, step.status, step.attempt) == ("failed", "failed", 1)
