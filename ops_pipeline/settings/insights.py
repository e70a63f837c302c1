"""`detectors:` and `insights:` anomaly detectors over metric series, their reactions, and the probe."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from ops_pipeline.settings.base import CronExpression, Duration, StrictModel

if TYPE_CHECKING:
    from ops_pipeline.core.detectors import DetectorSpec


class ConfirmSettings(StrictModel):
    k: int = Field(default=1, ge=1)
    n: int = Field(default=1, ge=1)


# Jobs a reaction may launch; defs/insights/jobs.py defines each (a test keeps the two in step).
REACTION_JOBS = ("diagnose_signal",)


def _known_reaction_job(job: str) -> str:
    if job not in REACTION_JOBS:
        raise ValueError(f"unknown job {job!r} (reactions can launch: {', '.join(REACTION_JOBS)})")
    return job


class ReactionSettings(StrictModel):
    job: Annotated[str, AfterValidator(_known_reaction_job)] = Field(
        description="job launched for each new signal this reaction matches"
    )
    severity: Literal["warning", "critical"] = Field(default="warning", description="lowest severity that reacts")


class DetectorSettings(StrictModel):
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$")
    source: Literal["recorded", "prometheus", "run_history"]
    query: str = Field(min_length=1, description="PromQL for prometheus, a selector for the other sources")
    kind: Literal["zscore", "ewma"]
    window: int = 60
    alpha: float | None = None
    halflife: float | None = None
    threshold: float = 3.0
    direction: Literal["up", "down", "both"] = "both"
    warmup: int = 30
    robust: bool = False
    cooldown: Duration = 0
    confirm: ConfirmSettings = ConfirmSettings()
    step: Duration = 60
    lookback: Duration = Field(default=86400, description="history before a day that warms the batch detector up")
    critical_at: float = Field(default=2.0, ge=1.0, description="critical when |score| >= threshold x this")
    reactions: list[ReactionSettings] = []

    @model_validator(mode="after")
    def _valid_spec(self) -> DetectorSettings:
        self.spec()  # DetectorSpec checks the combination (window, alpha/halflife, k of n, ...)
        if self.step < 1:
            raise ValueError("step must be at least 1s")
        return self

    def spec(self) -> DetectorSpec:
        # Imported here: the detectors module loads numba (~0.4 s), which configuration checks should not pay.
        from ops_pipeline.core.detectors import DetectorSpec

        return DetectorSpec(
            kind=self.kind,
            window=self.window,
            alpha=self.alpha,
            halflife=self.halflife,
            threshold=self.threshold,
            direction=self.direction,
            warmup=self.warmup,
            robust=self.robust,
            cooldown_s=self.cooldown,
            confirm_k=self.confirm.k,
            confirm_n=self.confirm.n,
        )


class InsightsSettings(StrictModel):
    start_date: date = Field(default=date(2026, 1, 1), description="first daily partition of insight_signals")
    probe_interval_s: int = Field(default=30, ge=5)
    probe_running: bool = True
    max_points_per_tick: int = Field(default=1440, ge=1, description="grid points one probe tick reads per detector")
    charts: int = Field(default=5, ge=0, le=50, description="top signals charted per materialization")
    artifacts_dir: str | None = Field(default=None, description="where charts go (default $DAGSTER_HOME/artifacts)")
    refresh_cron: CronExpression | None = Field(default=None, description="cron for materializing today's partition")
    refresh_schedule_running: bool = False
