"""Insight signals, one daily partition per day: every configured detector run in batch over the day.

Re-materializing a day replaces its signals. The charts of the top signals are PNG files, shown in the
materialization's `charts` entry (embedded, so the UI draws them); counts per metric and severity and the top
signals are tables in its metadata.
"""

import hashlib
import time
from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg

from ops_pipeline.core.signals import InsightSignal
from ops_pipeline.defs.insights.charts import artifacts_root, render_series_chart
from ops_pipeline.defs.insights.detection import DayDetection, detect_day
from ops_pipeline.markdown import table
from ops_pipeline.markdown.images import charts_markdown
from ops_pipeline.metrics.series import MetricsError
from ops_pipeline.resources.metrics import MetricsResource
from ops_pipeline.resources.ops_store import OpsStoreResource
from ops_pipeline.settings import DetectorSettings, InsightsSettings
from ops_pipeline.store import signals as signal_store

TOP_SIGNALS = 20


def build_insight_signals(
    detectors: Sequence[DetectorSettings], insights: InsightsSettings, kinds: set[str]
) -> dg.AssetsDefinition:
    @dg.asset(
        name="insight_signals",
        # end_offset=1: today is a partition too, re-detected as its points arrive.
        partitions_def=dg.DailyPartitionsDefinition(start_date=insights.start_date.isoformat(), end_offset=1),
        group_name="insights",
        kinds=kinds or None,
        deps=["run_history"],
    )
    def insight_signals(
        context: dg.AssetExecutionContext, ops_store: OpsStoreResource, metrics: MetricsResource
    ) -> dg.MaterializeResult:
        """Anomalies found by the z-score and EWMA detectors of ops.yaml in one UTC day of metrics."""
        day, now = date.fromisoformat(context.partition_key), int(time.time())
        engine = ops_store.engine()
        try:
            detections = [detect_day(d, metrics.source(d.source, engine), day, now=now) for d in detectors]
        except MetricsError as error:
            raise dg.Failure(description=str(error), metadata={"error_kind": error.kind}) from None
        signals = [s for detection in detections for s in detection.signals]
        with engine.begin() as conn:
            signal_store.replace_partition(conn, context.partition_key, [d.name for d in detectors], signals)
        charts = _charts(detections, context.partition_key, insights)
        context.log.info(f"{context.partition_key}: {len(signals)} signals from {len(detections)} detectors")
        return dg.MaterializeResult(metadata=_metadata(detections, signals, charts))

    return insight_signals


def _top(signals: Sequence[InsightSignal], count: int) -> list[InsightSignal]:
    return sorted(signals, key=lambda s: (-abs(s.score), s.ts))[:count]


def _charts(detections: Sequence[DayDetection], day: str, insights: InsightsSettings) -> dict[str, str]:
    if insights.charts == 0:
        return {}
    folder = artifacts_root(insights.artifacts_dir) / "insight_signals" / day
    charted: dict[str, str] = {}
    by_detector = {d.detector.name: d for d in detections}
    for signal in _top([s for d in detections for s in d.signals], insights.charts):
        found = by_detector[signal.detector].series_for(signal)
        if found is None or signal.natural_key in charted:
            continue
        timestamps, values, marks = found
        name = hashlib.sha1(signal.natural_key.encode(), usedforsecurity=False).hexdigest()[:12]
        highlight = int((timestamps == int(signal.ts.timestamp())).argmax())
        path = render_series_chart(
            folder / f"{signal.detector}_{name}.png",
            f"{signal.detector}: {signal.series_key}",
            timestamps,
            values,
            marks,
            highlight,
        )
        charted[signal.natural_key] = str(path)
    return charted


def _metadata(
    detections: Sequence[DayDetection], signals: Sequence[InsightSignal], charts: dict[str, str]
) -> dict[str, Any]:
    captions = {s.natural_key: f"{s.detector}: {s.series_key}" for s in signals}
    metadata: dict[str, Any] = {
        "charts": dg.MetadataValue.md(
            charts_markdown((captions[key], Path(path)) for key, path in charts.items()) or "No signals to chart."
        ),
        "dagster/row_count": len(signals),
        "signals": len(signals),
        "critical": sum(s.severity == "critical" for s in signals),
        "warning": sum(s.severity == "warning" for s in signals),
        "series_scanned": sum(len(d.series) for d in detections),
        "by_metric_and_severity": dg.MetadataValue.md(_counts_markdown(signals)),
        "top_signals": dg.MetadataValue.md(_top_markdown(_top(signals, TOP_SIGNALS), charts)),
    }
    for number, path in enumerate(charts.values(), start=1):
        metadata[f"chart_{number}"] = dg.MetadataValue.path(path)
    return metadata


def _counts_markdown(signals: Sequence[InsightSignal]) -> str:
    counts = Counter((s.metric, s.severity) for s in signals)
    rows = ((metric, severity, n) for (metric, severity), n in sorted(counts.items()))
    return table(["metric", "severity", "signals"], rows, empty="No signals.")


def _top_markdown(signals: Sequence[InsightSignal], charts: dict[str, str]) -> str:
    rows = (
        (
            f"{s.ts:%H:%M}",
            s.severity,
            s.detector,
            f"`{s.series_key}`",
            f"{s.value:.4g}",
            f"{s.score:+.1f}",
            s.hint,
            charts.get(s.natural_key, ""),
        )
        for s in signals
    )
    headers = ["time (UTC)", "severity", "detector", "series", "value", "score", "hint", "chart"]
    return table(headers, rows, empty="No signals.")
