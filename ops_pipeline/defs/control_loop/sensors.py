"""The control loop's sensors. `control_loop_failures` pages the failed runs of plan jobs with its own cursor
(any number per tick, each once; Dagster's run_failure_sensor handles at most 5) and decides again on held
triggers whose cooling period is over; `control_loop_signals` reads new insight signals and schema changes by
id. Both decide through the pure policy, record each decision, launch the recovery job under the decision's
run key, and raise an alert for an escalation. A quiet tick says why."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import dagster as dg
import sqlalchemy as sa

from ops_pipeline.core.control_loop import ControlLoopPolicy, Trigger, TriggerError, parse_trigger
from ops_pipeline.defs.control_loop.jobs import ACTION_JOBS
from ops_pipeline.defs.control_loop.requests import escalation_alert, recovery_request
from ops_pipeline.defs.control_loop.triggers import (
    anomaly_trigger,
    drift_trigger,
    failure_classes,
    run_failure_trigger,
)
from ops_pipeline.defs.execution import tags
from ops_pipeline.defs.run_history.failed_runs import FailedRun, all_failed_runs_after
from ops_pipeline.execution.recovery.deciding import decide_trigger
from ops_pipeline.resources.control_loop import ControlLoopResource
from ops_pipeline.resources.ops_store import OpsStoreResource
from ops_pipeline.store.control_loop import due_holds
from ops_pipeline.store.control_loop_feeds import drift_after, newest_ids, signals_after
from ops_pipeline.store.execution_steps import steps_of
from ops_pipeline.store.executions import Execution, UnknownExecution, execution, list_executions

FAILURES = "control_loop_failures"
SIGNALS = "control_loop_signals"


@dataclass
class Tick:
    """What a tick decided: run requests, alerts, and one line per decision for the log."""

    requests: list[dg.RunRequest] = field(default_factory=list)
    alerts: list[dg.AssetObservation] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def decide(
        self,
        engine: sa.Engine,
        loop: ControlLoopResource,
        policy: ControlLoopPolicy,
        trigger: Trigger,
        current: Execution | None,
    ) -> None:
        verdict = decide_trigger(engine, policy, trigger, current, datetime.now(UTC))
        if verdict.event_id is None:
            return
        self.lines.append(f"{trigger.fingerprint}: {verdict.decision.action} ({verdict.decision.reason})")
        request = recovery_request(verdict, loop)
        if request is not None:
            self.requests.append(request)
        if verdict.decision.escalate:
            self.alerts.append(escalation_alert(verdict))

    def result(self, context: dg.SensorEvaluationContext, cursor: str | None, quiet: str) -> dg.SensorResult:
        for line in self.lines:
            context.log.info(line)
        skip = (
            None if self.requests or self.alerts else dg.SkipReason(quiet if not self.lines else "; ".join(self.lines))
        )
        return dg.SensorResult(run_requests=self.requests, asset_events=self.alerts, cursor=cursor, skip_reason=skip)


def _failure_trigger(
    context: dg.SensorEvaluationContext, engine: sa.Engine, failed: FailedRun
) -> tuple[Trigger, Execution] | None:
    if tags.PLAN not in failed.tags or tags.EXECUTION not in failed.tags:
        return None  # not a plan's run, or it failed before it was admitted: nothing to recover
    try:
        with engine.connect() as conn:
            current = execution(conn, failed.tags[tags.EXECUTION])
            steps = steps_of(conn, current.id)
        return run_failure_trigger(failed, current, steps, failure_classes(context.instance, failed.run_id)), current
    except (TriggerError, UnknownExecution) as error:
        context.log.warning(f"failed run {failed.run_id}: no trigger: {error}")
        return None


def _held(engine: sa.Engine) -> Iterable[tuple[Trigger, Execution | None]]:
    with engine.connect() as conn:
        held = due_holds(conn, datetime.now(UTC))
        for event in held:
            current = execution(conn, event.execution_id) if event.execution_id else None
            yield parse_trigger(event.trigger), current


def build_failure_sensor(interval_s: int, max_runs: int) -> dg.SensorDefinition:
    @dg.sensor(
        name=FAILURES,
        jobs=list(ACTION_JOBS.values()),
        minimum_interval_seconds=interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Decides on every failed plan run (and on held triggers) and launches the recovery job.",
    )
    def control_loop_failures(
        context: dg.SensorEvaluationContext, ops_store: OpsStoreResource, control_loop: ControlLoopResource
    ) -> dg.SensorResult:
        engine, policy, tick = ops_store.engine(), control_loop.policy(), Tick()
        page = all_failed_runs_after(context.instance, context.cursor, max_runs)
        for failed in page.runs:
            found = _failure_trigger(context, engine, failed)
            if found is not None:
                tick.decide(engine, control_loop, policy, *found)
        for trigger, current in list(_held(engine)):
            tick.decide(engine, control_loop, policy, trigger, current)
        quiet = f"no new failed plan runs ({len(page.runs)} failed runs read) and no held trigger is due"
        return tick.result(context, page.cursor, quiet)

    return control_loop_failures


def _latest_execution(engine: sa.Engine, plan: str) -> Execution | None:
    with engine.connect() as conn:
        found = list_executions(conn, None, plan=plan, limit=1)
    return found[0] if found else None


def build_signal_sensor(interval_s: int, max_triggers: int) -> dg.SensorDefinition:
    @dg.sensor(
        name=SIGNALS,
        jobs=list(ACTION_JOBS.values()),
        minimum_interval_seconds=interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Decides on new insight signals and schema drift for the plans they concern.",
    )
    def control_loop_signals(
        context: dg.SensorEvaluationContext, ops_store: OpsStoreResource, control_loop: ControlLoopResource
    ) -> dg.SensorResult:
        engine, policy, watch, tick = ops_store.engine(), control_loop.policy(), control_loop.watch(), Tick()
        with engine.connect() as conn:
            if context.cursor is None:
                signal_id, change_id = newest_ids(conn)
                cursor = json.dumps({"signal": signal_id, "change": change_id})
                return tick.result(context, cursor, "first tick: acting on signals and schema changes from now on")
            position = json.loads(context.cursor)
            signals = signals_after(conn, position["signal"], max_triggers)
            drifts = drift_after(conn, position["change"], max_triggers)
        for signal in signals:
            for plan in watch.detectors.get(signal.detector, []):
                tick.decide(
                    engine, control_loop, policy, anomaly_trigger(signal, plan), _latest_execution(engine, plan)
                )
        for drift in drifts:
            for plan in watch.sources.get(drift.source, []):
                tick.decide(engine, control_loop, policy, drift_trigger(drift, plan), _latest_execution(engine, plan))
        cursor = json.dumps(
            {
                "signal": signals[-1].id if signals else position["signal"],
                "change": drifts[-1].last_change_id if drifts else position["change"],
            }
        )
        quiet = (
            f"{len(signals)} new signal(s) and {len(drifts)} scan(s) with schema changes; none concerns a watched plan"
        )
        return tick.result(context, cursor, quiet)

    return control_loop_signals
