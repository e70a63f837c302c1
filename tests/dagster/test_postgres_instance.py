"""deploy/dagster.postgres.yaml on a real PostgreSQL: a job run and a sensor tick with Dagster's storage there."""

import shutil

import dagster as dg
import sqlalchemy as sa
from dagster._core.run_coordinator import QueuedRunCoordinator

from ops_pipeline.defs.catalog.partitions import SOURCES_PARTITION_NAME
from ops_pipeline.defs.catalog.sensors import build_source_sync_sensor
from tests.conftest import REPO_ROOT, pg_url
from tests.dagster.helpers import job_of, pg_source, resources, write_config


def test_job_and_sensor_tick_on_postgres_instance(tmp_path, monkeypatch, pg_database) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(REPO_ROOT / "deploy" / "dagster.postgres.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_PG_URL", pg_url(pg_database))
    config = write_config(tmp_path / "ops.yaml", {"wh": pg_source(pg_database)})
    store_url = f"sqlite:///{tmp_path / 'store.db'}"

    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        assert instance.run_monitoring_enabled
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1  # backfill pools are limited

        result = job_of(config, store_url, "check_source_connection").execute_in_process(
            instance=instance,
            resources=resources(config, store_url),
            run_config={"source": "wh"},
        )
        assert result.success
        run = instance.get_run_by_id(result.run_id)
        assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS
        assert any(e.dagster_event_type == dg.DagsterEventType.RUN_SUCCESS for e in instance.all_logs(result.run_id))

        sensor = build_source_sync_sensor(config, 30)
        tick = sensor(dg.build_sensor_context(instance=instance))
        assert isinstance(tick, dg.SensorResult)
        [request] = tick.dynamic_partitions_requests
        instance.add_dynamic_partitions(SOURCES_PARTITION_NAME, list(request.partition_keys or []))
        assert instance.get_dynamic_partitions(SOURCES_PARTITION_NAME) == ["wh"]

    with sa.create_engine(pg_url(pg_database)).connect() as conn:
        runs = conn.execute(sa.text("SELECT count(*) FROM runs")).scalar()
        partitions = conn.execute(sa.text("SELECT partition FROM dynamic_partitions")).scalars().all()
    assert runs == 1 and partitions == ["wh"]
