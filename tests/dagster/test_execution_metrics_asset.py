"""The execution_metrics asset materialized with Dagster's harness against real ops stores (SQLite and
PostgreSQL), and the step rows it reads as real plan runs leave them: attempts across Dagster retries, timings."""

from __future__ import annotations

import base64
import itertools
from pathlib import Path

import dagster as dg
import pytest
import yaml

from ops_pipeline.definitions import build_definitions
from ops_pipeline.defs.execution.metrics_asset import build_execution_metrics
from ops_pipeline.resources.ops_store import OpsStoreResource
from ops_pipeline.store.engine import open_store
from ops_pipeline.store.execution_steps import steps_of
from ops_pipeline.store.executions import events_of, list_executions
from tests.dagster.execution_seeds import seconds_ago, seed
from tests.servers import RecordingHttpServer, Reply, http_server

__all__ = ["http_server"]

WEEK_S = 7 * 86400


def materialize_metrics(url: str) -> dict[str, object]:
    result = dg.materialize(
        [build_execution_metrics(WEEK_S)], resources={"ops_store": OpsStoreResource(database_url=url)}
    )
    assert result.success
    [materialization] = result.asset_materializations_for_node("execution_metrics")
    return {name: entry.value for name, entry in materialization.metadata.items()}


def test_the_asset_carries_rates_percentiles_queue_time_and_sla_compliance(store_url: str) -> None:
    engine = open_store(store_url)
    hour_ago = seconds_ago(3600)
    for n, took in enumerate([10, 20, 30, 40], start=1):  # queued n s, took `took` s, deadline 35 s after start
        seed(engine, f"b{n}", "backup", "completed", submitted=hour_ago, queued_s=n, took_s=took, deadline_s=35)
    seed(engine, "r1", "restart", "failed", submitted=hour_ago, queued_s=8, took_s=5, deadline_s=35,
         steps=[("sql", "succeeded", 1.0), ("sql", "succeeded", 3.0), ("sql", "failed", 5.0)])  # fmt: skip
    seed(engine, "r2", "restart", "running", submitted=hour_ago, queued_s=8, deadline_s=35)  # past its deadline
    seed(engine, "old", "backup", "failed", submitted=seconds_ago(30 * 86400), took_s=1, deadline_s=35)

    figures = materialize_metrics(store_url)

    assert (figures["executions"], figures["ended"]) == (6, 5)
    assert figures["success_rate"] == pytest.approx(0.8) and figures["failure_rate"] == pytest.approx(0.2)
    assert figures["duration_p50_s"] == pytest.approx(20.0)  # of 10, 20, 30, 40 and 5
    assert figures["queue_p50_s"] == pytest.approx(3.5)  # of 1, 2, 3, 4, 8, 8
    assert figures["sla_compliance"] == pytest.approx(4 / 6) and figures["sla_considered"] == 6
    assert figures["window"] == "7d"
    plans = str(figures["plans"])
    assert "| backup | 4 | 4 | 100.0% | 0.0% | 25.00 s | 38.50 s | 39.70 s | 2.50 s | 3.85 s | 75.0% of 4 |" in plans
    assert "| restart | 2 | 1 | 0.0% | 100.0% | 5.00 s |" in plans
    assert "| sql | 3 | 3.00 s | 4.80 s | 4.96 s |" in str(figures["step_types"])
    chart = str(figures["chart"])
    assert chart.startswith("![durations](data:image/png;base64,") and chart.endswith(")")
    png = base64.b64decode(chart.removeprefix("![durations](data:image/png;base64,").removesuffix(")"))
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000


def test_an_empty_store_gives_counts_and_says_so_without_inventing_figures(store_url: str) -> None:
    figures = materialize_metrics(store_url)
    assert (figures["executions"], figures["ended"], figures["sla_considered"]) == (0, 0, 0)
    assert "success_rate" not in figures and "duration_p50_s" not in figures
    assert figures["plans"] == "No execution in the window."
    assert str(figures["chart"]).startswith("![durations](data:image/png;base64,")


def plan_file(folder: Path, name: str, url: str) -> None:
    plan = {
        "name": name,
        "environment": "dev",
        "action_class": "read",
        "sla_class": "fast",
        "approval_level": 0,
        "steps": [{"id": "ping", "type": "http", "url": url}],
    }
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(plan))


def test_a_retried_step_counts_its_attempts_and_a_failed_one_keeps_its_duration(
    tmp_path: Path, http_server: RecordingHttpServer
) -> None:
    answers = itertools.chain([Reply(503, "warming up")], itertools.repeat(Reply(200, "ok")))
    http_server.route("/flaky", lambda request: next(answers))
    http_server.route("/broken", Reply(500, "broken"))
    plans = tmp_path / "plans"
    plans.mkdir()
    plan_file(plans, "flaky_ping", f"{http_server.url}/flaky")
    plan_file(plans, "broken_ping", f"{http_server.url}/broken")
    config = tmp_path / "ops.yaml"
    config.write_text(
        yaml.safe_dump({"sources": {}, "plans": {"folders": [str(plans)]}, "policies": {"retry_delay_s": 0.05}})
    )
    url = f"sqlite:///{tmp_path / 'store.db'}"
    defs = build_definitions(config, url)
    with dg.instance_for_test() as instance:
        flaky = defs.get_job_def("flaky_ping").execute_in_process(instance=instance, raise_on_error=False)
        broken = defs.get_job_def("broken_ping").execute_in_process(instance=instance, raise_on_error=False)
        assert flaky.success and not broken.success
        retried = [e for e in flaky.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
        assert [e.step_key for e in retried] == ["ping"]
    assert [r.path for r in http_server.received] == ["/flaky", "/flaky", "/broken"]

    with open_store(url).connect() as conn:
        by_plan = {e.plan_name: e for e in list_executions(conn, None)}
        [flaky_step] = steps_of(conn, by_plan["flaky_ping"].id)
        [broken_step] = steps_of(conn, by_plan["broken_ping"].id)
        trail = [e.reason for e in events_of(conn, by_plan["flaky_ping"].id) if e.step_id == "ping"]
    assert (flaky_step.status, flaky_step.attempt, flaky_step.run_id) == ("succeeded", 2, flaky.run_id)
    assert flaky_step.started_at and flaky_step.finished_at and flaky_step.duration_s is not None
    assert flaky_step.duration_s == pytest.approx((flaky_step.finished_at - flaky_step.started_at).total_seconds())
    assert "attempt 1" in trail[0] and any("attempt 1 of 3 failed" in (r or "") for r in trail)
    assert "attempt 2" in trail
    assert (broken_step.status, broken_step.attempt) == ("failed", 1)
    assert broken_step.duration_s is not None and broken_step.duration_s >= 0

    figures = materialize_metrics(url)
    assert (figures["executions"], figures["success_rate"], figures["failure_rate"]) == (2, 0.5, 0.5)
    assert "| http | 2 |" in str(figures["step_types"])
    assert figures["sla_compliance"] == 1.0  # both ended well within their fast deadlines
