"""The `policies:` section of ops.yaml as a Dagster resource: the timeout matrix, retries, RBAC and the extra
secret patterns, read by every step of every plan."""

from __future__ import annotations

from typing import Any

import dagster as dg
from pydantic import Field

from ops_pipeline.core.execution.masking import Masker
from ops_pipeline.core.execution.process_secrets import register_patterns
from ops_pipeline.core.execution.rbac import RbacPolicy
from ops_pipeline.core.execution.timeouts import DEFAULT_TIMEOUT_MATRIX, TimeoutMatrix
from ops_pipeline.settings import PoliciesSettings


class PoliciesResource(dg.ConfigurableResource):
    timeout_matrix: dict[str, Any] = Field(default_factory=dict, description="overrides of the SLA x action matrix")
    retry_delay_s: float = Field(default=1.0, description="base delay of a step's exponential retries")
    max_runtime_grace_s: int = Field(default=30, description="dagster/max_runtime = execution timeout + this")
    rbac: dict[str, Any] = Field(default_factory=dict, description="rules, default effects and groups")
    mask_patterns: list[str] = Field(default_factory=list, description="extra patterns masked everywhere")

    @classmethod
    def from_settings(cls, policies: PoliciesSettings) -> PoliciesResource:
        return cls(
            timeout_matrix=policies.timeout_matrix,
            retry_delay_s=policies.retry_delay_s,
            max_runtime_grace_s=policies.max_runtime_grace_s,
            rbac=policies.rbac.model_dump(mode="json"),
            mask_patterns=list(policies.mask_patterns),
        )

    def matrix(self) -> TimeoutMatrix:
        return DEFAULT_TIMEOUT_MATRIX.with_overrides(self.timeout_matrix)

    def rbac_policy(self) -> RbacPolicy:
        return RbacPolicy.model_validate(self.rbac)

    def masker(self) -> Masker:
        """A fresh masker for one step; the patterns also go to this process's event log masking."""
        register_patterns(self.mask_patterns)
        return Masker(extra_patterns=self.mask_patterns)
