"""Batch detection over one day: every series of a detector's query, vectorised, warmed up on the history it
needs (`history_s`: `lookback`, or what the detector needs), read in as many range queries as that takes; and
how a detector's finding becomes an insight signal, the same way for batch and probe."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np

from ops_pipeline.core.detectors import BatchResult, detect_batch, signals_of
from ops_pipeline.core.signals import InsightSignal, make_signal
from ops_pipeline.core.time_grid import day_bounds, floor_to_step
from ops_pipeline.metrics.long_range import query_long_range
from ops_pipeline.metrics.series import MetricSeries, align
from ops_pipeline.metrics.source import MetricsSource
from ops_pipeline.settings import DetectorSettings


@dataclass(frozen=True)
class DayDetection:
    detector: DetectorSettings
    series: list[MetricSeries]
    result: BatchResult | None
    signals: list[InsightSignal]

    def series_for(self, signal: InsightSignal) -> tuple[np.ndarray, np.ndarray, list[int]] | None:
        """Timestamps, values and signal positions of the series a signal belongs to (for charts)."""
        if self.result is None:
            return None
        for row, one in enumerate(self.series):
            if one.series_key == signal.series_key:
                marks = [int(i) for i in np.flatnonzero(self.result.signals[row])]
                return self.result.timestamps, self.result.values[row], marks
        return None


def detect_day(detector: DetectorSettings, source: MetricsSource, day: date, *, now: int) -> DayDetection:
    """The signals of `day` up to `now`: a grid point after `now` would be filled from the last sample (the
    lookback) and could be recorded before the probe reaches it, which would then not react to it."""
    first, last = day_bounds(day)
    step = detector.step
    start = floor_to_step(first - detector.history_s, step)
    end = floor_to_step(min(last, now), step)
    if end < first:
        return DayDetection(detector, [], None, [])
    series = query_long_range(source, detector.query, start, end, step)
    if not series:
        return DayDetection(detector, [], None, [])
    grid, matrix = align(series, start, end, step)
    result = detect_batch(detector.spec(), grid, matrix)
    signals = [
        signal_for(detector, one, found.ts, found.value, found.score, "batch")
        for row, one in enumerate(series)
        for found in signals_of(result, row)
        if first <= found.ts <= last
    ]
    return DayDetection(detector, series, result, signals)


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
