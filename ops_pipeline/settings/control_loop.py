"""`control_loop:` the policy of the control loop (which trigger leads to which action, cooling periods, replan
caps, automatic retries, per plan or job with a default, overrides per run tag; see
`core/control_loop/policy.py`), the patch a loop replan applies per plan, which plans an insight signal or a
schema change concerns, and how often the loop's sensors look."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, JsonValue, StringConstraints

from ops_pipeline.core.control_loop import ControlLoopPolicy, PlanPatch
from ops_pipeline.settings.base import StrictModel

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class ConfiguredPatch(StrictModel):
    """What a replan by the loop changes in a plan (a failure's replan also retries from the failed step)."""

    parameters: dict[Name, JsonValue] = Field(default_factory=dict, description="parameter -> new value")
    skip_steps: list[Name] = Field(default_factory=list)
    targets_add: list[Name] = Field(default_factory=list)
    targets_remove: list[Name] = Field(default_factory=list)
    reason: str = Field(default="the configured replan patch", min_length=1, max_length=2000)

    def plan_patch(self, retry_from: str | None = None) -> PlanPatch:
        return PlanPatch(
            parameters=self.parameters,
            skip_steps=self.skip_steps,
            retry_from=retry_from,
            targets_add=self.targets_add,
            targets_remove=self.targets_remove,
            reason=self.reason,
        )


class WatchSettings(StrictModel):
    """Which plans a signal or a schema change is about: the loop decides per plan."""

    detectors: dict[Name, list[Name]] = Field(default_factory=dict, description="detector -> plans it concerns")
    sources: dict[Name, list[Name]] = Field(default_factory=dict, description="catalog source -> plans it concerns")


class ControlLoopSettings(ControlLoopPolicy):
    replan_patches: dict[Name, ConfiguredPatch] = Field(default_factory=dict, description="plan -> patch")
    watch: WatchSettings = Field(default_factory=WatchSettings)
    failure_interval_s: int = Field(default=15, ge=5, le=3600, description="how often failed runs are read")
    signal_interval_s: int = Field(default=30, ge=5, le=3600, description="how often new signals are read")
    max_triggers_per_tick: int = Field(default=500, ge=1, le=10000, description="bound on a tick's work")
    bundle_dir: str | None = Field(default=None, description="where debug bundles go ($DAGSTER_HOME/debug_bundles)")

    def policy(self) -> ControlLoopPolicy:
        return ControlLoopPolicy(default=self.default, plans=self.plans, overrides_by_tag=self.overrides_by_tag)
