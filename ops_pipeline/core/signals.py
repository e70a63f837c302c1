"""Insight signals: an anomaly a detector found in one series at one time, with what a person needs to act."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

Severity = Literal["warning", "critical"]
# batch detection, the streaming probe, or a monitor that watches something other than a metric (SLA deadlines)
Origin = Literal["batch", "probe", "monitor"]
SEVERITY_RANK: dict[str, int] = {"warning": 1, "critical": 2}


@dataclass(frozen=True)
class InsightSignal:
    detector: str
    metric: str
    labels: dict[str, str]
    series_key: str
    ts: datetime
    value: float
    score: float
    threshold: float
    direction: str
    severity: Severity
    hint: str
    origin: Origin

    @property
    def partition_date(self) -> str:
        return self.ts.astimezone(UTC).strftime("%Y-%m-%d")

    @property
    def natural_key(self) -> str:
        """Stable across re-detection: the same anomaly gets the same key whichever path found it."""
        return f"{self.detector}|{self.series_key}|{int(self.ts.timestamp())}"


def severity_of(score: float, threshold: float, critical_at: float) -> Severity:
    return "critical" if abs(score) >= threshold * critical_at else "warning"


def reaches(severity: str, floor: str) -> bool:
    return SEVERITY_RANK[severity] >= SEVERITY_RANK[floor]


def hint_for(series_key: str, kind: str, value: float, score: float, threshold: float, at: datetime) -> str:
    movement = "rose" if score > 0 else "fell"
    side = "above" if score > 0 else "below"
    return (
        f"{series_key} {movement} to {value:.4g} at {at.astimezone(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{abs(score):.1f} standard deviations {side} its {kind} baseline (threshold {threshold:g})"
    )


def make_signal(
    *,
    detector: str,
    kind: str,
    metric: str,
    labels: dict[str, str],
    series_key: str,
    ts: int,
    value: float,
    score: float,
    threshold: float,
    direction: str,
    critical_at: float,
    origin: Literal["batch", "probe"],
) -> InsightSignal:
    at = datetime.fromtimestamp(ts, UTC)
    return InsightSignal(
        detector=detector,
        metric=metric,
        labels=labels,
        series_key=series_key,
        ts=at,
        value=value,
        score=score,
        threshold=threshold,
        direction=direction,
        severity=severity_of(score, threshold, critical_at),
        hint=hint_for(series_key, kind, value, score, threshold, at),
        origin=origin,
    )
