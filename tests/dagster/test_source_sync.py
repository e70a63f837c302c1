import json
from pathlib import Path

import dagster as dg

from ops_pipeline.defs.catalog.partitions import SOURCES_PARTITION_NAME
from ops_pipeline.defs.catalog.sensors import build_source_sync_sensor
from tests.dagster.helpers import write_config

SQLITE = {"type": "sqlite", "path": "/data/a.db"}
KAFKA = {"type": "kafka", "bootstrap_servers": ["127.0.0.1:9092"]}


def tick(instance: dg.DagsterInstance, config: Path, cursor: str | None) -> dg.SensorResult | dg.SkipReason:
    sensor = build_source_sync_sensor(config, 30)
    return sensor(dg.build_sensor_context(instance=instance, cursor=cursor))


def test_first_tick_adds_partitions_and_scans_scannable_sources(tmp_path) -> None:
    config = write_config(tmp_path / "ops.yaml", {"a": SQLITE, "b": {**SQLITE, "path": "/data/b.db"}, "bus": KAFKA})
    with dg.instance_for_test() as instance:
        result = tick(instance, config, None)
        assert isinstance(result, dg.SensorResult)
        [add] = result.dynamic_partitions_requests
        assert isinstance(add, dg.AddDynamicPartitionsRequest)
        assert (add.partitions_def_name, sorted(add.partition_keys)) == (SOURCES_PARTITION_NAME, ["a", "b", "bus"])
        assert [r.partition_key for r in result.run_requests] == ["a", "b"]  # kafka cannot be scanned
        assert all(r.run_key and r.run_key.startswith(f"scan:{r.partition_key}:") for r in result.run_requests)
        assert set(json.loads(result.cursor)["fingerprints"]) == {"a", "b", "bus"}


def test_nothing_changed_skips_with_a_reason(tmp_path) -> None:
    config = write_config(tmp_path / "ops.yaml", {"a": SQLITE})
    with dg.instance_for_test() as instance:
        first = tick(instance, config, None)
        instance.add_dynamic_partitions(SOURCES_PARTITION_NAME, ["a"])
        second = tick(instance, config, first.cursor)
        assert isinstance(second, dg.SkipReason)
        assert "in sync" in second.skip_message


def test_changed_source_is_rescanned_and_removed_source_is_dropped(tmp_path) -> None:
    config = write_config(tmp_path / "ops.yaml", {"a": SQLITE, "old": {**SQLITE, "path": "/data/old.db"}})
    with dg.instance_for_test() as instance:
        first = tick(instance, config, None)
        instance.add_dynamic_partitions(SOURCES_PARTITION_NAME, ["a", "old"])

        write_config(config, {"a": {**SQLITE, "path": "/data/moved.db"}})
        second = tick(instance, config, first.cursor)
        assert isinstance(second, dg.SensorResult)
        [delete] = second.dynamic_partitions_requests
        assert isinstance(delete, dg.DeleteDynamicPartitionsRequest) and list(delete.partition_keys) == ["old"]
        [rescan] = second.run_requests
        assert rescan.partition_key == "a"
        assert rescan.run_key != first.run_requests[0].run_key


def test_scans_run_under_the_named_catalog_scan_job(tmp_path) -> None:
    sensor = build_source_sync_sensor(write_config(tmp_path / "ops.yaml", {"a": SQLITE}), 30)
    assert sensor.job_name == "catalog_scan"


def test_a_configuration_that_comes_back_is_scanned_again(tmp_path) -> None:
    config = write_config(tmp_path / "ops.yaml", {"a": SQLITE})
    with dg.instance_for_test() as instance:
        first = tick(instance, config, None)
        instance.add_dynamic_partitions(SOURCES_PARTITION_NAME, ["a"])
        write_config(config, {"a": {**SQLITE, "path": "/data/b.db"}})
        second = tick(instance, config, first.cursor)
        write_config(config, {"a": SQLITE})
        third = tick(instance, config, second.cursor)
        keys = [r.run_key for result in (first, second, third) for r in result.run_requests]
        assert len(keys) == 3 and len(set(keys)) == 3  # A -> B -> A: the second A is a new scan


def test_a_source_removed_and_added_back_unchanged_is_scanned_again(tmp_path) -> None:
    config = write_config(tmp_path / "ops.yaml", {"a": SQLITE, "b": {**SQLITE, "path": "/data/b.db"}})
    with dg.instance_for_test() as instance:
        first = tick(instance, config, None)
        instance.add_dynamic_partitions(SOURCES_PARTITION_NAME, ["a", "b"])
        write_config(config, {"a": SQLITE})
        second = tick(instance, config, first.cursor)
        instance.delete_dynamic_partition(SOURCES_PARTITION_NAME, "b")
        write_config(config, {"a": SQLITE, "b": {**SQLITE, "path": "/data/b.db"}})
        third = tick(instance, config, second.cursor)
        [rescan] = third.run_requests
        [original] = [r for r in first.run_requests if r.partition_key == "b"]
        assert rescan.partition_key == "b" and rescan.run_key != original.run_key


def test_a_cursor_of_the_earlier_format_is_read(tmp_path) -> None:
    config = write_config(tmp_path / "ops.yaml", {"a": SQLITE})
    with dg.instance_for_test() as instance:
        first = tick(instance, config, None)
        instance.add_dynamic_partitions(SOURCES_PARTITION_NAME, ["a"])
        old_cursor = json.dumps(json.loads(first.cursor)["fingerprints"])
        assert isinstance(tick(instance, config, old_cursor), dg.SkipReason)
