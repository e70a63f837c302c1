"""The control loop on a real Dagster instance: failed plan runs are decided by the policy in ops.yaml (a
transient failure is retried, then replanned within the limits, held in the cooling period, escalated at the
cap), an anomaly signal and a breaking schema change each trigger their configured action once, and the
recovery jobs replan, debug, roll back and refuse with the reason."""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml

from ops_pipeline.cli import main
from ops_pipeline.core.signals import InsightSignal
from ops_pipeline.definitions import build_definitions
from ops_pipeline.settings import load_settings
from ops_pipeline.store.control_loop import actions_of, replan_events_of
from ops_pipeline.store.control_loop_tables import control_loop_stops
from ops_pipeline.store.engine import open_store
from ops_pipeline.store.execution_steps import steps_of
from ops_pipeline.store.executions import Execution, execution, list_executions
from ops_pipeline.store.plan_versions import plan_version
from ops_pipeline.store.signals import record_new
from tests.dagster.helpers import scan_configured
from tests.e2e.dagster_dev import free_port

PLAN = "ping_service"
NO_RETRY = {"ops/no_retry": "1"}
NO_COOLING = {"ops/no_retry": "1", "ops/no_cooling": "1"}


def ping_plan(port: int) -> dict[str, Any]:
    return {
        "name": PLAN,
        "environment": "dev",
        "action_class": "modify",
        "sla_class": "fast",
        "parameters": {"note": {"type": "string", "default": "first"}},
        "steps": [
            {
                "id": "prepare",
                "type": "sql",
                "source": "shop",
                "statement": "SELECT COUNT(*) AS n FROM orders",
                "rollback": "undo_prepare",
            },
            {
                "id": "ping",
                "type": "http",
                "url": f"http://127.0.0.1:{port}/health",
                "retry": False,
                "depends_on": ["prepare"],
            },
            {
                "id": "report",
                "type": "sql",
                "source": "shop",
                "statement": "SELECT :note AS note",
                "params": {"note": "{{ params.note }}"},
                "depends_on": ["prepare"],
            },
        ],
        "rollback_steps": [
            {
                "id": "undo_prepare",
                "type": "sql",
                "source": "shop",
                "statement": "INSERT INTO journal (entry) VALUES ('prepare undone')",
            },
        ],
    }


def loop_config() -> dict[str, Any]:
    return {
        "default": {"cooling_period_s": "1h", "max_replans": 2, "max_auto_retries": 1},
        "plans": {PLAN: {"actions": {"anomaly_signal.warning": "debug"}}},
        "overrides_by_tag": [
            {"tag": "ops/no_retry", "value": "1", "rules": {"max_auto_retries": 0}},
            {"tag": "ops/no_cooling", "value": "1", "rules": {"cooling_period_s": 0}},
        ],
        "replan_patches": {PLAN: {"parameters": {"note": "patched"}, "reason": "report the patched note"}},
        "watch": {"detectors": {"latency": [PLAN]}, "sources": {"shop": [PLAN]}},
    }


class Location:
    def __init__(self, tmp_path: Path) -> None:
        self.shop = tmp_path / "shop.db"
        with sqlite3.connect(self.shop) as conn:
            conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT, note TEXT)")
            conn.execute("CREATE TABLE journal (entry TEXT)")
            conn.execute("INSERT INTO orders (status) VALUES ('paid')")
        plans = tmp_path / "plans"
        plans.mkdir()
        (plans / f"{PLAN}.yaml").write_text(yaml.safe_dump(ping_plan(free_port())))
        self.config = tmp_path / "ops.yaml"
        loop = {**loop_config(), "bundle_dir": str(tmp_path / "bundles")}
        self.config.write_text(
            yaml.safe_dump(
                {
                    "sources": {"shop": {"type": "sqlite", "path": str(self.shop)}},
                    "plans": {"folders": [str(plans)]},
                    "control_loop": loop,
                }
            )
        )
        self.store_url = f"sqlite:///{tmp_path / 'store.db'}"
        self.defs = build_definitions(self.config, self.store_url)
        self.engine = open_store(self.store_url)
        self.cursors: dict[str, str | None] = {}

    def run(
        self,
        instance: dg.DagsterInstance,
        job: str,
        config: dict[str, Any] | None = None,
        tags: dict[str, str] | None = None,
    ) -> dg.ExecuteInProcessResult:
        return self.defs.get_job_def(job).execute_in_process(
            run_config=config or {}, instance=instance, tags=tags, raise_on_error=False
        )

    def failing_execution(self, instance: dg.DagsterInstance, tags: dict[str, str] | None = None) -> Execution:
        result = self.run(instance, PLAN, {"idempotency_key": uuid.uuid4().hex}, tags=tags)
        assert not result.success
        return self.execution_of(instance, result.run_id)

    def execution_of(self, instance: dg.DagsterInstance, run_id: str) -> Execution:
        execution_id = instance.get_run_by_id(run_id).tags["ops/execution_id"]
        with self.engine.connect() as conn:
            return execution(conn, execution_id)

    def tick(self, instance: dg.DagsterInstance, sensor: str) -> dg.SensorResult:
        context = dg.build_sensor_context(
            instance=instance, resources=self.defs.resources, cursor=self.cursors.get(sensor)
        )
        result = self.defs.resolve_sensor_def(sensor)(context)
        assert isinstance(result, dg.SensorResult)
        self.cursors[sensor] = result.cursor
        return result


