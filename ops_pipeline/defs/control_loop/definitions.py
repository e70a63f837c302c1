"""The control-loop domain: the recovery jobs (rerun, replan, skip, rollback, debug), the failure and signal
sensors that decide by the policy in ops.yaml and launch them, and the replan events view."""

from __future__ import annotations

import dagster as dg

from ops_pipeline.defs.control_loop.assets import replan_events
from ops_pipeline.defs.control_loop.jobs import ACTION_JOBS
from ops_pipeline.defs.control_loop.sensors import build_failure_sensor, build_signal_sensor
from ops_pipeline.settings import OpsSettings


def definitions(settings: OpsSettings) -> dg.Definitions:
    loop = settings.control_loop
    return dg.Definitions(
        assets=[replan_events],
        jobs=list(ACTION_JOBS.values()),
        sensors=[
            build_failure_sensor(loop.failure_interval_s, loop.max_triggers_per_tick),
            build_signal_sensor(loop.signal_interval_s, loop.max_triggers_per_tick),
        ],
    )
