"""The masking event log storages and compute log manager, configured as the shipped yaml files configure them, on
real SQLite files and a real PostgreSQL database: what reaches the stored events, and that Dagster still works."""

import shutil
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml

from ops_pipeline.core.execution.process_secrets import register_secret
from ops_pipeline.core.secrets import resolve_secret
from ops_pipeline.instance.compute_logs import MaskingComputeLogManager
from ops_pipeline.instance.postgres_event_log import MaskingPostgresEventLogStorage
from ops_pipeline.instance.sqlite_event_log import MaskingSqliteEventLogStorage
from tests.conftest import REPO_ROOT, pg_url

RESOLVED = "Resolved-Only-Known-To-This-Process-1"


@dg.op
def chatty(context) -> dg.Output[int]:
    context.log.info(f"token={RESOLVED}x and {RESOLVED} and ticket INTERNAL-4711")
    print(f"printed {RESOLVED}")
    print("to stderr: password=hunter22", file=sys.stderr)
    context.log_event(dg.AssetMaterialization("orders", metadata={"api_key": "k-123456", "rows": 3}))
    return dg.Output(3, metadata={"note": "ping alice@example.com"})


@dg.job
def chatty_job() -> None:
    chatty()


def home_from(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, instance_yaml: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    config = yaml.safe_load(instance_yaml.read_text())
    config["event_log_storage"]["config"]["mask_patterns"] = ["INTERNAL-[0-9]+"]
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def run_and_read(instance: dg.DagsterInstance) -> str:
    register_secret(RESOLVED)
    result = chatty_job.execute_in_process(instance=instance)
    assert result.success and result.output_for_node("chatty") == 3
    return "\n".join(dg.serialize_value(entry) for entry in instance.all_logs(result.run_id))


def assert_masked(stored: str) -> None:
    assert RESOLVED not in stored and "hunter22" not in stored and "INTERNAL-4711" not in stored
    assert "alice@example.com" not in stored and "k-123456" not in stored
    assert "token=*** and *** and ticket ***" in stored and "ping ***" in stored


def assert_asset_still_indexed(instance: dg.DagsterInstance) -> None:
    event = instance.get_latest_materialization_event(dg.AssetKey("orders"))
    assert event is not None and event.asset_materialization is not None
    assert event.asset_materialization.metadata["api_key"] == dg.TextMetadataValue("***")
    assert event.asset_materialization.metadata["rows"] == dg.IntMetadataValue(3)


def test_sqlite_instance_masks_events_and_compute_logs(tmp_path, monkeypatch) -> None:
    home = home_from(tmp_path, monkeypatch, REPO_ROOT / "dagster.yaml")
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.event_log_storage, MaskingSqliteEventLogStorage)
        assert isinstance(instance.compute_log_manager, MaskingComputeLogManager)
        assert_masked(run_and_read(instance))
        assert_asset_still_indexed(instance)
    [out] = home.rglob("*.out")
    [err] = home.rglob("*.err")
    assert out.read_text() == "printed ***\n"
    assert "to stderr: password=***" in err.read_text() and "hunter22" not in err.read_text()
    assert (home / "history" / "runs" / "index.db").exists()  # where Dagster keeps a SQLite instance's event logs


def test_postgres_instance_masks_events(tmp_path, monkeypatch, pg_database) -> None:
    home_from(tmp_path, monkeypatch, REPO_ROOT / "deploy" / "dagster.postgres.yaml")
    monkeypatch.setenv("DAGSTER_PG_URL", pg_url(pg_database))
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.event_log_storage, MaskingPostgresEventLogStorage)
        assert_masked(run_and_read(instance))
        assert_asset_still_indexed(instance)


def test_an_event_with_nothing_to_mask_is_stored_as_it_is(tmp_path, monkeypatch) -> None:
    home_from(tmp_path, monkeypatch, REPO_ROOT / "dagster.yaml")
    with dg.DagsterInstance.get() as instance:
        entry = dg.EventLogEntry(
            error_info=None, level=20, user_message="plain words", run_id="r1", timestamp=1.0, step_key="s"
        )
        instance.event_log_storage.store_event(entry)
        [stored] = instance.all_logs("r1")
    assert stored == entry


def test_a_bad_mask_pattern_stops_the_instance_with_its_name(tmp_path, monkeypatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    config = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())
    config["event_log_storage"]["config"]["mask_patterns"] = ["(unclosed"]
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with pytest.raises(ValueError, match=r"masking pattern 0 \('\(unclosed'\)"):
        dg.DagsterInstance.get()


def test_the_sqlite_storage_needs_a_folder(monkeypatch) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    with pytest.raises(ValueError, match=r"set its config\.base_dir, or DAGSTER_HOME"):
        MaskingSqliteEventLogStorage.from_config_value(None, {})


def test_the_demo_home_keeps_working(tmp_path, monkeypatch) -> None:
    """An instance that ran with Dagster's default SQLite storage opens with the masking storage and sees its runs."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as plain:
        earlier = chatty_job.execute_in_process(instance=plain).run_id
    shutil.copyfile(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    with dg.DagsterInstance.get() as masking:
        assert masking.get_run_by_id(earlier) is not None
        assert any(e.dagster_event_type == dg.DagsterEventType.RUN_SUCCESS for e in masking.all_logs(earlier))


@dg.op
def resolving(context) -> None:
    secret = resolve_secret("env:MULTIPROCESS_SECRET")  # resolved in the step's own process
    context.log.info(f"child process says {secret}")
    print(f"child prints {secret}")
    raise RuntimeError(f"child fails with {secret}")


@dg.job(executor_def=dg.multiprocess_executor)
def multiprocess_job() -> None:
    resolving()


def test_step_processes_of_the_multiprocess_executor_mask_what_they_resolve(tmp_path, monkeypatch) -> None:
    home = home_from(tmp_path, monkeypatch, REPO_ROOT / "dagster.yaml")
    monkeypatch.setenv("MULTIPROCESS_SECRET", "Only-The-Child-Resolves-This-9")
    with dg.DagsterInstance.get() as instance:
        result = dg.execute_job(dg.reconstructable(multiprocess_job), instance=instance, raise_on_error=False)
        assert not result.success
        stored = "\n".join(dg.serialize_value(entry) for entry in instance.all_logs(result.run_id))
    assert "child process says ***" in stored and "child fails with ***" in stored
    assert "Only-The-Child-Resolves-This-9" not in stored
    files = [path.read_bytes() for path in home.rglob("*") if path.is_file()]
    assert any(b"child prints ***" in data for data in files)
    assert not any(b"Only-The-Child-Resolves-This-9" in data for data in files)


def test_a_run_failed_from_outside_is_recorded_failed(tmp_path, monkeypatch) -> None:
    """The code server fails an orphaned run (its worker was killed) with no failure data of its own."""
    home_from(tmp_path, monkeypatch, REPO_ROOT / "dagster.yaml")
    with dg.DagsterInstance.get() as instance:
        run = instance.create_run_for_job(chatty_job, status=dg.DagsterRunStatus.STARTED)
        instance.report_run_failed(run)
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
