"""`services:` the targets plans act on and the services that reach them: an HTTP asset service for targets not
listed here, and the automation service's ssh client options, remote HTTP automation service and retries."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ops_pipeline.core.plans.fields import TargetId
from ops_pipeline.core.targets import TargetSpec
from ops_pipeline.settings.base import HTTP_URL, SecretRef, StrictModel, cross_reference_error


class AssetServiceSettings(StrictModel):
    url: str = Field(pattern=HTTP_URL, description="base URL; targets are read from GET <url>/targets/<id>")
    token: SecretRef | None = Field(default=None, description="bearer token for the asset service")
    timeout_s: float = Field(default=5.0, gt=0, le=120, description="connect and read timeout of one lookup")


class SshSettings(StrictModel):
    strict_host_key_checking: Literal["yes", "accept-new", "no"] = Field(
        default="yes", description="ssh's StrictHostKeyChecking: yes refuses hosts not in known_hosts"
    )
    known_hosts_file: str | None = Field(default=None, description="ssh's UserKnownHostsFile (default ~/.ssh)")
    connect_timeout_s: float = Field(default=10.0, gt=0, le=120, description="ssh's ConnectTimeout")


class HttpAutomationSettings(StrictModel):
    url: str = Field(pattern=HTTP_URL, description="base URL; commands are sent as POST <url>/run")
    token: SecretRef | None = Field(default=None, description="bearer token (a target's credentials win)")


class AutomationSettings(StrictModel):
    ssh: SshSettings = SshSettings()
    http: HttpAutomationSettings | None = None
    retries: int = Field(default=2, ge=0, le=10, description="further attempts after a transient failure")
    retry_delay_s: float = Field(default=0.5, ge=0, le=60, description="first pause between attempts, doubling")


class ServicesSettings(StrictModel):
    targets: dict[TargetId, TargetSpec] = Field(default={}, description="target id -> how to reach it")
    asset_service: AssetServiceSettings | None = None
    automation: AutomationSettings = AutomationSettings()

    @model_validator(mode="after")
    def _http_targets_have_a_service(self) -> ServicesSettings:
        if self.automation.http is None:
            for target_id, target in self.targets.items():
                if target.connection == "http":
                    raise cross_reference_error(
                        f"services.targets.{target_id}.connection",
                        "an http target is reached through the remote automation service; set "
                        "services.automation.http.url",
                    )
        return self
