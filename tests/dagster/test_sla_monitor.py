"""The SLA monitor on real ops stores (SQLite and PostgreSQL): one signal and one alert run per execution still
running past its deadline, whatever the ticks; the alert job it launches by default; the job is configurable."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml

from ops_pipeline.definitions import build_definitions
from ops_pipeline.store.engine import open_store
from ops_pipeline.store.executions import events_of
from ops_pipeline.store.signals import recent_signals
from tests.dagster.execution_seeds import seconds_ago, seed


def location(tmp_path: Path, url: str, **plans: object) -> dg.Definitions:
    config = tmp_path / "ops.yaml"
    config.write_text(yaml.safe_dump({"sources": {}, "plans": plans}))
    return build_definitions(config, url)


def tick(defs: dg.Definitions, instance: dg.DagsterInstance, cursor: str | None) -> Any:
    """The tick's data: run requests, cursor, skip message."""
    sensor = defs.resolve_sensor_def("sla_monitor")
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources=defs.resources)
    return sensor.evaluate_tick(context)


def test_each_late_execution_raises_one_signal_and_one_alert_run_however_often_it_ticks(
    tmp_path: Path, store_url: str
) -> None:
    engine = open_store(store_url)
    started = seconds_ago(100)
    seed(engine, "late1", "backup", "running", submitted=started, deadline_s=20)
    seed(engine, "late2", "restart", "running", submitted=started, deadline_s=30)
    seed(engine, "in_time", "backup", "running", submitted=started, deadline_s=3600)
    seed(engine, "ended_late", "backup", "completed", submitted=started, took_s=50, deadline_s=20)
    defs = location(tmp_path, store_url)
    with dg.instance_for_test() as instance:
        first = tick(defs, instance, None)
        assert [r.run_key for r in first.run_requests] == ["sla_alert:late1", "sla_alert:late2"]
        tags = first.run_requests[0].tags
        assert (tags["ops/alert_execution_id"], tags["ops/alert_plan"], tags["ops/alert_run_id"]) == (
            "late1",
            "backup",
            "run-late1",
        )
        assert tags["ops/actor"] == "sensor:sla_monitor" and "ops/execution_id" not in tags

        signals = recent_signals(engine)
        assert sorted(s.labels["execution_id"] for s in signals) == ["late1", "late2"]
        late1 = next(s for s in signals if s.labels["execution_id"] == "late1")
        assert (late1.detector, late1.severity, late1.origin) == ("sla_monitor", "critical", "monitor")
        assert 80 <= late1.value <= (datetime.now(UTC) - late1.ts).total_seconds()
        assert late1.ts == started + timedelta(seconds=20)  # keyed on the deadline: once per execution
        assert "execution late1 of plan backup v1" in late1.hint and "past its deadline" in late1.hint

        again = tick(defs, instance, first.cursor)
        assert not again.run_requests and "no running execution has passed its deadline" in (again.skip_message or "")
        reset = tick(defs, instance, None)  # a lost cursor re-reads them: the same run keys, no second signal
        assert [r.run_key for r in reset.run_requests] == ["sla_alert:late1", "sla_alert:late2"]
        assert len(recent_signals(engine)) == 2

        seed(engine, "late3", "backup", "running", submitted=seconds_ago(10), queued_s=0, deadline_s=5)
        later = tick(defs, instance, first.cursor)
        assert [r.run_key for r in later.run_requests] == ["sla_alert:late3"]
        assert len(recent_signals(engine)) == 3


def test_a_quiet_store_skips_with_a_reason(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    seed(open_store(url), "in_time", "backup", "running", submitted=seconds_ago(1), deadline_s=600)
    with dg.instance_for_test() as instance:
        quiet = tick(location(tmp_path, url), instance, None)
    assert not quiet.run_requests and quiet.skip_message
    assert quiet.cursor is None


def test_the_default_alert_job_logs_and_records_the_alert_in_the_trail(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = open_store(url)
    seed(engine, "late1", "backup", "running", submitted=seconds_ago(100), deadline_s=20)
    defs = location(tmp_path, url)
    job = defs.get_job_def("sla_alert")
    with dg.instance_for_test() as instance:
        [request] = tick(defs, instance, None).run_requests
        alert = job.execute_in_process(instance=instance, tags=request.tags)
        assert alert.success
        warnings = [r.user_message for r in instance.all_logs(alert.run_id) if r.level == logging.WARNING]
        by_hand = job.execute_in_process(
            instance=instance,
            run_config={"ops": {"record_sla_alert": {"config": {"execution_id": "nope"}}}},
            raise_on_error=False,
        )
        [failure] = [e for e in by_hand.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert any("execution late1 of plan backup v1" in w and "past its deadline" in w for w in warnings)
    assert "no execution 'nope'" in failure.step_failure_data.error.message
    with engine.connect() as conn:
        [recorded] = [e for e in events_of(conn, "late1") if e.kind == "sla_alert"]
    assert (recorded.actor, recorded.run_id) == ("sensor:sla_monitor", alert.run_id)
    assert "is running" in (recorded.reason or "") and "past its deadline" in (recorded.reason or "")


def test_the_alert_job_is_configurable_and_an_unknown_one_stops_the_load(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    seed(open_store(url), "late1", "backup", "running", submitted=seconds_ago(100), deadline_s=20)
    defs = location(tmp_path, url, sla_alert_job="pending_approvals")
    assert defs.resolve_sensor_def("sla_monitor").job_name == "pending_approvals"
    with dg.instance_for_test() as instance:
        [request] = tick(defs, instance, None).run_requests
        assert request.run_key == "sla_alert:late1"
    wrong = location(tmp_path, url, sla_alert_job="page_the_oncall")
    with pytest.raises(dg.DagsterInvalidDefinitionError, match='targets job "page_the_oncall"'):
        wrong.resolve_sensor_def("sla_monitor")
