"""The insights domain: the insight_signals asset (batch detection per day), the anomaly probe sensor
(streaming detection) and the jobs its reactions launch, the sensor that materializes today at start and the
schedule that keeps today current."""

from pathlib import Path

import dagster as dg

from ops_pipeline.defs.insights.assets import build_insight_signals
from ops_pipeline.defs.insights.jobs import reaction_jobs
from ops_pipeline.defs.insights.schedules import build_insight_refresh_schedule, refresh_insight_signals
from ops_pipeline.defs.insights.sensors import build_anomaly_probe_sensor
from ops_pipeline.defs.insights.today import build_insight_signals_today_sensor
from ops_pipeline.settings import MetricsSettings, OpsSettings


def metrics_kinds(metrics: MetricsSettings) -> set[str]:
    """The technologies the detectors read: Prometheus, a recorded CSV or Parquet file, Dagster's runs."""
    kinds = {"prometheus"} if metrics.prometheus else set()
    if metrics.recorded:
        kinds.add("parquet" if Path(metrics.recorded.path).suffix == ".parquet" else "csv")
    return kinds


def definitions(settings: OpsSettings) -> dg.Definitions:
    insights = settings.insights
    jobs = reaction_jobs(settings.detectors, insights)
    schedules = (
        [build_insight_refresh_schedule(insights.refresh_cron, insights.refresh_schedule_running)]
        if insights.refresh_cron
        else []
    )
    return dg.Definitions(
        assets=[build_insight_signals(settings.detectors, insights, metrics_kinds(settings.metrics))],
        jobs=[*(reaction.job for reaction in jobs.values()), refresh_insight_signals],
        sensors=[
            build_anomaly_probe_sensor(settings.detectors, insights, jobs),
            build_insight_signals_today_sensor(insights.refresh_schedule_running),
        ],
        schedules=schedules,
    )
