"""Two Dagster instance classes that Dagster does not export, resolved by name; the one place that names them.

Dagster's default instance names the classes of its parts in configurable-class data (`InstanceRef.config_defaults`
in Dagster 1.13): the event log storage is `SqliteEventLogStorage` of `dagster._core.storage.event_log`, the
compute log manager `LocalComputeLogManager` of `dagster._core.storage.local_compute_log_manager`, and Dagster
rehydrates them by importing those modules by name. This module resolves the classes the same way, so no module
of the project imports a private Dagster module. `tests/instance/test_default_classes.py` pins both to the
classes a default SQLite instance really uses: a Dagster upgrade that moves one fails that test, not an instance.
"""

from __future__ import annotations

import importlib
from typing import Any

SQLITE_EVENT_LOG_STORAGE = ("dagster._core.storage.event_log", "SqliteEventLogStorage")
LOCAL_COMPUTE_LOG_MANAGER = ("dagster._core.storage.local_compute_log_manager", "LocalComputeLogManager")


def _resolved(module_and_class: tuple[str, str]) -> Any:
    module_name, class_name = module_and_class
    return getattr(importlib.import_module(module_name), class_name)


def sqlite_event_log_storage_class() -> Any:
    """The class of the event log storage a default (SQLite) Dagster instance uses."""
    return _resolved(SQLITE_EVENT_LOG_STORAGE)


def local_compute_log_manager_class() -> Any:
    """The class of the compute log manager a default Dagster instance uses."""
    return _resolved(LOCAL_COMPUTE_LOG_MANAGER)
