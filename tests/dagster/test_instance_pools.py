"""The shipped local instance config limits every pool (a backfill's pool is its destination) and the run queue."""

import shutil

import dagster as dg

from tests.conftest import REPO_ROOT


def test_the_local_instance_limits_backfill_pools(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))  # the masking event log storage keeps its files there
    shutil.copyfile(REPO_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        concurrency = instance.get_concurrency_config()
        assert concurrency.pool_config.default_pool_limit == 1
        assert concurrency.run_queue_config is not None and concurrency.run_queue_config.max_concurrent_runs == 4
