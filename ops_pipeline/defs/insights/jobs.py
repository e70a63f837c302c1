"""Diagnosis of one insight signal: the series around it, how unusual the value is, recent signals, a chart.

Launched by the anomaly probe for reactions that name `diagnose_signal`, or by hand from the launchpad.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import dagster as dg
import numpy as np
import sqlalchemy as sa
from pydantic import Field

from ops_pipeline.core.time_grid import floor_to_step, moment
from ops_pipeline.defs.insights.charts import artifacts_root, render_series_chart
from ops_pipeline.markdown.images import charts_markdown
from ops_pipeline.metrics.series import MetricsError
from ops_pipeline.resources.metrics import MetricsResource
from ops_pipeline.resources.ops_store import OpsStoreResource
from ops_pipeline.settings import ConfigError, DetectorSettings, InsightsSettings
from ops_pipeline.store.tables import insight_signals

CONTEXT_POINTS = 240


@dataclass(frozen=True)
class ReactionJob:
    """A job a reaction launches; its run config is a flat SignalConfig (detector, series_key, ts)."""

    job: dg.JobDefinition


class SignalConfig(dg.Config):
    detector: str = Field(description="detector that raised the signal")
    series_key: str = Field(description='the series, e.g. latency_p95{service="checkout"}')
    ts: int = Field(description="signal time, epoch seconds")


def build_diagnose_signal(detectors: Sequence[DetectorSettings], artifacts_dir: str | None) -> dg.JobDefinition:
    by_name = {d.name: d for d in detectors}

    @dg.op(description="Summarise the series around a signal and chart it.")
    def diagnose(
        context: dg.OpExecutionContext, config: SignalConfig, ops_store: OpsStoreResource, metrics: MetricsResource
    ) -> dg.Output[dict[str, object]]:
        engine = ops_store.engine()
        detector = by_name.get(config.detector)
        if detector is None:
            known = ", ".join(sorted(by_name)) or "none"
            raise dg.Failure(description=f"unknown detector {config.detector!r} (configured: {known})")
        try:
            source = metrics.source(detector.source, engine)
            step = detector.step
            end = floor_to_step(config.ts, step) + 10 * step
            series = source.query_range(
                detector.query, moment(end - CONTEXT_POINTS * step), moment(end), timedelta(seconds=step)
            )
        except (ConfigError, MetricsError) as error:
            raise dg.Failure(description=str(error)) from None
        match = next((s for s in series if s.series_key == config.series_key), None)
        if match is None:
            raise dg.Failure(description=f"series {config.series_key} is no longer returned by {detector.query!r}")
        report = _report(engine, config, match.timestamps, match.values)
        at = np.flatnonzero(match.timestamps == config.ts)
        chart = render_series_chart(
            artifacts_root(artifacts_dir) / "diagnoses" / f"{context.run_id}.png",
            f"{config.detector}: {config.series_key}",
            match.timestamps,
            match.values,
            [int(i) for i in at],
            int(at[0]) if at.size else None,
        )
        context.log.info(str(report["summary"]))
        caption = f"{config.detector}: {config.series_key}"
        metadata: dict[str, Any] = {
            **report,
            "chart_image": dg.MetadataValue.md(charts_markdown([(caption, chart)])),
            "chart": dg.MetadataValue.path(str(chart)),
        }
        return dg.Output(report, metadata=metadata)

    @dg.config_mapping
    def signal_form(form: SignalConfig) -> dg.RunConfig:
        return dg.RunConfig(ops={"diagnose": form})

    @dg.job(
        config=signal_form,
        description="Diagnose one insight signal. Launchpad config, e.g.: `detector: latency_ewma`, "
        "`series_key: 'http_request_latency_p95{service=\"payments\"}'`, `ts: <epoch seconds>`.",
    )
    def diagnose_signal() -> None:
        diagnose()

    return diagnose_signal


def _report(engine: sa.Engine, config: SignalConfig, timestamps: np.ndarray, values: np.ndarray) -> dict[str, object]:
    before = values[(timestamps < config.ts) & ~np.isnan(values)]
    at = values[timestamps == config.ts]
    value = float(at[0]) if at.size and not np.isnan(at[0]) else float("nan")
    median = float(np.median(before)) if before.size else float("nan")
    percentile = float((before < value).mean() * 100) if before.size and not np.isnan(value) else float("nan")
    with engine.connect() as conn:
        recent = conn.execute(
            sa.select(sa.func.count()).where(
                insight_signals.c.detector == config.detector,
                insight_signals.c.series_key == config.series_key,
                insight_signals.c.ts >= moment(config.ts - 86400),
            )
        ).scalar()
    summary = (
        f"{config.series_key} was {value:.4g} at {moment(config.ts):%Y-%m-%d %H:%M} UTC; the median of the "
        f"{before.size} points before was {median:.4g}, so the value sat above {percentile:.1f}% of them. "
        f"{recent} signals on this series in the last 24 h."
    )
    return {
        "value": value,
        "median_before": median,
        "percentile": percentile,
        "signals_last_24h": int(recent or 0),
        "summary": summary,
    }


def reaction_jobs(detectors: Sequence[DetectorSettings], insights: InsightsSettings) -> dict[str, ReactionJob]:
    """Every job a detector's reaction may launch (settings.insights.REACTION_JOBS names them)."""
    return {"diagnose_signal": ReactionJob(build_diagnose_signal(detectors, insights.artifacts_dir))}
