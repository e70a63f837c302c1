"""The `services:` section of ops.yaml: validated with located errors, and turned into the Dagster resources
that build the asset and automation service clients."""

from __future__ import annotations

from typing import Any

import dagster as dg
import pytest

from ops_pipeline.core.execution.deadline import Deadline
from ops_pipeline.resources.services import AssetServiceResource, AutomationServiceResource
from ops_pipeline.settings import ConfigError, parse_settings
from tests.servers import RecordingHttpServer, Reply


def services(section: dict[str, Any]) -> Any:
    return parse_settings({"services": section}, "ops.yaml").services


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        (
            {"targets": {"app7": {"hostname": "app7", "connection": "http"}}},
            "services.targets.app7.connection: an http target is reached through the remote automation service; "
            "set services.automation.http.url",
        ),
        (
            {"targets": {"here": {"hostname": "localhost", "connection": "local", "user": "root"}}},
            "services.targets.here: a local target runs commands as the step's own user on this machine; remove user",
        ),
        (
            {"targets": {"web1": {"hostname": "web1", "connection": "ssh", "credentials": "hunter2-secret"}}},
            "services.targets.web1.credentials: must be a secret reference (env:NAME or file:/path)",
        ),
        (
            {"targets": {"web1": {"hostname": "web 1", "connection": "ssh"}}},
            "services.targets.web1.hostname: 'web 1' is not a host name or IP address",
        ),
        (
            {"targets": {"web1": {"hostname": "web1", "connection": "ssh", "port": 70000}}},
            "services.targets.web1.port: Input should be less than 65536",
        ),
        (
            {"targets": {"web1": {"hostname": "web1", "connection": "telnet"}}},
            "services.targets.web1.connection: Input should be 'local', 'ssh' or 'http'",
        ),
        ({"asset_service": {"url": "inventory:8080"}}, "services.asset_service.url: String should match pattern"),
        ({"automation": {"retries": -1}}, "services.automation.retries: Input should be greater than or equal to 0"),
        (
            {"automation": {"ssh": {"strict_host_key_checking": "maybe"}}},
            "services.automation.ssh.strict_host_key_checking: Input should be 'yes', 'accept-new' or 'no'",
        ),
        ({"automation": {"htp": {}}}, "services.automation.htp: Extra inputs are not permitted"),
    ],
)
def test_a_bad_services_section_names_the_key_and_the_reason(section: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as error:
        services(section)
    assert f"ops.yaml: {problem}" in str(error.value)
    assert "hunter2-secret" not in str(error.value)


def test_the_resources_carry_the_section_and_build_working_clients(http_server: RecordingHttpServer) -> None:
    http_server.route("/targets/db9", Reply(200, {"hostname": "db9.internal", "connection": "ssh", "user": "ops"}))
    settings = services(
        {
            "targets": {"here": {"hostname": "localhost", "connection": "local"}},
            "asset_service": {"url": http_server.url, "timeout_s": 2},
            "automation": {"ssh": {"strict_host_key_checking": "accept-new"}, "retries": 1, "retry_delay_s": 0.1},
        }
    )
    automation = AutomationServiceResource.from_settings(settings)
    assert automation.strict_host_key_checking == "accept-new" and automation.retries == 1
    client = automation.client(AssetServiceResource.from_settings(settings).client())
    assert client.run("here", ["echo", "from ops.yaml"], Deadline.after(10)).stdout == "from ops.yaml\n"
    assert client.assets.target("db9").describe() == "target 'db9' (ssh ops@db9.internal:22)"


def test_the_automation_resource_runs_a_command_inside_a_dagster_asset() -> None:
    @dg.asset
    def greeting(asset_service: AssetServiceResource, automation_service: AutomationServiceResource) -> str:
        automation = automation_service.client(asset_service.client())
        return automation.run("here", ["echo", "hello"], Deadline.after(10)).stdout

    resources = {
        "asset_service": AssetServiceResource(targets={"here": {"hostname": "localhost", "connection": "local"}}),
        "automation_service": AutomationServiceResource(),
    }
    result = dg.materialize([greeting], resources=resources)
    assert result.success and result.output_for_node("greeting") == "hello\n"
