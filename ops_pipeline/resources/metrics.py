"""The `metrics:` section of ops.yaml as a Dagster resource: the Prometheus HTTP API, a recorded metrics file,
and the run history, each built on demand as a metrics source."""

from __future__ import annotations

import dagster as dg
import sqlalchemy as sa
from pydantic import Field

from ops_pipeline.metrics.prometheus import PrometheusSource
from ops_pipeline.metrics.recorded import RecordedMetricsSource
from ops_pipeline.metrics.run_history import RunHistoryMetricsSource
from ops_pipeline.metrics.source import MetricsSource
from ops_pipeline.settings import ConfigError, MetricsSettings


class MetricsResource(dg.ConfigurableResource):
    """Where detectors read their series. A source left unset here is refused with the key to set."""

    prometheus_url: str | None = Field(default=None, description="base URL of the Prometheus HTTP API")
    prometheus_timeout_s: float = Field(default=10.0, description="longest a Prometheus query may take")
    recorded_path: str | None = Field(default=None, description="CSV or Parquet of timestamp, metric, labels, value")

    @classmethod
    def from_settings(cls, metrics: MetricsSettings) -> MetricsResource:
        return cls(
            prometheus_url=metrics.prometheus.url if metrics.prometheus else None,
            prometheus_timeout_s=metrics.prometheus.timeout_s if metrics.prometheus else 10.0,
            recorded_path=metrics.recorded.path if metrics.recorded else None,
        )

    def source(self, name: str, engine: sa.Engine) -> MetricsSource:
        if name == "run_history":
            return RunHistoryMetricsSource(engine)
        if name == "prometheus" and self.prometheus_url:
            return PrometheusSource(self.prometheus_url, timeout_s=self.prometheus_timeout_s)
        if name == "recorded" and self.recorded_path:
            return RecordedMetricsSource(self.recorded_path)
        raise ConfigError(f"metrics source {name!r} is not configured (set metrics.{name} in ops.yaml)")
