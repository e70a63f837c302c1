"""`metrics:` where metric series come from: a Prometheus HTTP API or a recorded file."""

from __future__ import annotations

from pydantic import Field

from ops_pipeline.settings.base import HTTP_URL, StrictModel


class PrometheusSettings(StrictModel):
    url: str = Field(pattern=HTTP_URL, description="base URL of the Prometheus HTTP API")
    timeout_s: float = Field(default=10.0, gt=0, le=300)


class RecordedMetricsSettings(StrictModel):
    path: str = Field(description="CSV or Parquet of timestamp, metric, labels, value")


class MetricsSettings(StrictModel):
    prometheus: PrometheusSettings | None = None
    recorded: RecordedMetricsSettings | None = None
