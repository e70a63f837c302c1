import json
import time
import uuid
from datetime import UTC, datetime

import dagster as dg
import sqlalchemy as sa

from ops_pipeline.defs.run_history.assets import run_history
from ops_pipeline.defs.run_history.ingest import CURSOR, ingest_dagster_runs
from ops_pipeline.resources.ops_store import OpsStoreResource
from ops_pipeline.store import runs as run_store
from ops_pipeline.store.cursors import read_cursor
from ops_pipeline.store.engine import open_store
from ops_pipeline.store.tables import workflow_runs


@dg.op
def extract() -> int:
    return 1


@dg.op
def load(value: int) -> int:
    return value + 1


@dg.op
def explode() -> None:
    raise RuntimeError("warehouse said no")


@dg.job
def nightly_export() -> None:
    load(extract())


@dg.job
def flaky_job() -> None:
    explode()


def test_refresh_records_dagster_runs_with_steps_and_failures(tmp_path) -> None:
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    with dg.instance_for_test() as instance:
        ok = nightly_export.execute_in_process(instance=instance, tags={"team": "data"})
        failed = flaky_job.execute_in_process(instance=instance, raise_on_error=False)
        result = dg.materialize(
            [run_history], instance=instance, resources={"ops_store": OpsStoreResource(database_url=store_url)}
        )
        assert result.success

        engine = open_store(store_url)
        [export_run] = run_store.runs_of(engine, "nightly_export")
        assert (export_run.run_id, export_run.status, export_run.origin) == (ok.run_id, "success", "dagster")
        assert export_run.tags and export_run.tags["team"] == "data"
        assert export_run.step_summary and export_run.step_summary["steps"] == 2
        assert export_run.duration_ms and export_run.duration_ms > 0

        [flaky_run] = run_store.runs_of(engine, "flaky_job")
        assert (flaky_run.run_id, flaky_run.status) == (failed.run_id, "failure")
        assert "warehouse said no" in (flaky_run.failure_message or "")

        materialization = instance.get_latest_materialization_event(dg.AssetKey("run_history"))
        metadata = materialization.asset_materialization.metadata
        assert metadata["ingested_this_refresh"].value == 3  # the two jobs and the refresh run itself
        assert metadata["failure_rate"].value == 0.5
        assert "nightly_export" in metadata["slowest_workflows"].value


def test_ingestion_is_incremental_and_idempotent(tmp_path) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    with dg.instance_for_test() as instance:
        for _ in range(3):
            nightly_export.execute_in_process(instance=instance)
        assert ingest_dagster_runs(instance, engine, batch=2).ingested == 3
        with engine.connect() as conn:
            recorded = conn.execute(sa.select(workflow_runs.c.run_id, workflow_runs.c.recorded_at)).all()

        assert ingest_dagster_runs(instance, engine).ingested == 0  # nothing changed: nothing read or rewritten
        with engine.connect() as conn:
            assert conn.execute(sa.select(workflow_runs.c.run_id, workflow_runs.c.recorded_at)).all() == recorded

        nightly_export.execute_in_process(instance=instance)
        assert ingest_dagster_runs(instance, engine).ingested == 1
        assert run_store.count_runs(engine) == 4


def test_external_and_dagster_runs_share_the_history(tmp_path) -> None:
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    from ops_pipeline.store.run_log import log_run, runs_of

    log_run("nightly_export", "external-1", "completed", duration_ms=10.0, database_url=store_url)
    with dg.instance_for_test() as instance:
        nightly_export.execute_in_process(instance=instance)
        ingest_dagster_runs(instance, open_store(store_url))
    assert {r.origin for r in runs_of("nightly_export", database_url=store_url)} == {"dagster", "external"}


def test_runs_sharing_one_update_time_are_never_skipped(tmp_path) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    with dg.instance_for_test() as instance:
        for _ in range(300):  # not started: on SQLite run storage they share a one-second update time
            instance.add_run(dg.DagsterRun(job_name="queued_job", run_id=str(uuid.uuid4())))
        assert ingest_dagster_runs(instance, engine, batch=100).ingested == 300
        assert run_store.count_runs(engine) == 300
        assert ingest_dagster_runs(instance, engine, batch=100).ingested == 0


def test_a_refresh_is_bounded_and_the_next_one_continues(tmp_path) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    with dg.instance_for_test() as instance:
        for _ in range(5):
            nightly_export.execute_in_process(instance=instance)
        first = ingest_dagster_runs(instance, engine, batch=2, max_runs=2)
        assert (first.ingested, first.backlog) == (2, True)
        rest = ingest_dagster_runs(instance, engine, batch=2)
        assert (rest.ingested, rest.backlog) == (3, False)
        assert run_store.count_runs(engine) == 5


def finish_late(instance: dg.DagsterInstance, run_id: str, stamped: datetime) -> None:
    """The run's success event, stamped `stamped` (when it happened) but stored now."""
    event = dg.DagsterEvent(event_type_value=dg.DagsterEventType.RUN_SUCCESS.value, job_name="late_job")
    instance.run_storage.handle_run_event(run_id, event, update_timestamp=stamped)


def test_a_run_finished_behind_the_cursor_is_still_recorded_finished(tmp_path) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    with dg.instance_for_test() as instance:
        late = instance.add_run(dg.DagsterRun(job_name="late_job", run_id=str(uuid.uuid4())))
        instance.handle_run_event(late.run_id, dg.DagsterEvent(event_type_value="PIPELINE_START", job_name="late_job"))
        stamped = datetime.now(UTC)
        time.sleep(1.1)  # SQLite run storage keeps update times to the second
        nightly_export.execute_in_process(instance=instance)  # moves the cursor past `stamped`
        assert ingest_dagster_runs(instance, engine).ingested == 2
        [running] = run_store.runs_of(engine, "late_job")
        assert running.status == "running"

        finish_late(instance, late.run_id, stamped)
        with engine.connect() as conn:
            cursor = datetime.fromisoformat(json.loads(read_cursor(conn, CURSOR) or "{}")["updated"])
        assert instance.get_run_record_by_id(late.run_id).update_timestamp < cursor  # a cursor alone misses it
        assert ingest_dagster_runs(instance, engine).ingested == 1
        [finished] = run_store.runs_of(engine, "late_job")
        assert finished.status == "success"
        assert ingest_dagster_runs(instance, engine).ingested == 0  # rechecked, already right: nothing rewritten
