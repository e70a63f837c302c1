"""Metrics sources as a Dagster resource: the Prometheus API, a recorded metrics file, or the run history."""

from __future__ import annotations

import dagster as dg
import sqlalchemy as sa
from pydantic import Field

from ops_pipeline.metrics.prometheus import PrometheusSource
from ops_pipeline.metrics.recorded import RecordedMetricsSource
from ops_pipeline.metrics.run_history import RunHistoryMetricsSource
from ops_pipeline.metrics.source import MetricsSource
from ops_pipeline.resources.sources import cached_settings
from ops_pipeline.settings import ConfigError, OpsSettings


class MetricsResource(dg.ConfigurableResource):
    """Builds the metrics source a detector names from the `metrics:` section of ops.yaml."""

    config_path: str = Field(description="path of ops.yaml")

    def settings(self) -> OpsSettings:
        return cached_settings(self.config_path)

    def source(self, name: str, engine: sa.Engine) -> MetricsSource:
        metrics = self.settings().metrics
        if name == "run_history":
            return RunHistoryMetricsSource(engine)
        if name == "prometheus" and metrics.prometheus:
            return PrometheusSource(metrics.prometheus.url, timeout_s=metrics.prometheus.timeout_s)
        if name == "recorded" and metrics.recorded:
            return RecordedMetricsSource(metrics.recorded.path)
        raise ConfigError(f"metrics source {name!r} is not configured in {self.config_path}")
