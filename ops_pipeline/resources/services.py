"""The `services:` section of ops.yaml as Dagster resources: the asset service (targets) and the automation
service (commands and file transfers on targets). Secrets stay references here; `client(...)` builds the
Dagster-free clients of `ops_pipeline.services`, which resolve them only when a call needs them:

    assets = asset_service.client(resolve_secret)
    automation = automation_service.client(assets, resolve_secret)
"""

from __future__ import annotations

from typing import Any, Literal

import dagster as dg
from pydantic import Field

from ops_pipeline.core.secrets import resolve_secret as resolve_reference
from ops_pipeline.services import AssetService, AutomationService, SecretResolver, SshOptions, TargetSpec
from ops_pipeline.settings import ServicesSettings


class AssetServiceResource(dg.ConfigurableResource):
    """Which targets exist and how to reach them: the configured list, then an HTTP asset service."""

    targets: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="target id -> hostname, connection, port, user, credentials (a reference)"
    )
    url: str | None = Field(default=None, description="HTTP asset service base URL (GET <url>/targets/<id>)")
    token: str | None = Field(default=None, description="its bearer token, as env:NAME or file:/path")
    timeout_s: float = Field(default=5.0, description="connect and read timeout of one lookup")
    retries: int = Field(default=2, description="further attempts after a transient failure")
    retry_delay_s: float = Field(default=0.5, description="first pause between attempts, doubling")

    @classmethod
    def from_settings(cls, services: ServicesSettings) -> AssetServiceResource:
        lookup = services.asset_service
        automation = services.automation
        return cls(
            targets={
                target_id: spec.model_dump(mode="json", exclude_none=True)
                for target_id, spec in services.targets.items()
            },
            url=lookup.url if lookup else None,
            token=lookup.token if lookup else None,
            timeout_s=lookup.timeout_s if lookup else 5.0,
            retries=automation.retries,
            retry_delay_s=automation.retry_delay_s,
        )

    def client(self, resolve_secret: SecretResolver = resolve_reference) -> AssetService:
        return AssetService(
            {target_id: TargetSpec.model_validate(spec) for target_id, spec in self.targets.items()},
            url=self.url,
            token=self.token,
            timeout_s=self.timeout_s,
            retries=self.retries,
            retry_delay_s=self.retry_delay_s,
            resolve_secret=resolve_secret,
        )


class AutomationServiceResource(dg.ConfigurableResource):
    """Runs commands and sends files to targets: local subprocess, ssh, or the remote HTTP automation service.
    Targets come from the asset service client passed to `client` (the `asset_service` resource's)."""

    strict_host_key_checking: Literal["yes", "accept-new", "no"] = Field(
        default="yes", description="ssh StrictHostKeyChecking"
    )
    known_hosts_file: str | None = Field(default=None, description="ssh UserKnownHostsFile")
    ssh_connect_timeout_s: float = Field(default=10.0, description="ssh ConnectTimeout")
    http_url: str | None = Field(default=None, description="remote automation service base URL (POST <url>/run)")
    http_token: str | None = Field(default=None, description="its bearer token, as env:NAME or file:/path")
    retries: int = Field(default=2, description="further attempts after a transient failure")
    retry_delay_s: float = Field(default=0.5, description="first pause between attempts, doubling")

    @classmethod
    def from_settings(cls, services: ServicesSettings) -> AutomationServiceResource:
        automation = services.automation
        return cls(
            strict_host_key_checking=automation.ssh.strict_host_key_checking,
            known_hosts_file=automation.ssh.known_hosts_file,
            ssh_connect_timeout_s=automation.ssh.connect_timeout_s,
            http_url=automation.http.url if automation.http else None,
            http_token=automation.http.token if automation.http else None,
            retries=automation.retries,
            retry_delay_s=automation.retry_delay_s,
        )

    def client(self, assets: AssetService, resolve_secret: SecretResolver = resolve_reference) -> AutomationService:
        return AutomationService(
            assets,
            ssh=SshOptions(
                strict_host_key_checking=self.strict_host_key_checking,
                known_hosts_file=self.known_hosts_file,
                connect_timeout_s=self.ssh_connect_timeout_s,
            ),
            http_url=self.http_url,
            http_token=self.http_token,
            retries=self.retries,
            retry_delay_s=self.retry_delay_s,
            resolve_secret=resolve_secret,
        )
