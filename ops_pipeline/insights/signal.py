"""A detector's finding in one series turned into an insight signal, the same way for batch and probe."""

from __future__ import annotations

from typing import Literal

from ops_pipeline.core.signals import InsightSignal, make_signal
from ops_pipeline.metrics.series import MetricSeries
from ops_pipeline.settings import DetectorSettings


def signal_for(
    detector: DetectorSettings,
    series: MetricSeries,
    ts: int,
    value: float,
    score: float,
    origin: Literal["batch", "probe"],
) -> InsightSignal:
    return make_signal(
        detector=detector.name,
        kind=detector.kind,
        metric=series.metric,
        labels=series.labels_dict,
        series_key=series.series_key,
        ts=ts,
        value=value,
        score=score,
        threshold=detector.threshold,
        direction=detector.direction,
        critical_at=detector.critical_at,
        origin=origin,
    )
