"""Pins the two Dagster classes `ops_pipeline.instance.default_classes` resolves by name to the classes a default
SQLite instance really uses: a Dagster upgrade that moves or renames one fails here."""

import dagster as dg

from ops_pipeline.instance.default_classes import local_compute_log_manager_class, sqlite_event_log_storage_class


def test_the_resolved_classes_are_the_ones_a_default_instance_uses(tmp_path) -> None:
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        assert type(instance.event_log_storage) is sqlite_event_log_storage_class()
        assert type(instance.compute_log_manager) is local_compute_log_manager_class()
