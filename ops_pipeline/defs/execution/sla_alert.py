"""`sla_alert`, the job the SLA monitor launches by default for an execution still running past its deadline:
it logs the alert and records it in the execution's audit trail (the insight signal is the monitor's). Launched
by hand, its form takes the execution id; launched by the monitor, it reads it from the run's tags."""

from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg
from pydantic import Field

from ops_pipeline.defs.execution import tags
from ops_pipeline.resources.ops_store import OpsStoreResource
from ops_pipeline.store.executions import UnknownExecution, execution, record_event

ALERT_EVENT = "sla_alert"


class SlaAlertConfig(dg.Config):
    execution_id: str = Field(default="", description="the late execution (default: the run's ops/alert_execution_id)")


@dg.op(description="Log and record that an execution is still running past its deadline.")
def record_sla_alert(
    context: dg.OpExecutionContext, config: SlaAlertConfig, ops_store: OpsStoreResource
) -> dg.Output[str]:
    execution_id = config.execution_id or context.run.tags.get(tags.ALERT_EXECUTION, "")
    if not execution_id:
        raise dg.Failure(description=f"no execution to alert on: set execution_id or the {tags.ALERT_EXECUTION} tag")
    now = datetime.now(UTC)
    with ops_store.engine().begin() as conn:
        try:
            late = execution(conn, execution_id)
        except UnknownExecution as error:
            raise dg.Failure(description=str(error), allow_retries=False) from None
        if late.deadline_at is None:
            raise dg.Failure(description=f"execution {execution_id} has no deadline (it never started)")
        late_s = (now - late.deadline_at) / timedelta(seconds=1)
        message = (
            f"execution {late.id} of plan {late.plan_name} v{late.plan_version} (tenant {late.tenant}, SLA "
            f"{late.sla_class}) is {late.status}, {late_s:.1f} s past its deadline of "
            f"{late.deadline_at:%Y-%m-%d %H:%M:%S} UTC"
        )
        record_event(
            conn,
            late.id,
            ALERT_EVENT,
            tags.actor_of(dict(context.run.tags), "ops_pipeline"),
            now=now,
            run_id=context.run_id,
            reason=message,
        )
    context.log.warning(message)
    metadata: dict[str, Any] = {
        "execution": late.id,
        "plan": late.plan_name,
        "status": late.status,
        "late_s": round(late_s, 3),
    }
    return dg.Output(late.id, metadata=metadata)


@dg.job(
    description="Alert on an execution still running past its deadline: logged, and recorded in its audit trail.",
    tags={"ops/kind": "alert"},
)
def sla_alert() -> None:
    record_sla_alert()
