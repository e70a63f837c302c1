"""Dead letters and the reaper with Dagster's own harness on a real instance: failed plan runs are found by the
sensor's own cursor and dead-lettered once each (validation failures at once, transient ones after their last
attempt), the CLI lists and counts them, and executions whose run failed, was cancelled or deleted underneath
are brought to a final status with their leases released."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml

from ops_pipeline.cli import main
from ops_pipeline.definitions import build_definitions
from ops_pipeline.execution.approval_flow import approve
from ops_pipeline.execution.progress import begin
from ops_pipeline.store.dead_letters import list_dead_letters
from ops_pipeline.store.engine import open_store
from ops_pipeline.store.execution_steps import steps_of
from ops_pipeline.store.executions import events_of, execution, list_executions
from ops_pipeline.store.leases import acquire, holder_of


def _plans(closed_port: int) -> list[dict[str, Any]]:
    return [
        {
            "name": "no_orders_left",
            "environment": "dev",
            "action_class": "read",
            "sla_class": "fast",
            "approval_level": 0,
            "steps": [
                {"id": "count", "type": "sql", "source": "shop", "statement": "SELECT COUNT(*) AS n FROM orders"},
                {
                    "id": "none",
                    "type": "validation",
                    "assert": {"step": "count", "path": "rows[0].n", "op": "eq", "value": 0},
                },
            ],
        },
        {
            "name": "ping_service",
            "environment": "dev",
            "action_class": "read",
            "sla_class": "fast",
            "approval_level": 0,
            "steps": [{"id": "ping", "type": "http", "url": f"http://127.0.0.1:{closed_port}/health"}],
        },
        {
            "name": "close_orders",
            "environment": "dev",
            "action_class": "modify",
            "sla_class": "fast",
            "approval_level": 1,
            "steps": [{"id": "close", "type": "sql", "source": "shop", "statement": "UPDATE orders SET status = 'x'"}],
        },
    ]


@pytest.fixture
def location(tmp_path: Path, closed_port: int) -> tuple[dg.Definitions, str, Path]:
    shop = tmp_path / "shop.db"
    with sqlite3.connect(shop) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT)")
        conn.executemany("INSERT INTO orders (status) VALUES (?)", [("paid",), ("new",)])
    plans = tmp_path / "plans"
    plans.mkdir()
    for plan in _plans(closed_port):
        (plans / f"{plan['name']}.yaml").write_text(yaml.safe_dump(plan))
    config = tmp_path / "ops.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "sources": {"shop": {"type": "sqlite", "path": str(shop)}},
                "plans": {"folders": [str(plans)]},
                "policies": {"retry_delay_s": 0.05},
            }
        )
    )
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    return build_definitions(config, store_url), store_url, config


def _tick(defs: dg.Definitions, name: str, instance: dg.DagsterInstance, cursor: str | None = None) -> Any:
    sensor = defs.resolve_sensor_def(name)
    return sensor(dg.build_sensor_context(instance=instance, resources=defs.resources, cursor=cursor))


def _run(defs: dg.Definitions, job: str, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    return defs.get_job_def(job).execute_in_process(instance=instance, raise_on_error=False)


def test_failed_plan_runs_are_dead_lettered_once_by_reason_and_listed(location, monkeypatch, capsys) -> None:
    defs, store_url, config = location
    with dg.instance_for_test() as instance:
        invalid = _run(defs, "no_orders_left", instance)
        unreachable = _run(defs, "ping_service", instance)
        assert not invalid.success and not unreachable.success
        first = _tick(defs, "dead_letters", instance)
        assert first.cursor
        assert isinstance(_tick(defs, "dead_letters", instance, first.cursor), dg.SkipReason)
        _tick(defs, "dead_letters", instance)  # from the start again: the same runs, no second row
    with open_store(store_url).connect() as conn:
        letters = {d.plan_name: d for d in list_dead_letters(conn)}
    assert len(letters) == 2
    validation, transient = letters["no_orders_left"], letters["ping_service"]
    assert (validation.reason, validation.attempts, validation.final_status) == ("validation", 1, "failed")
    assert validation.run_id == invalid.run_id and invalid.run_id in validation.run_ids
    assert "validation failed" in validation.last_error
    # fast read: 3 attempts, only then dead-lettered
    assert (transient.reason, transient.attempts, transient.run_id) == ("transient", 3, unreachable.run_id)

    monkeypatch.setenv("OPS_DATABASE_URL", store_url)
    assert main(["--config", str(config), "dlq", "list", "--reason", "transient", "--json"]) == 0
    [listed] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert listed["execution_id"] == transient.execution_id and listed["requeued_at"] is None
    assert main(["--config", str(config), "dlq", "stats", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "transient": {"total": 1, "waiting": 1},
        "validation": {"total": 1, "waiting": 1},
    }


def test_a_requeue_of_an_unknown_dead_letter_is_a_clear_error(location, monkeypatch, capsys) -> None:
    _, store_url, config = location
    monkeypatch.setenv("OPS_DATABASE_URL", store_url)
    assert main(["--config", str(config), "dlq", "requeue", "41"]) == 2
    assert "no dead letter 41" in capsys.readouterr().err


def _running_execution(defs: dg.Definitions, instance: dg.DagsterInstance, engine: Any) -> tuple[str, str]:
    """An execution whose run started (its preflight recorded it) and holds a lease: as a worker leaves it."""
    _run(defs, "close_orders", instance)
    with engine.connect() as conn:
        [pending] = list_executions(conn, "default")
    approve(engine, pending.id, tenant="default", approver="user:bob", now=datetime.now(UTC))
    [request] = _tick(defs, "execution_launcher", instance).run_requests
    run = instance.create_run_for_job(
        job_def=defs.get_job_def("close_orders"), run_config=request.run_config, tags=request.tags
    )
    now = datetime.now(UTC)
    with engine.begin() as conn:
        begin(conn, execution(conn, pending.id), run.run_id, now, now + timedelta(seconds=60))
    assert acquire(engine, "default", ["db1"], pending.id, now, timedelta(minutes=5))
    return pending.id, run.run_id


@pytest.mark.parametrize(
    ("underneath", "expected"),
    [("failed", "failed"), ("deleted", "failed"), ("cancelled", "cancelled")],
)
def test_the_reaper_ends_an_execution_whose_run_ended_underneath(location, underneath, expected) -> None:
    defs, store_url, _ = location
    engine = open_store(store_url)
    with dg.instance_for_test() as instance:
        execution_id, run_id = _running_execution(defs, instance, engine)
        assert isinstance(_tick(defs, "execution_reaper", instance), dg.SkipReason)
        with engine.connect() as conn:
            assert execution(conn, execution_id).status == "running"  # its run has not ended: left alone
        run = instance.get_run_by_id(run_id)
        if underneath == "failed":
            instance.report_run_failed(run)
        elif underneath == "cancelled":
            instance.report_run_canceled(run)
        else:
            instance.delete_run(run_id)
        _tick(defs, "execution_reaper", instance)
    with engine.connect() as conn:
        ended = execution(conn, execution_id)
        trail = events_of(conn, execution_id)
        letters = list_dead_letters(conn)
    assert ended.status == expected and ended.finished_at is not None
    assert holder_of(engine, "default", "db1") is None
    assert trail[-1].actor == "ops_pipeline:reaper" and "released target leases: db1" in (trail[-1].reason or "")
    assert [d.run_id for d in letters] == ([run_id] if underneath == "failed" else [])


def test_a_run_failing_past_the_deadline_ends_timeout(location) -> None:
    defs, store_url, _ = location
    engine = open_store(store_url)
    with dg.instance_for_test() as instance:
        execution_id, run_id = _running_execution(defs, instance, engine)
        with engine.begin() as conn:
            from ops_pipeline.store.execution_tables import executions

            conn.execute(
                executions.update()
                .where(executions.c.id == execution_id)
                .values(deadline_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        instance.report_run_failed(instance.get_run_by_id(run_id))
        _tick(defs, "dead_letters", instance)
    with engine.connect() as conn:
        assert execution(conn, execution_id).status == "timeout"
        [letter] = list_dead_letters(conn)
        assert [s.status for s in steps_of(conn, execution_id)] == ["pending"]
    assert (letter.reason, letter.run_id) == ("timeout", run_id)
