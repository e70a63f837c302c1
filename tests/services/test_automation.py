"""The automation service's local and HTTP backends: results, timeouts, retries of transient failures only,
and errors that name the target and the backend."""

from __future__ import annotations

import time
from typing import Any

import pytest

from ops_pipeline.core.execution.deadline import Deadline
from ops_pipeline.services import AssetService, AutomationService, CommandTimedOut, ServiceError, TargetSpec
from tests.servers import RecordingHttpServer, Reply, Request

LOCAL = TargetSpec(hostname="localhost", connection="local")
REMOTE = TargetSpec(hostname="app7.internal", connection="http")


def service(http_url: str | None = None, **targets: TargetSpec) -> AutomationService:
    assets = AssetService({"here": LOCAL, "app7": REMOTE, **targets})
    return AutomationService(
        assets, http_url=http_url, http_token="env:AUTOMATION_TOKEN", retry_delay_s=0.05, resolve_secret=secrets
    )


def secrets(reference: str) -> str:
    return {"env:AUTOMATION_TOKEN": "svc-token-9876", "env:APP7_TOKEN": "app7-token-5432"}[reference]


def test_local_commands_run_without_a_shell() -> None:
    result = service().run("here", ["printf", "%s|", "a b", "$HOME", "it's"], Deadline.after(10))
    assert (result.exit_code, result.stdout) == (0, "a b|$HOME|it's|")


def test_a_local_non_zero_exit_is_a_result_not_an_error() -> None:
    result = service().run("here", ["sh", "-c", "echo broken >&2; exit 7"], Deadline.after(10))
    assert (result.exit_code, result.stderr, result.failure_class) == (7, "broken\n", None)


def test_a_local_program_that_does_not_exist_names_target_and_backend() -> None:
    with pytest.raises(ServiceError, match=r"target 'here' \(local localhost\) via the local backend: program"):
        service().run("here", ["no-such-program-ops"], Deadline.after(10))


def test_a_local_command_past_its_deadline_is_stopped() -> None:
    started = time.monotonic()
    with pytest.raises(CommandTimedOut, match=r"still running after 0.5 s") as stopped:
        service().run("here", ["sh", "-c", "echo started; sleep 30"], Deadline.after(0.5))
    assert time.monotonic() - started < 1.5
    assert stopped.value.stdout == "started\n" and stopped.value.failure_class == "timeout"


def run_route(answer: dict[str, Any] | Reply) -> Any:
    def route(request: Request) -> Reply:
        return answer if isinstance(answer, Reply) else Reply(200, answer)

    return route


def test_the_http_backend_posts_the_command_and_returns_its_result(http_server: RecordingHttpServer) -> None:
    http_server.route("/run", run_route({"exit_code": 0, "stdout": "restarted\n", "stderr": ""}))
    result = service(http_server.url).run("app7", ["systemctl", "restart", "api"], Deadline.after(10))
    assert (result.exit_code, result.stdout) == (0, "restarted\n")
    sent = http_server.received[0]
    body = sent.json()
    assert (body["target"], body["argv"]) == ("app7", ["systemctl", "restart", "api"])
    assert 9 < body["timeout_s"] <= 10
    assert sent.headers["Authorization"] == "Bearer svc-token-9876"


def test_a_targets_own_credentials_are_its_bearer_token(http_server: RecordingHttpServer) -> None:
    http_server.route("/run", run_route({"exit_code": 0, "stdout": "", "stderr": ""}))
    own = TargetSpec(hostname="app8.internal", connection="http", credentials="env:APP7_TOKEN")
    service(http_server.url, app8=own).run("app8", ["true"], Deadline.after(10))
    assert http_server.received[0].headers["Authorization"] == "Bearer app7-token-5432"


def test_the_service_may_class_a_failed_command(http_server: RecordingHttpServer) -> None:
    answer = {"exit_code": 75, "stdout": "", "stderr": "lock held", "failure_class": "transient"}
    http_server.route("/run", run_route(answer))
    result = service(http_server.url).run("app7", ["deploy"], Deadline.after(10))
    assert (result.exit_code, result.failure_class) == (75, "transient")


def test_a_busy_service_is_retried_and_a_refusal_is_not(http_server: RecordingHttpServer) -> None:
    answers = iter([Reply(503, "overloaded"), Reply(200, {"exit_code": 0, "stdout": "ok", "stderr": ""})])
    http_server.route("/run", lambda request: next(answers))
    assert service(http_server.url).run("app7", ["true"], Deadline.after(10)).stdout == "ok"
    assert len(http_server.received) == 2
    http_server.route("/run", run_route(Reply(403, "not allowed")))
    with pytest.raises(ServiceError, match=r"target 'app7' \(http app7.internal\) via the http backend") as refused:
        service(http_server.url).run("app7", ["true"], Deadline.after(10))
    assert refused.value.failure_class == "permission"
    assert len(http_server.received) == 3


def test_a_command_the_service_stopped_is_a_timeout(http_server: RecordingHttpServer) -> None:
    http_server.route("/run", run_route({"exit_code": -9, "stdout": "half", "stderr": "", "timed_out": True}))
    with pytest.raises(CommandTimedOut) as stopped:
        service(http_server.url).run("app7", ["sleep", "99"], Deadline.after(5))
    assert stopped.value.stdout == "half"


def test_a_service_that_never_answers_is_abandoned_after_the_budget(http_server: RecordingHttpServer) -> None:
    http_server.route("/run", run_route(Reply(200, {}, delay_s=30)))
    started = time.monotonic()
    with pytest.raises(ServiceError) as failed:
        service(http_server.url).run("app7", ["sleep", "99"], Deadline.after(0.5))
    assert failed.value.failure_class == "timeout"
    assert time.monotonic() - started < 0.5 + 2.0 + 1.0  # the budget plus the grace for the service's answer


def test_a_malformed_answer_is_refused(http_server: RecordingHttpServer) -> None:
    http_server.route("/run", run_route({"exit_code": "zero", "stdout": ""}))
    with pytest.raises(ServiceError, match=r"no integer exit_code"):
        service(http_server.url).run("app7", ["true"], Deadline.after(5))


def test_an_http_target_without_the_service_configured_says_what_to_set() -> None:
    with pytest.raises(ServiceError, match=r"set services.automation.http.url"):
        service().run("app7", ["true"], Deadline.after(5))


def test_an_unreachable_service_is_retried_then_reported(closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    with pytest.raises(ServiceError, match=rf"via the http backend \({url}\): cannot reach") as failed:
        service(url).run("app7", ["true"], Deadline.after(10))
    assert failed.value.failure_class == "transient"
