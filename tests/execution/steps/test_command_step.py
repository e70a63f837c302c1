"""Command steps on a local target: output, failures, the deadline and interruptions that leave no child
behind, capped output, and secrets masked everywhere the step writes."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from dagster import DagsterExecutionInterruptedError

from ops_pipeline.execution.steps import StepContext, StepFailed, StepServices, run_step
from tests.execution.steps.conftest import Harness, leaks, step
from tests.servers import read_pids, wait_gone
from tests.services.test_process import SPAWNS_A_CHILD, interrupted_after, wrote_pids


def test_a_command_returns_its_exit_code_and_output(harness: Harness) -> None:
    command = step(type="command", target="here", argv=["printf", "%s-%s", "{{ params.service }}", 5])
    output = run_step(command, harness.context(parameters={"service": "api"}))
    assert output == {"exit_code": 0, "stdout": "api-5", "stderr": "", "truncated": False}
    assert any("printf" in line and "exited 0" in line for line in harness.logs)


def test_a_non_zero_exit_fails_permanently_and_keeps_the_output(harness: Harness) -> None:
    command = step(type="command", target="here", argv=["sh", "-c", "echo half-done; echo disk full >&2; exit 4"])
    with pytest.raises(StepFailed, match=r"sh on target 'here' exited 4 after .* s: disk full") as failed:
        run_step(command, harness.context())
    assert failed.value.failure_class == "permanent"
    assert failed.value.output == {"exit_code": 4, "stdout": "half-done\n", "stderr": "disk full\n", "truncated": False}


def test_a_command_past_its_budget_is_stopped_with_its_children(harness: Harness, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    command = step(type="command", target="here", argv=["sh", "-c", SPAWNS_A_CHILD, "sh", str(pids)])
    started = time.monotonic()
    with pytest.raises(StepFailed, match=r"still running after 1 s") as failed:
        run_step(command, harness.context(budget_s=1.0))
    assert failed.value.failure_class == "timeout"
    assert time.monotonic() - started < 2.0
    assert wait_gone(read_pids(pids, 2)) == []


def test_a_terminated_run_interrupts_the_step_and_kills_its_children(harness: Harness, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    command = step(type="command", target="here", argv=["sh", "-c", SPAWNS_A_CHILD, "sh", str(pids)])
    interrupt = interrupted_after(0, DagsterExecutionInterruptedError, once=wrote_pids(pids))
    with pytest.raises(DagsterExecutionInterruptedError), interrupt:
        run_step(command, harness.context(budget_s=60))
    assert wait_gone(read_pids(pids, 2)) == []


def test_output_is_capped(harness: Harness) -> None:
    command = step(type="command", target="here", argv=["sh", "-c", "head -c 200000 /dev/zero | tr '\\0' a"])
    output = run_step(command, harness.context())
    assert len(output["stdout"]) == 65536 and output["truncated"] is True


def test_a_secret_in_argv_is_masked_in_output_logs_and_errors(harness: Harness) -> None:
    script = 'echo "token=$1 ok"; echo "auth $1 refused" >&2; exit 3'
    argv = ["sh", "-c", script, "sh", "{{ secret:env:OPS_TEST_SECRET }}"]
    with pytest.raises(StepFailed) as failed:
        run_step(step(type="command", target="here", argv=argv), harness.context())
    assert failed.value.output is not None and "***" in failed.value.output["stdout"]
    assert leaks(failed.value, json.dumps(failed.value.output), *harness.logs) == []
    ok = run_step(
        step(type="command", target="here", argv=["echo", "{{ secret:env:OPS_TEST_SECRET }}"]), harness.context()
    )
    assert ok["stdout"] == "***\n"
    assert leaks(json.dumps(ok), *harness.logs) == []


def test_a_missing_secret_fails_naming_the_reference(harness: Harness) -> None:
    command = step(type="command", target="here", argv=["echo", "{{ secret:env:OPS_TEST_NOT_SET }}"])
    with pytest.raises(StepFailed, match=r"env:OPS_TEST_NOT_SET.*is not set") as failed:
        run_step(command, harness.context())
    assert failed.value.failure_class == "permanent"


def test_an_unknown_target_fails_naming_it(harness: Harness) -> None:
    with pytest.raises(StepFailed, match=r"target 'web9' is not in services.targets \(configured: here\)"):
        run_step(step(type="command", target="web9", argv=["true"]), harness.context())


def test_without_an_automation_service_the_step_says_so(harness: Harness) -> None:
    context: StepContext = harness.context()
    context.services = StepServices()
    with pytest.raises(StepFailed, match=r"no automation service is configured to reach 'here'"):
        run_step(step(type="command", target="here", argv=["true"]), context)


def test_a_step_with_no_time_left_does_not_start(harness: Harness, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    with pytest.raises(StepFailed, match="no time left") as failed:
        run_step(step(type="command", target="here", argv=["touch", str(marker)]), harness.context(budget_s=0))
    assert failed.value.failure_class == "timeout" and not marker.exists()
