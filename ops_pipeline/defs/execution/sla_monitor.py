"""`sla_monitor`: each execution still running past its deadline (stored when it started) raises one alert, an
insight signal in the ops store and a run of the configured alert job (`plans.sla_alert_job`, default
`sla_alert`), which finds the execution in its run tags.

The cursor is the (deadline, execution id) of the last late execution looked at, so each tick reads only
executions whose deadline passed since; a deadline is written when its execution starts, long before it
passes. The signal is keyed on the execution and its deadline and the run key on the execution, so a tick that
is repeated (a crash before the cursor was saved, a reset cursor) records and launches nothing twice.
"""

import json
from datetime import UTC, datetime

import dagster as dg

from ops_pipeline.core.execution.sla_alerts import OverdueRun, sla_signal
from ops_pipeline.defs.execution import tags
from ops_pipeline.resources.ops_store import OpsStoreResource
from ops_pipeline.store.execution_samples import overdue_executions
from ops_pipeline.store.signals import record_new

SENSOR = "sla_monitor"
PAGE = 100


def alert_key(late: OverdueRun) -> str:
    return f"sla_alert:{late.execution_id}"


def alert_request(late: OverdueRun) -> dg.RunRequest:
    alert_tags = {
        tags.ALERT_EXECUTION: late.execution_id,
        tags.ALERT_DEADLINE: late.deadline_at.isoformat(),
        tags.ALERT_PLAN: late.plan_name,
        tags.TENANT: late.tenant,
        tags.ACTOR: f"sensor:{SENSOR}",
    }
    if late.run_id:
        alert_tags[tags.ALERT_RUN] = late.run_id
    return dg.RunRequest(run_key=alert_key(late), tags=alert_tags)


def read_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    position = json.loads(cursor)
    return datetime.fromisoformat(position["deadline"]), position["execution_id"]


def write_cursor(late: OverdueRun) -> str:
    return json.dumps({"deadline": late.deadline_at.isoformat(), "execution_id": late.execution_id})


def build_sla_monitor(alert_job: str, interval_s: int) -> dg.SensorDefinition:
    @dg.sensor(
        name=SENSOR,
        job_name=alert_job,
        minimum_interval_seconds=interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Alerts once per execution still running past its deadline: a signal and a run of {alert_job}.",
    )
    def sla_monitor(
        context: dg.SensorEvaluationContext, ops_store: OpsStoreResource
    ) -> dg.SensorResult | dg.SkipReason:
        now = datetime.now(UTC)
        with ops_store.engine().begin() as conn:
            late = overdue_executions(conn, now, read_cursor(context.cursor), PAGE)
            new = record_new(conn, [sla_signal(overdue, now) for overdue in late])
        if not late:
            return dg.SkipReason("no running execution has passed its deadline since the last alert")
        context.log.warning(
            f"{len(late)} executions past their deadline ({len(new)} new signals): "
            + ", ".join(f"{overdue.execution_id} ({overdue.plan_name})" for overdue in late)
        )
        return dg.SensorResult(run_requests=[alert_request(overdue) for overdue in late], cursor=write_cursor(late[-1]))

    return sla_monitor
