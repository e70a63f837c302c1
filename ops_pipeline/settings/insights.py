"""`detectors:` and `insights:` anomaly detectors over metric series, their reactions, and the probe."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from ops_pipeline.core import detector_defaults
from ops_pipeline.core.durations import format_duration, parse_duration
from ops_pipeline.core.metric_selector import parse_selector
from ops_pipeline.settings.base import CronExpression, Duration, PlausibleDate, StrictModel

if TYPE_CHECKING:
    from ops_pipeline.core.detectors import DetectorSpec


class ConfirmSettings(StrictModel):
    """k of the last n valid points must exceed; n defaults to k (k points in a row)."""

    n: int = Field(default=1, ge=1, description="points looked at (default: k)")
    k: int = Field(default=1, ge=1, description="of them, how many must exceed")

    @model_validator(mode="before")
    @classmethod
    def _n_defaults_to_k(cls, data: Any) -> Any:
        k = data.get("k") if isinstance(data, dict) else None
        if isinstance(k, int) and not isinstance(k, bool) and k >= 1 and data.get("n") is None:
            return {**data, "n": k}
        return data

    @field_validator("k")
    @classmethod
    def _k_at_most_n(cls, k: int, info: ValidationInfo) -> int:
        n = info.data.get("n")
        if n is not None and k > n:
            raise ValueError(f"must be at most n ({n}): k of the last n points must exceed")
        return k


MAX_POINTS = 1_000_000  # warm-ups, cooldowns and windows beyond this are typos, and overflow the kernels' counters

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


def _cooldown(value: Any) -> Any:
    """A number of points (`50`) or a duration (`30m`); bools and negative counts are refused."""
    if isinstance(value, str) and value.strip().isdigit():
        raise ValueError(f"{value!r} is quoted: write {value.strip()} (points) or add a unit such as {value.strip()}m")
    if value is None or isinstance(value, str):
        if isinstance(value, str):
            parse_duration(value)
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be a number of points (50) or a duration (30m)")
    if not 0 <= value <= MAX_POINTS:
        raise ValueError(f"must be between 0 (off) and {MAX_POINTS:,} points")
    return value


class DetectorSettings(StrictModel):
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$")
    source: Literal["recorded", "prometheus", "run_history"]
    query: str = Field(min_length=1, description="PromQL for prometheus, a selector for the other sources")
    kind: Literal["zscore", "ewma"]
    window: int | None = Field(default=None, description=f"zscore only (default {detector_defaults.ZSCORE_WINDOW})")
    alpha: float | None = Field(default=None, description=f"ewma only (default {detector_defaults.EWMA_ALPHA})")
    halflife: float | None = Field(default=None, description="ewma only, in points; instead of alpha")
    threshold: float = detector_defaults.THRESHOLD
    direction: Literal["up", "down", "both"] = "both"
    warmup: int = Field(default=detector_defaults.WARMUP, ge=0, le=MAX_POINTS, description="points before scoring")
    robust: bool = False
    cooldown: Annotated[int | str | None, BeforeValidator(_cooldown)] = Field(
        default=None,
        description=f"points (50) or a duration (30m); default {detector_defaults.COOLDOWN_POINTS} points, 0 = off",
    )
    confirm: ConfirmSettings = ConfirmSettings()
    scale_floor: float = Field(default=detector_defaults.SCALE_FLOOR, ge=0, description="least scale, metric units")
    scale_floor_relative: float = Field(
        default=detector_defaults.SCALE_FLOOR_RELATIVE, ge=0, description="least scale, fraction of the level"
    )
    adaptive_quantile: float | None = Field(
        default=detector_defaults.ADAPTIVE_QUANTILE,
        gt=0,
        lt=1,
        description="also exceed this quantile of the recent scores; null = off",
    )
    adaptive_window: int = Field(
        default=detector_defaults.ADAPTIVE_WINDOW, ge=1, le=MAX_POINTS, description="scored points"
    )
    step: Duration = 60
    lookback: Duration | None = Field(
        default=None, description="history read before a day by the batch; default: what the detector needs, >= 1d"
    )
    critical_at: float = Field(default=2.0, ge=1.0, description="critical when |score| >= threshold x this")
    reactions: list[ReactionSettings] = []

    @field_validator("query")
    @classmethod
    def _selector_for_its_source(cls, query: str, info: ValidationInfo) -> str:
        """Recorded and run-history metrics are read through a selector: a malformed one is refused at load, not
        at the first probe tick (PromQL for a Prometheus source is checked by the server)."""
        if info.data.get("source") in ("recorded", "run_history"):
            parse_selector(query)  # a SelectorError (ValueError) names the position of the problem
        return query

    @field_validator("window")
    @classmethod
    def _window_is_for_zscore(cls, window: int | None, info: ValidationInfo) -> int | None:
        if window is not None and info.data.get("kind") == "ewma":
            raise ValueError("applies to kind zscore only; an ewma detector takes alpha or halflife")
        return window

    @field_validator("alpha", "halflife")
    @classmethod
    def _smoothing_is_for_ewma(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None and info.data.get("kind") == "zscore":
            raise ValueError("applies to kind ewma only; a zscore detector takes window")
        return value

    @field_validator("lookback")
    @classmethod
    def _lookback_covers_the_detector(cls, lookback: int | None, info: ValidationInfo) -> int | None:
        if lookback is None or info.data.get("step") is None:
            return lookback
        try:
            spec = _detector_spec(info.data)
        except (KeyError, ValueError):
            return lookback  # the fields that failed are reported on their own
        needed = _needed_history_s(spec, info.data["step"])
        if lookback < needed:
            raise ValueError(
                f"{format_duration(lookback)} is shorter than the {format_duration(needed)} of history this "
                f"detector needs ({spec.history_points} points of {format_duration(info.data['step'])}: the "
                "baseline, the adaptive window, k of n and the cooldown), so the batch would disagree with the "
                "probe; raise it, or leave lookback out to get what is needed"
            )
        return lookback

    @model_validator(mode="after")
    def _valid_spec(self) -> DetectorSettings:
        self.spec()  # DetectorSpec checks the combination (window, alpha/halflife, k of n, ...)
        if self.step < 1:
            raise ValueError("step must be at least 1s")
        return self

    @property
    def history_s(self) -> int:
        """The history the batch reads before a day and the probe starts with: `lookback`, else what the
        detector needs (see DetectorSpec.history_points), and at least a day."""
        if self.lookback is not None:
            return self.lookback
        return max(detector_defaults.LOOKBACK_S, _needed_history_s(self.spec(), self.step))

    def spec(self) -> DetectorSpec:
        return _detector_spec(dict(self))


def _detector_spec(fields: Mapping[str, Any]) -> DetectorSpec:
    """The DetectorSpec of a detector's (validated) fields."""
    # Imported here: the detectors module loads numba (~0.4 s), which configuration checks should not pay.
    from ops_pipeline.core.detectors import DetectorSpec

    cooldown = fields["cooldown"]
    return DetectorSpec(
        kind=fields["kind"],
        window=fields["window"],
        alpha=fields["alpha"],
        halflife=fields["halflife"],
        threshold=fields["threshold"],
        direction=fields["direction"],
        warmup=fields["warmup"],
        robust=fields["robust"],
        cooldown_s=parse_duration(cooldown) if isinstance(cooldown, str) else 0,
        cooldown_points=cooldown if isinstance(cooldown, int) else (None if cooldown is None else 0),
        confirm_k=fields["confirm"].k,
        confirm_n=fields["confirm"].n,
        scale_floor=fields["scale_floor"],
        scale_floor_rel=fields["scale_floor_relative"],
        adaptive_quantile=fields["adaptive_quantile"],
        adaptive_window=fields["adaptive_window"],
    )


def _needed_history_s(spec: DetectorSpec, step: int) -> int:
    """Seconds of history after which batch and probe decide alike."""
    return spec.history_points * step + math.ceil(spec.cooldown_s)


class InsightsSettings(StrictModel):
    start_date: PlausibleDate = Field(default=date(2026, 1, 1), description="first daily partition of insight_signals")
    probe_interval_s: int = Field(default=30, ge=5)
    probe_running: bool = True
    max_points_per_tick: int = Field(default=1440, ge=1, description="grid points one probe tick reads per detector")
    charts: int = Field(default=5, ge=0, le=50, description="top signals charted per materialization")
    artifacts_dir: str | None = Field(default=None, description="where charts go (default $DAGSTER_HOME/artifacts)")
    refresh_cron: CronExpression | None = Field(default=None, description="cron for materializing today's partition")
    refresh_schedule_running: bool = False
