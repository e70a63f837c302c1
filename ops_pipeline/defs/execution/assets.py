"""`executions`: the execution list as the UI shows it (status, plan and version, tenant, who submitted,
approvals, timings) and counts by status, refreshed by a sensor when an execution changed (and whenever
someone materializes it)."""

from collections import Counter
from typing import Any

import dagster as dg

from ops_pipeline.markdown.executions import approval_summary, executions_markdown
from ops_pipeline.resources.ops_store import OpsStoreResource
from ops_pipeline.store.approvals import summaries
from ops_pipeline.store.executions import last_event_id, list_executions

SHOWN = 50


@dg.asset(group_name="execution", kinds={"dagster"})
def executions(context: dg.AssetExecutionContext, ops_store: OpsStoreResource) -> dg.MaterializeResult:
    """Every tenant's latest executions of execution plans, newest first (tenants see theirs in the CLI)."""
    with ops_store.engine().connect() as conn:
        latest = list_executions(conn, None, limit=SHOWN)
        approvals = {k: approval_summary(v) for k, v in summaries(conn, [e.id for e in latest]).items()}
    by_status = Counter(e.status for e in latest)
    metadata: dict[str, Any] = {
        "shown": len(latest),
        **{f"status {status}": n for status, n in sorted(by_status.items())},
        "executions": dg.MetadataValue.md(executions_markdown(latest, approvals)),
    }
    context.log.info(f"{len(latest)} executions: " + ", ".join(f"{n} {s}" for s, n in sorted(by_status.items())))
    return dg.MaterializeResult(metadata=metadata)


refresh_executions = dg.define_asset_job("refresh_executions", selection=["executions"])


@dg.sensor(
    job=refresh_executions,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Refreshes the executions view when an execution changed since the last refresh.",
)
def executions_refresh(
    context: dg.SensorEvaluationContext, ops_store: OpsStoreResource
) -> dg.RunRequest | dg.SkipReason:
    with ops_store.engine().connect() as conn:
        newest = last_event_id(conn)
    if newest <= int(context.cursor or 0):
        return dg.SkipReason("no execution changed since the last refresh")
    context.update_cursor(str(newest))
    return dg.RunRequest(run_key=f"executions:{newest}")
