"""HTTP steps against a real HTTP server: bodies, statuses and their failure classes, the deadline against a
silent and a trickling server, capped bodies, and secrets in the URL, headers and body masked everywhere."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from dagster import DagsterExecutionInterruptedError

from ops_pipeline.execution.steps import StepFailed, run_step
from tests.execution.steps.conftest import SECRET, Harness, leaks, step
from tests.servers import RecordingHttpServer, Reply, Request
from tests.services.test_process import interrupted_after


def test_a_json_answer_comes_back_parsed(harness: Harness, http_server: RecordingHttpServer) -> None:
    http_server.route("/health", Reply(200, {"status": "ok", "checks": 3}, headers={"X-Version": "7"}))
    output = run_step(step(type="http", url=f"{http_server.url}/health"), harness.context())
    assert output["status"] == 200 and output["body"] == {"status": "ok", "checks": 3}
    assert output["headers"]["X-Version"] == "7" and output["truncated"] is False


def test_a_text_answer_comes_back_as_text(harness: Harness, http_server: RecordingHttpServer) -> None:
    http_server.route("/ping", Reply(200, "pong"))
    assert run_step(step(type="http", url=f"{http_server.url}/ping"), harness.context())["body"] == "pong"


def test_templates_render_in_url_headers_and_body_keeping_types(
    harness: Harness, http_server: RecordingHttpServer
) -> None:
    http_server.route("/deploy/api", Reply(202, {"queued": True}))
    deploy = step(
        type="http",
        method="post",
        url=http_server.url + "/deploy/{{ params.service }}",
        headers={"X-Change": "CHG-{{ params.ticket }}"},
        body={"replicas": "{{ params.replicas }}", "note": "scale to {{ params.replicas }}"},
    )
    output = run_step(deploy, harness.context(parameters={"service": "api", "ticket": 42, "replicas": 3}))
    assert output["status"] == 202
    sent = http_server.received[0]
    assert sent.method == "POST" and sent.headers["X-Change"] == "CHG-42"
    assert sent.json() == {"replicas": 3, "note": "scale to 3"}


@pytest.mark.parametrize(
    ("status", "failure_class"),
    [
        (404, "permanent"),
        (500, "permanent"),
        (429, "transient"),
        (502, "transient"),
        (503, "transient"),
        (504, "transient"),
        (401, "permission"),
        (403, "permission"),
    ],
)
def test_an_unexpected_status_fails_with_its_class(
    harness: Harness, http_server: RecordingHttpServer, status: int, failure_class: str
) -> None:
    http_server.route("/x", Reply(status, "nope"))
    with pytest.raises(
        StepFailed, match=rf"GET .*/x answered {status} .*\(expected 200, 201, 202, 204\): nope"
    ) as failed:
        run_step(step(type="http", url=f"{http_server.url}/x"), harness.context())
    assert failed.value.failure_class == failure_class
    assert failed.value.output is not None and failed.value.output["status"] == status


def test_an_expected_status_may_be_an_error_status(harness: Harness, http_server: RecordingHttpServer) -> None:
    http_server.route("/gone", Reply(404, "gone"))
    output = run_step(step(type="http", url=f"{http_server.url}/gone", expect_status=[404]), harness.context())
    assert output["status"] == 404


def test_a_server_that_does_not_answer_is_abandoned_at_the_deadline(
    harness: Harness, http_server: RecordingHttpServer
) -> None:
    http_server.route("/slow", Reply(200, "late", delay_s=30))
    started = time.monotonic()
    with pytest.raises(StepFailed, match=r"no complete answer within the step's 1 s") as failed:
        run_step(step(type="http", url=f"{http_server.url}/slow"), harness.context(budget_s=1.0))
    assert failed.value.failure_class == "timeout"
    assert time.monotonic() - started < 1.5


def test_a_server_that_trickles_its_body_is_stopped_at_the_deadline(
    harness: Harness, http_server: RecordingHttpServer
) -> None:
    http_server.route("/drip", Reply(200, "x" * 200, trickle_s=0.05))  # 10 s for the whole body
    started = time.monotonic()
    with pytest.raises(StepFailed) as failed:
        run_step(step(type="http", url=f"{http_server.url}/drip"), harness.context(budget_s=1.0))
    assert failed.value.failure_class == "timeout"
    assert time.monotonic() - started < 1.5


def test_a_terminated_run_interrupts_a_waiting_request_and_leaves_no_alarm(
    harness: Harness, http_server: RecordingHttpServer
) -> None:
    http_server.route("/slow", Reply(200, "late", delay_s=30))
    started = time.monotonic()
    with pytest.raises(DagsterExecutionInterruptedError), interrupted_after(0.3, DagsterExecutionInterruptedError):
        run_step(step(type="http", url=f"{http_server.url}/slow"), harness.context(budget_s=2.0))
    assert time.monotonic() - started < 1.3
    time.sleep(max(0.0, started + 2.2 - time.monotonic()))  # past the step's budget: a stray alarm would raise


def test_a_refused_connection_is_transient(harness: Harness, closed_port: int) -> None:
    with pytest.raises(StepFailed, match="cannot reach the server") as failed:
        run_step(step(type="http", url=f"http://127.0.0.1:{closed_port}/"), harness.context())
    assert failed.value.failure_class == "transient"


def test_a_large_body_is_capped(harness: Harness, http_server: RecordingHttpServer) -> None:
    http_server.route("/big", Reply(200, "y" * 300_000))
    output = run_step(step(type="http", url=f"{http_server.url}/big"), harness.context())
    assert len(output["body"]) == 65536 and output["truncated"] is True


def echo(request: Request) -> Reply:
    """Answers with everything the request carried, the way a chatty API or an error page may."""
    seen: dict[str, Any] = {"path": request.path, "query": request.query, "headers": request.headers}
    seen["body"] = request.body.decode()
    status = 500 if "fail" in request.path else 200
    return Reply(status, seen, headers={"X-Echo-Token": request.headers.get("Authorization", "")})


@pytest.mark.parametrize("path", ["/echo", "/echo/fail"])
def test_a_secret_in_url_header_and_body_is_masked_everywhere(
    harness: Harness, http_server: RecordingHttpServer, path: str
) -> None:
    http_server.route(path, echo)
    call = step(
        type="http",
        method="POST",
        url=http_server.url + path + "?api_key={{ secret:env:OPS_TEST_SECRET }}&q=1",
        headers={
            "Authorization": "Bearer {{ secret:env:OPS_TEST_SECRET }}",
            "X-Plain": "{{ secret:env:OPS_TEST_SECRET }}",
        },
        body={"password": "{{ secret:env:OPS_TEST_SECRET }}", "note": "sent {{ secret:env:OPS_TEST_SECRET }} along"},
    )
    try:
        output: Any = run_step(call, harness.context())
        error: Any = None
    except StepFailed as failed:
        output, error = failed.output, failed
    assert SECRET in http_server.received[0].body.decode()  # the server got the real value
    assert (error is None) == (path == "/echo")
    assert "***" in json.dumps(output)
    assert leaks(json.dumps(output), error, *harness.logs) == []