@pytest.fixture
def location(tmp_path: Path) -> Location:
    return Location(tmp_path)


def test_a_failing_plan_is_retried_then_replanned_then_held_then_escalated(
    location: Location, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with dg.instance_for_test() as instance:
        first = location.failing_execution(instance)
        [rerun] = location.tick(instance, "control_loop_failures").run_requests
        assert rerun.job_name == "rerun_execution" and "-rerun-" in (rerun.run_key or "")
        assert rerun.run_config["execution_id"] == first.id
        quiet = location.tick(instance, "control_loop_failures")
        assert not quiet.run_requests and "no new failed plan runs" in str(quiet.skip_reason)

        second = location.failing_execution(instance, NO_RETRY)
        [replan] = location.tick(instance, "control_loop_failures").run_requests
        assert replan.job_name == "replan_execution" and "-r1-" in (replan.run_key or "")
        assert json.loads(replan.run_config["parameters_json"]) == {"note": "patched"}
        assert replan.run_config["retry_from"] == "ping"
        replanned = location.run(instance, "replan_execution", replan.run_config, tags=replan.tags)
        assert replanned.success

        held = location.failing_execution(instance, NO_RETRY)
        cooling = location.tick(instance, "control_loop_failures")
        assert not cooling.run_requests and "cooling period" in str(cooling.skip_reason)

        location.failing_execution(instance, NO_COOLING)
        [second_replan] = location.tick(instance, "control_loop_failures").run_requests
        assert second_replan.job_name == "replan_execution" and "-r2-" in (second_replan.run_key or "")

        capped = location.failing_execution(instance, NO_COOLING)
        escalation = location.tick(instance, "control_loop_failures")
        assert not escalation.run_requests
        [alert] = escalation.asset_events
        assert alert.metadata["alert"].value == "escalation" and alert.metadata["execution_id"].value == capped.id

        location.failing_execution(instance, NO_COOLING)
        stopped = location.tick(instance, "control_loop_failures")
        assert not stopped.run_requests and "a person must resume it" in str(stopped.skip_reason)

    with location.engine.connect() as conn:
        events = {e.execution_id: e for e in replan_events_of(conn, PLAN) if e.execution_id}
        version = plan_version(conn, PLAN, 2)
        submitted = [e for e in list_executions(conn, None, plan=PLAN) if e.plan_version == 2]
        stop = conn.execute(sa.select(control_loop_stops)).one()
        escalations = [a for a in actions_of(conn) if a.action == "escalate"]
    assert events[first.id].decision == "rerun"
    replan_event = events[second.id]
    assert (replan_event.decision, replan_event.plan_version_before, replan_event.plan_version_after) == (
        "replan",
        1,
        2,
    )
    assert replan_event.diff is not None
    assert replan_event.diff["parameters"]["note"] == {"before": "first", "after": "patched"}
    assert replan_event.diff["retry_from"] == {"before": None, "after": "ping"}
    assert '| parameters.note | "first" | "patched" |' in (replan_event.diff_markdown or "")
    assert replan_event.cooling_deadline is not None
    assert version is not None and "replan of execution" in version.origin
    assert [e.status for e in submitted] == ["approved"]  # the loop's replan waits for the launcher to run it
    assert events[held.id].decision == "hold" and events[held.id].settled_at is None
    assert events[capped.id].decision == "escalate" and events[capped.id].escalated
    assert stop.subject == PLAN and [a.status for a in escalations] == ["open"]

    monkeypatch.setenv("OPS_DATABASE_URL", location.store_url)
    assert main(["--config", str(location.config), "replans", "list", "--plan", PLAN, "--decision", "replan"]) == 0
    listed = capsys.readouterr().out
    assert listed.count("| replan |") == 2 and "default.actions.step_failure.transient" in listed
    assert main(["--config", str(location.config), "replans", "show", str(replan_event.id)]) == 0
    shown = capsys.readouterr().out
    assert "plan version 1 -> 2" in shown and '| parameters.note | "first" | "patched" |' in shown
    assert main(["--config", str(location.config), "replans", "resume", PLAN]) == 0
    assert "acts on ping_service again" in capsys.readouterr().out
    assert main(["--config", str(location.config), "actions", "list"]) == 0
    assert "| escalate |" in capsys.readouterr().out


def _signal(detector: str, severity: str) -> InsightSignal:
    return InsightSignal(
        detector=detector,
        metric="http_latency_p95",
        labels={},
        series_key="http_latency_p95{}",
        ts=datetime.now(UTC),
        value=9.0,
        score=6.0,
        threshold=3.0,
        direction="up",
        severity=severity,  # type: ignore[arg-type]
        hint="latency rose",
        origin="probe",
    )


def test_an_anomaly_signal_and_a_breaking_schema_change_each_act_once(location: Location) -> None:
    settings = load_settings(location.config)
    scan_configured(location.engine, settings, "shop")
    with dg.instance_for_test() as instance:
        current = location.failing_execution(instance, NO_RETRY)
        first = location.tick(instance, "control_loop_signals")
        assert "first tick" in str(first.skip_reason)

        with location.engine.begin() as conn:
            record_new(conn, [_signal("latency", "warning"), _signal("unwatched", "critical")])
        with sqlite3.connect(location.shop) as shop:
            shop.execute("ALTER TABLE orders DROP COLUMN note")
        scan_configured(location.engine, settings, "shop")

        acted = location.tick(instance, "control_loop_signals")
        by_job = {r.job_name: r for r in acted.run_requests}
        assert set(by_job) == {"debug_execution", "replan_execution"}
        assert json.loads(by_job["debug_execution"].run_config["trigger_json"])["kind"] == "anomaly_signal"
        assert json.loads(by_job["replan_execution"].run_config["trigger_json"])["drift"] == "breaking"
        assert all(r.run_config["execution_id"] == current.id for r in acted.run_requests)
        again = location.tick(instance, "control_loop_signals")
        assert not again.run_requests and "none concerns" in str(again.skip_reason)


def test_debug_collects_a_masked_bundle_and_rollback_undoes_completed_steps(location: Location) -> None:
    with dg.instance_for_test() as instance:
        failed = location.failing_execution(instance)
        debug = location.run(instance, "debug_execution", {"execution_id": failed.id}, tags={"ops/actor": "user:ann"})
        assert debug.success
        bundle = json.loads(Path(debug.output_for_node("debug_op")).read_text())
        rollback = location.run(instance, "rollback_execution", {"execution_id": failed.id, "actor": "user:ann"})
        assert rollback.success
    assert {s["step_id"]: s["status"] for s in bundle["steps"]}["ping"] == "failed"
    assert any(e["type"] == "STEP_FAILURE" and e["step_key"] == "ping" for e in bundle["run_events"])
    assert "shop" in bundle["catalog"] and bundle["execution"]["id"] == failed.id
    with sqlite3.connect(location.shop) as shop:
        assert shop.execute("SELECT entry FROM journal").fetchall() == [("prepare undone",)]
    with location.engine.connect() as conn:
        steps = {s.step_id: s.status for s in steps_of(conn, failed.id)}
        audit = {a.action: a for a in actions_of(conn, failed.id)}
    assert steps["prepare"] == "rolled_back" and steps["undo_prepare"] == "succeeded"
    assert (audit["debug"].actor, audit["debug"].status, audit["debug"].trigger_kind) == (
        "user:ann",
        "succeeded",
        "manual",
    )
    assert audit["rollback"].status == "succeeded" and "undo_prepare for prepare: undone" in (
        audit["rollback"].outcome or ""
    )


def test_actions_that_cannot_apply_are_refused_with_the_reason(location: Location) -> None:
    with dg.instance_for_test() as instance:
        failed = location.failing_execution(instance)
        skip = location.run(instance, "skip_execution_step", {"execution_id": failed.id, "step": "prepare"})
        replan = location.run(
            instance, "replan_execution", {"execution_id": failed.id, "parameters_json": '{"colour": "red"}'}
        )
        rerun_running = location.run(instance, "rerun_execution", {"execution_id": "nope"})
    assert not skip.success and not replan.success and not rerun_running.success
    with location.engine.connect() as conn:
        audit = {a.action: a for a in actions_of(conn, failed.id)}
    assert audit["skip"].status == "refused" and "step 'ping' still runs and needs it" in (audit["skip"].outcome or "")
    assert audit["replan"].status == "refused" and "unknown parameter" in (audit["replan"].outcome or "")
