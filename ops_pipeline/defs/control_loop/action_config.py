"""The launchpad forms of the recovery jobs: typed, flat, one per action. The loop fills in the same forms."""

from __future__ import annotations

import dagster as dg
from pydantic import Field


class ActionConfig(dg.Config):
    execution_id: str = Field(description="the execution to act on")
    actor: str = Field(default="", description="who acts (default: the run's ops/actor tag, else the UI user)")
    reason: str = Field(default="", description="why, for the audit trail")
    trigger_json: str = Field(default="", description="set by the control loop: the trigger it acts on")
    replan_event_id: int = Field(default=0, description="set by the control loop: its decision's replan event")


class RerunConfig(ActionConfig):
    """Re-execute the ended execution from its failure."""


class SkipConfig(ActionConfig):
    step: str = Field(default="", description="the step to skip (default: the step that failed)")


class ReplanConfig(ActionConfig):
    parameters_json: str = Field(default="{}", description="parameter -> new value, as a JSON object")
    skip_steps: list[str] = Field(default=[], description="steps the new version skips")
    retry_from: str = Field(default="", description="the step a retry of the new version starts from")
    targets_add: list[str] = Field(default=[], description="targets the new version adds")
    targets_remove: list[str] = Field(default=[], description="targets the new version drops")
    submit: bool = Field(default=True, description="submit the new version as a new execution")


class RollbackConfig(ActionConfig):
    steps: list[str] = Field(default=[], description="steps to undo (default: every completed step)")


class DebugConfig(ActionConfig):
    """Collect a debug bundle of the execution."""
