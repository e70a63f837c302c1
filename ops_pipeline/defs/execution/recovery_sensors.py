"""The sensors that bring failed and lost executions to rest.

`dead_letters` pages the instance's failed runs with its own cursor (every failure once, any number per tick;
not `run_failure_sensor`, which handles five), keeps those of plan runs (the `ops/execution_id` tag), and
inserts a dead letter for each whose execution failed for good (idempotent on the run id). `execution_reaper`
finds executions still `running` whose newest Dagster run failed, was cancelled or is gone (a SIGKILLed run
worker, a deleted run), gives them a final status, releases their leases and reaps expired leases."""

from datetime import UTC, datetime

import dagster as dg
import sqlalchemy as sa

from ops_pipeline.core.execution.masking import Masker
from ops_pipeline.defs.execution import tags
from ops_pipeline.defs.execution.run_lookup import current_run, failure_message, newest_run, run_end, step_failures
from ops_pipeline.defs.run_history.failed_runs import FailedRun, all_failed_runs_after
from ops_pipeline.execution.dead_lettering import dead_letter
from ops_pipeline.execution.reaper import Reaped, reap
from ops_pipeline.resources.ops_store import OpsStoreResource
from ops_pipeline.resources.policies import PoliciesResource
from ops_pipeline.store.executions import Execution, UnknownExecution, execution, list_executions
from ops_pipeline.store.leases import reap as reap_expired_leases

MAX_RUNS_PER_TICK = 500
MAX_EXECUTIONS_PER_TICK = 200


def build_dead_letter_sensor(interval_s: int) -> dg.SensorDefinition:
    @dg.sensor(
        name="dead_letters",
        minimum_interval_seconds=interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Dead-letters plan runs whose execution failed for good (retries exhausted or not retryable).",
    )
    def dead_letters(
        context: dg.SensorEvaluationContext, ops_store: OpsStoreResource, policies: PoliciesResource
    ) -> dg.SensorResult | dg.SkipReason:
        page = all_failed_runs_after(context.instance, context.cursor, MAX_RUNS_PER_TICK)
        engine, masker = ops_store.engine(), policies.masker()
        plan_runs = [run for run in page.runs if run.tags.get(tags.EXECUTION) and not _will_retry(run)]
        inserted = sum(_dead_letter(context.instance, engine, masker, run) for run in plan_runs)
        summary = f"{len(page.runs)} failed runs read, {len(plan_runs)} of plans, {inserted} dead letters added"
        context.log.info(summary)
        if page.cursor == context.cursor:
            return dg.SkipReason("no run failed since the last tick")
        return dg.SensorResult(cursor=page.cursor)

    return dead_letters


def _will_retry(run: FailedRun) -> bool:
    return run.tags.get("dagster/will_retry") == "true"


def _dead_letter(instance: dg.DagsterInstance, engine: sa.Engine, masker: Masker, run: FailedRun) -> bool:
    now = datetime.now(UTC)
    message = failure_message(instance, run.run_id)
    with engine.begin() as conn:
        try:
            current = execution(conn, run.tags[tags.EXECUTION])
        except UnknownExecution:
            return False
        newest = newest_run(instance, current.id)
        if current.status == "running" and newest is not None and newest.run_id == run.run_id:
            reap(conn, current, run.run_id, "failed", message, now)  # its worker died before it could record the end
            current = execution(conn, current.id)
        return dead_letter(
            conn,
            current,
            run.run_id,
            run_message=message,
            failures=step_failures(instance, run.run_id),
            masker=masker,
            now=now,
        )


def build_reaper_sensor(interval_s: int) -> dg.SensorDefinition:
    @dg.sensor(
        name="execution_reaper",
        minimum_interval_seconds=interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Ends executions whose Dagster run failed, was cancelled or is gone without recording it.",
    )
    def execution_reaper(
        context: dg.SensorEvaluationContext, ops_store: OpsStoreResource, policies: PoliciesResource
    ) -> dg.SkipReason:
        engine, masker = ops_store.engine(), policies.masker()
        with engine.connect() as conn:
            running = list_executions(conn, None, statuses=("running",), limit=MAX_EXECUTIONS_PER_TICK)
        reaped = [r for r in (_reap(context.instance, engine, masker, c) for c in running) if r is not None]
        for outcome in reaped:
            context.log.info(f"execution {outcome.execution_id} -> {outcome.status}: {outcome.reason}")
        expired = reap_expired_leases(engine, datetime.now(UTC))
        if expired:
            context.log.info(f"reaped {len(expired)} expired leases: {', '.join(lease.target for lease in expired)}")
        return dg.SkipReason(
            f"{len(running)} running executions checked, {len(reaped)} ended, {len(expired)} expired leases reaped"
        )

    return execution_reaper


def _reap(instance: dg.DagsterInstance, engine: sa.Engine, masker: Masker, running: Execution) -> Reaped | None:
    execution_id = running.id
    run = current_run(instance, execution_id, running.last_run_id)
    end = run_end(run)
    if end is None:
        return None
    run_id = run.run_id if run is not None else ""
    message = failure_message(instance, run_id) if end == "failed" else ""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        current = execution(conn, execution_id)
        if current.status != "running":
            return None  # it recorded its end meanwhile
        reaped = reap(conn, current, run_id or (current.last_run_id or ""), end, message, now)
        if run_id and reaped.status in ("failed", "timeout"):
            dead_letter(
                conn,
                execution(conn, execution_id),
                run_id,
                run_message=message,
                failures=step_failures(instance, run_id),
                masker=masker,
                now=now,
            )
    return reaped
