"""`plans:` where execution plans are read from, how long approvals and idempotency keys last, where the
approvals sensor reaches the webserver's GraphQL API to resume step-by-step (level 3) executions, the window
of the execution metrics, and what the SLA monitor launches for an execution past its deadline."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from ops_pipeline.settings.base import Duration, StrictModel
from ops_pipeline.settings.celery import CelerySettings

DEFAULT_GRAPHQL_URL = "http://127.0.0.1:3000/graphql"


class PlansSettings(StrictModel):
    folders: list[str] = Field(default=[], description="folders of plan files (*.yaml), next to ops.yaml if relative")
    idempotency_window: Duration = Field(default=86400, description="how long a submission's key refuses duplicates")
    approval_expiry: dict[int, Duration] = Field(
        default={}, description="seconds an approval request stays open, by level (default 1: 5m, 2: 15m, 3: 30m)"
    )
    executor: Literal["in_process", "multiprocess", "celery"] = Field(
        default="in_process",
        description="how a plan's steps run: in the run's process (no start-up cost per step, so fast plans keep "
        "their deadlines), one process per step, or as Celery tasks on workers (see plans.celery)",
    )
    celery: CelerySettings = Field(
        default=CelerySettings(), description="broker, result backend and queue of the celery executor"
    )
    launch_interval_s: int = Field(default=10, ge=5, le=3600, description="how often approved work is launched")
    metrics_window: Duration = Field(
        default=7 * 86400, description="execution_metrics covers the executions submitted this long ago or later"
    )
    sla_alert_job: str = Field(
        default="sla_alert",
        min_length=1,
        description="the job the SLA monitor launches, once per execution still running past its deadline (it "
        "reads the execution from its run tags ops/alert_execution_id, ops/alert_deadline); any job of the code "
        "location that needs no run config",
    )
    sla_monitor_interval_s: int = Field(default=15, ge=5, le=3600, description="how often the SLA monitor looks")
    graphql_url: str | None = Field(
        default=None,
        pattern=r"^https?://\S+$",
        description="the webserver's GraphQL endpoint (default $OPS_GRAPHQL_URL, else " + DEFAULT_GRAPHQL_URL + ")",
    )

    @field_validator("approval_expiry")
    @classmethod
    def _levels(cls, expiry: dict[int, int]) -> dict[int, int]:
        for level, seconds in expiry.items():
            if level not in (1, 2, 3):
                raise ValueError(f"approval levels 1, 2 and 3 expire; {level} does not")
            if seconds < 60:
                raise ValueError(f"level {level}: an approval window under a minute cannot be met by a person")
        return expiry

    @field_validator("metrics_window")
    @classmethod
    def _metrics_window(cls, seconds: int) -> int:
        if not 60 <= seconds <= 366 * 86400:
            raise ValueError("between 1m and 366d")
        return seconds

    @field_validator("idempotency_window")
    @classmethod
    def _window(cls, seconds: int) -> int:
        if not 60 <= seconds <= 30 * 86400:
            raise ValueError("between 1m and 30d")
        return seconds
