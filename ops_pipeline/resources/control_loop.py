"""The `control_loop:` section of ops.yaml as a Dagster resource: the policy the sensors decide by, the patch a
loop replan applies per plan, which plans signals and schema changes concern, and where debug bundles go."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from pydantic import Field

from ops_pipeline.core.control_loop import ControlLoopPolicy, PlanPatch
from ops_pipeline.settings import ControlLoopSettings
from ops_pipeline.settings.control_loop import ConfiguredPatch, WatchSettings


class ControlLoopResource(dg.ConfigurableResource):
    # JSON text: Dagster's config maps cannot hold the section's nulls.
    settings_json: str = Field(default="{}", description="the control_loop section of ops.yaml, validated, as JSON")

    @classmethod
    def from_settings(cls, settings: ControlLoopSettings) -> ControlLoopResource:
        return cls(settings_json=settings.model_dump_json())

    def parsed(self) -> ControlLoopSettings:
        return ControlLoopSettings.model_validate_json(self.settings_json)

    def policy(self) -> ControlLoopPolicy:
        return self.parsed().policy()

    def watch(self) -> WatchSettings:
        return self.parsed().watch

    def replan_patch(self, plan: str, retry_from: str | None) -> PlanPatch | None:
        """The patch a loop replan of `plan` applies; None when neither a patch nor a failed step is known."""
        configured = self.parsed().replan_patches.get(plan)
        if configured is None:
            return ConfiguredPatch(reason="retry from the failed step").plan_patch(retry_from) if retry_from else None
        return configured.plan_patch(retry_from)

    def bundle_dir(self) -> Path:
        configured = self.parsed().bundle_dir
        if configured:
            return Path(configured)
        return Path(os.environ.get("DAGSTER_HOME") or ".") / "debug_bundles"
