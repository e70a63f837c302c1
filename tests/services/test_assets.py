"""The asset service: configured targets, and targets looked up from an HTTP asset service with timeouts,
retries of transient failures only, and errors that name the target and the service."""

from __future__ import annotations

import time

import pytest

from ops_pipeline.core.execution.deadline import Deadline
from ops_pipeline.services import AssetService, ServiceError, TargetNotFound, TargetSpec
from tests.servers import RecordingHttpServer, Reply, Request

WEB1 = {"hostname": "10.0.0.5", "connection": "ssh", "port": 2200, "user": "deploy", "credentials": "env:WEB1_KEY"}


def test_configured_targets_answer_without_asking_anyone() -> None:
    assets = AssetService({"web1": TargetSpec(**WEB1)})
    target = assets.target("web1")
    assert (target.id, target.hostname, target.ssh_port, target.user) == ("web1", "10.0.0.5", 2200, "deploy")
    assert target.describe() == "target 'web1' (ssh deploy@10.0.0.5:2200)"


def test_an_unknown_target_without_an_asset_service_lists_the_configured_ones() -> None:
    assets = AssetService({"web1": TargetSpec(**WEB1)})
    with pytest.raises(TargetNotFound, match=r"'db9' is not in services.targets \(configured: web1\)"):
        assets.target("db9")


def test_a_target_is_read_from_the_http_asset_service(http_server: RecordingHttpServer) -> None:
    http_server.route("/targets/web1", Reply(200, {**WEB1, "id": "web1", "rack": "b3"}))
    assets = AssetService(url=http_server.url, token="env:INVENTORY_TOKEN", resolve_secret=lambda ref: "tok-123456")
    target = assets.target("web1")
    assert target.hostname == "10.0.0.5" and target.credentials == "env:WEB1_KEY"
    assert http_server.received[0].headers["Authorization"] == "Bearer tok-123456"
    assets.target("web1")
    assert len(http_server.received) == 1  # remembered for the rest of the step


def test_an_id_the_asset_service_does_not_know_is_not_found(http_server: RecordingHttpServer) -> None:
    assets = AssetService(url=http_server.url)
    with pytest.raises(TargetNotFound, match=r"target 'nope' \(asset service http://127.0.0.1:\d+\).*404"):
        assets.target("nope")


def test_a_transient_failure_is_retried_and_a_permanent_one_is_not(http_server: RecordingHttpServer) -> None:
    answers = iter([Reply(503, "busy"), Reply(200, WEB1)])
    http_server.route("/targets/web1", lambda request: next(answers))
    http_server.route("/targets/web2", Reply(500, "inventory bug"))
    assets = AssetService(url=http_server.url, retry_delay_s=0.05)
    assert assets.target("web1").hostname == "10.0.0.5"
    with pytest.raises(ServiceError, match=r"answered 500: inventory bug") as failed:
        assets.target("web2")
    assert failed.value.failure_class == "permanent"
    paths = [request.path for request in http_server.received]
    assert paths == ["/targets/web1", "/targets/web1", "/targets/web2"]


def test_an_answer_that_is_not_a_valid_target_says_which_field(http_server: RecordingHttpServer) -> None:
    http_server.route("/targets/web1", Reply(200, {"hostname": "10.0.0.5", "connection": "telnet"}))
    with pytest.raises(ServiceError, match=r"not a valid target.*connection: Input should be 'local', 'ssh' or 'http'"):
        AssetService(url=http_server.url).target("web1")


def test_an_answer_about_another_target_is_refused(http_server: RecordingHttpServer) -> None:
    http_server.route("/targets/web1", Reply(200, {**WEB1, "id": "web2"}))
    with pytest.raises(ServiceError, match=r"describes target 'web2', not the one asked for"):
        AssetService(url=http_server.url).target("web1")


def test_a_silent_asset_service_times_out(http_server: RecordingHttpServer) -> None:
    http_server.route("/targets/web1", Reply(200, WEB1, delay_s=30))
    started = time.monotonic()
    with pytest.raises(ServiceError, match=r"sent no answer within 0.5 s") as failed:
        AssetService(url=http_server.url, timeout_s=0.5, retries=0).target("web1")
    assert time.monotonic() - started < 2.0
    assert failed.value.failure_class == "timeout"


def test_an_unreachable_asset_service_is_transient_and_named(closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    with pytest.raises(ServiceError, match=rf"target 'web1' \(asset service {url}\): cannot reach") as failed:
        AssetService(url=url, retries=1, retry_delay_s=0.01).target("web1")
    assert failed.value.failure_class == "transient"


def test_target_ids_with_slashes_are_sent_escaped(http_server: RecordingHttpServer) -> None:
    seen: list[Request] = []

    def record(request: Request) -> Reply:
        seen.append(request)
        return Reply(200, {"hostname": "db.internal", "connection": "http"})

    http_server.route("/targets/eu%2Fdb1", record)
    assert AssetService(url=http_server.url).target("eu/db1").connection == "http"
    assert seen


def test_a_lookup_never_runs_past_the_steps_deadline(http_server: RecordingHttpServer) -> None:
    http_server.route("/targets/web1", Reply(200, WEB1, delay_s=30))
    started = time.monotonic()
    with pytest.raises(ServiceError) as failed:
        AssetService(url=http_server.url, timeout_s=10, retries=3).target("web1", Deadline.after(0.5))
    assert failed.value.failure_class == "timeout"
    assert time.monotonic() - started < 1.5
