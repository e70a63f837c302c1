"""Plans as Dagster jobs, run with Dagster's own harness on a real instance and a SQLite warehouse: submission
from the launchpad form, approvals, the approvals sensor, the audit trail, and the gate no launch can bypass."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml

from ops_pipeline.definitions import build_definitions
from ops_pipeline.execution.approval_flow import approve
from ops_pipeline.store.engine import open_store
from ops_pipeline.store.execution_steps import steps_of
from ops_pipeline.store.executions import events_of, execution, list_executions
from ops_pipeline.store.leases import acquire, holder_of, release

COUNT_PLAN = {
    "name": "count_paid",
    "environment": "dev",
    "action_class": "read",
    "sla_class": "fast",
    "approval_level": 0,
    "parameters": {"status": {"type": "enum", "values": ["paid", "new"], "default": "paid"}},
    "steps": [
        {
            "id": "count",
            "type": "sql",
            "source": "shop",
            "statement": "SELECT COUNT(*) AS n FROM orders WHERE status = :s",
            "params": {"s": "{{ params.status }}"},
        },
        {"id": "some", "type": "validation", "assert": {"step": "count", "path": "rows[0].n", "op": "gt", "value": 0}},
    ],
}
CHANGE_PLAN = {
    "name": "close_orders",
    "environment": "dev",
    "action_class": "modify",
    "sla_class": "fast",
    "approval_level": 2,
    "steps": [
        {
            "id": "close",
            "type": "sql",
            "source": "shop",
            "statement": "UPDATE orders SET status = 'closed' WHERE status = 'paid'",
        },
        {
            "id": "closed",
            "type": "validation",
            "sql_check": {"source": "shop", "statement": "SELECT COUNT(*) = 0 FROM orders WHERE status = 'paid'"},
        },
    ],
}

LOCKED_PLAN = {**COUNT_PLAN, "name": "count_locked", "targets": ["shop-db"]}


@pytest.fixture
def location(tmp_path: Path) -> tuple[dg.Definitions, str, Path]:
    shop = tmp_path / "shop.db"
    with sqlite3.connect(shop) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT)")
        conn.executemany("INSERT INTO orders (status) VALUES (?)", [("paid",), ("paid",), ("new",)])
    plans = tmp_path / "plans"
    plans.mkdir()
    for plan in (COUNT_PLAN, CHANGE_PLAN, LOCKED_PLAN):
        (plans / f"{plan['name']}.yaml").write_text(yaml.safe_dump(plan))
    (plans / "broken.yaml").write_text("name: broken\nsteps: [{id: x, type: command, argv: 'rm -rf /'}]\n")
    config = tmp_path / "ops.yaml"
    config.write_text(
        yaml.safe_dump({"sources": {"shop": {"type": "sqlite", "path": str(shop)}}, "plans": {"folders": [str(plans)]}})
    )
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    return build_definitions(config, store_url), store_url, shop


def launch(
    defs: dg.Definitions,
    job: str,
    instance: dg.DagsterInstance,
    config: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
) -> dg.ExecuteInProcessResult:
    return defs.get_job_def(job).execute_in_process(
        run_config=config or {}, instance=instance, tags=tags, raise_on_error=False
    )


def test_each_valid_plan_is_a_job_with_a_flat_form_and_a_bad_file_is_skipped(location) -> None:
    defs, _, _ = location
    job = defs.get_job_def("count_paid")
    assert {node.name for node in job.graph.nodes} == {"preflight", "count", "some"}
    assert job.tags["ops/sla"] == "fast" and job.tags["dagster/priority"] == "10"
    fields = job.config_mapping.config_schema.config_type.fields  # type: ignore[union-attr]
    assert {"version", "tenant", "idempotency_key", "actor", "status"} <= set(fields)
    assert "broken" not in {j.name for j in defs.resolve_all_job_defs()}


def test_a_level_0_plan_launched_from_the_form_runs_every_step_and_records_the_trail(location) -> None:
    defs, store_url, _ = location
    with dg.instance_for_test() as instance:
        result = launch(defs, "count_paid", instance, {"status": "paid"}, tags={"ops/actor": "user:alice"})
        assert result.success
        assert result.output_for_node("some")["outputs"]["count"]["rows"] == [{"n": 2}]
        run_tags = instance.get_run_by_id(result.run_id).tags
    with open_store(store_url).connect() as conn:
        [current] = list_executions(conn, "default")
        assert (current.status, current.submitted_by, current.root_run_id) == ("completed", "user:alice", result.run_id)
        assert [s.status for s in steps_of(conn, current.id)] == ["succeeded", "succeeded"]
        trail = [(e.kind, e.to_status) for e in events_of(conn, current.id)]
    assert run_tags["ops/execution_id"] == current.id
    assert (
        trail[0] == ("submitted", "approved")
        and ("status", "running") in trail
        and trail[-1] == ("status", "completed")
    )


def test_a_duplicate_submission_runs_nothing_and_links_the_first(location) -> None:
    defs, store_url, _ = location
    with dg.instance_for_test() as instance:
        first = launch(defs, "count_paid", instance)
        again = launch(defs, "count_paid", instance)
        assert again.success
        skipped = [e.step_key for e in again.all_events if e.event_type == dg.DagsterEventType.STEP_SKIPPED]
        assert skipped == ["count", "some"]
        assert (
            instance.get_run_by_id(again.run_id).tags["ops/execution_id"]
            == instance.get_run_by_id(first.run_id).tags["ops/execution_id"]
        )
    with open_store(store_url).connect() as conn:
        assert len(list_executions(conn, "default")) == 1


def test_a_level_2_plan_waits_for_a_bound_approval_then_the_sensor_launches_it(location) -> None:
    defs, store_url, shop = location
    engine = open_store(store_url)
    with dg.instance_for_test() as instance:
        submitted = launch(defs, "close_orders", instance, tags={"ops/actor": "user:alice"})
        assert submitted.success
        with engine.connect() as conn:
            [pending] = list_executions(conn, "default")
        assert pending.status == "pending_approval"
        sensor = defs.resolve_sensor_def("execution_launcher")
        quiet = sensor(dg.build_sensor_context(instance=instance, resources=defs.resources))
        assert isinstance(quiet, dg.SkipReason)

        approve(
            engine,
            pending.id,
            tenant="default",
            approver="user:bob",
            plan_hash=pending.plan_hash,
            now=pending.submitted_at,
        )
        tick = sensor(dg.build_sensor_context(instance=instance, resources=defs.resources))
        [request] = tick.run_requests
        assert request.run_key == f"execution:{pending.id}:v1" and request.tags["ops/execution_id"] == pending.id
        run = launch(defs, "close_orders", instance, request.run_config, tags=request.tags)
        assert run.success
    with engine.connect() as conn:
        assert execution(conn, pending.id).status == "completed"
    assert sqlite3.connect(shop).execute("SELECT COUNT(*) FROM orders WHERE status = 'closed'").fetchone() == (2,)


def test_launching_an_approval_waiting_execution_by_hand_is_refused_by_the_gate(location) -> None:
    defs, store_url, shop = location
    with dg.instance_for_test() as instance:
        launch(defs, "close_orders", instance)
        with open_store(store_url).connect() as conn:
            [pending] = list_executions(conn, "default")
        forged = launch(defs, "close_orders", instance, tags={"ops/execution_id": pending.id})
        assert not forged.success
        [failure] = [e for e in forged.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
        assert "is pending_approval; it cannot start" in failure.step_failure_data.error.message
    assert sqlite3.connect(shop).execute("SELECT COUNT(*) FROM orders WHERE status = 'paid'").fetchone() == (2,)


def test_the_approval_jobs_decide_with_the_actor_from_their_form(location) -> None:
    defs, store_url, _ = location
    with dg.instance_for_test() as instance:
        launch(defs, "close_orders", instance, tags={"ops/actor": "user:alice"})
        with open_store(store_url).connect() as conn:
            [pending] = list_executions(conn, "default")
        listed = launch(defs, "pending_approvals", instance, {"tenant": "default"})
        [output] = [e for e in listed.all_events if e.event_type == dg.DagsterEventType.STEP_OUTPUT]
        assert pending.plan_hash in output.step_output_data.metadata["approvals"].value
        self_approval = launch(
            defs,
            "approve_execution",
            instance,
            {"execution_id": pending.id, "plan_hash": pending.plan_hash, "approver": "user:alice"},
        )
        assert not self_approval.success
        approved = launch(
            defs,
            "approve_execution",
            instance,
            {"execution_id": pending.id, "plan_hash": pending.plan_hash, "approver": "user:bob"},
        )
        assert approved.success
    with open_store(store_url).connect() as conn:
        assert execution(conn, pending.id).status == "approved"


def test_an_execution_waits_queued_without_a_run_while_another_holds_its_target(location) -> None:
    defs, store_url, _ = location
    engine = open_store(store_url)
    assert acquire(engine, "default", ["shop-db"], "other-execution", datetime.now(UTC), timedelta(minutes=5))
    sensor = defs.resolve_sensor_def("execution_launcher")
    with dg.instance_for_test() as instance:
        submitted = launch(defs, "count_locked", instance)
        assert submitted.success
        skipped = [e.step_key for e in submitted.all_events if e.event_type == dg.DagsterEventType.STEP_SKIPPED]
        assert skipped == ["count", "some"]
        with engine.connect() as conn:
            [waiting] = list_executions(conn, "default")
            trail = events_of(conn, waiting.id)
        assert waiting.status == "queued"
        assert trail[-1].reason == "waiting for target shop-db (held by execution other-execution)"

        for _ in range(2):  # while the target is held: no run, and the wait is recorded once
            assert isinstance(
                sensor(dg.build_sensor_context(instance=instance, resources=defs.resources)), dg.SkipReason
            )
        with engine.connect() as conn:
            assert len(events_of(conn, waiting.id)) == len(trail)

        release(engine, "other-execution")
        [request] = sensor(dg.build_sensor_context(instance=instance, resources=defs.resources)).run_requests
        assert request.run_key == f"execution:{waiting.id}:v1"
        assert holder_of(engine, "default", "shop-db").owner == waiting.id
        assert launch(defs, "count_locked", instance, request.run_config, tags=request.tags).success
    with engine.connect() as conn:
        assert execution(conn, waiting.id).status == "completed"
        assert [e.kind for e in events_of(conn, waiting.id)].count("targets_taken") == 1
    assert holder_of(engine, "default", "shop-db") is None  # the ended execution holds nothing
