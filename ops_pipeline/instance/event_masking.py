"""Masking Dagster events before they are stored: the part both masking event log storages share.

An event is serialised as Dagster serialises it for storage, every string in it goes through the masker (and a
scalar under a secret-looking key is masked whole), and the event is rebuilt from the masked document, so the
stored row, its index columns and what the UI shows all come from the masked event. The masker is this
process's (`core.execution.process_secrets`): the default patterns, the configured extra patterns and every
secret value resolved in this process. Dagster stores a metadata entry as an object (`{"label": "api_key",
"entry_data": {"__class__": "TextMetadataEntryData", "text": ...}}`, or a `...MetadataValue` under its label), so the
text of an entry under a secret-looking label is masked whole too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import dagster as dg

from ops_pipeline.core.execution.masking import MASK, Masker, is_secret_key
from ops_pipeline.core.execution.process_secrets import process_masker, register_patterns

MASK_PATTERNS_FIELD = dg.Field(
    dg.Array(str),
    is_required=False,
    default_value=[],
    description="regular expressions masked in every stored event, besides the default secret patterns",
)


def masked_event(event: dg.EventLogEntry, masker: Masker) -> dg.EventLogEntry:
    """`event` with every secret masked; the same object when there was nothing to mask."""
    document = json.loads(dg.serialize_value(event))
    masked = masker.mask_value(_secret_metadata_masked(document))
    if masked == document:
        return event
    return dg.deserialize_value(json.dumps(masked), dg.EventLogEntry)


def _secret_metadata_masked(value: Any) -> Any:
    if isinstance(value, list):
        return [_secret_metadata_masked(item) for item in value]
    if not isinstance(value, dict):
        return value
    if isinstance(value.get("label"), str) and is_secret_key(value["label"]) and "entry_data" in value:
        return {**value, "entry_data": _metadata_value_masked(value["entry_data"])}
    return {
        key: _metadata_value_masked(item) if is_secret_key(key) else _secret_metadata_masked(item)
        for key, item in value.items()
    }


def _metadata_value_masked(item: Any) -> Any:
    if isinstance(item, dict) and str(item.get("__class__", "")).endswith(("MetadataValue", "MetadataEntryData")):
        return {
            key: MASK if key != "__class__" and isinstance(field, str) and field else field
            for key, field in item.items()
        }
    return _secret_metadata_masked(item)


class MaskingEvents:
    """Mixed in before a SQL event log storage: `store_event` and `store_event_batch` store masked events."""

    def _start_masking(self, mask_patterns: Sequence[str]) -> None:
        register_patterns(mask_patterns)

    def store_event(self, event: dg.EventLogEntry) -> None:
        event = self._first_failure_as_stored(event)
        super().store_event(masked_event(event, process_masker()))  # type: ignore[misc]

    def store_event_batch(self, events: Sequence[dg.EventLogEntry]) -> None:
        masker = process_masker()
        super().store_event_batch([masked_event(event, masker) for event in events])  # type: ignore[misc]

    def _first_failure_as_stored(self, event: dg.EventLogEntry) -> dg.EventLogEntry:
        """A run failure carries the first step failure as that step's process raised it. Under the multiprocess
        executor the step ran in another process, the only one that knew the secrets it resolved; the masked copy
        it stored replaces the raw one."""
        dagster_event = event.dagster_event
        if dagster_event is None or dagster_event.event_type != dg.DagsterEventType.RUN_FAILURE:
            return event
        failure = dagster_event.job_failure_data  # None when the run was failed from outside (an orphaned run)
        first = failure.first_step_failure_event if failure else None
        if first is None or first.step_failure_data is None:
            return event
        records = self.get_records_for_run(  # type: ignore[attr-defined]
            event.run_id, of_type=dg.DagsterEventType.STEP_FAILURE, ascending=False
        ).records
        stored = next(
            (r.event_log_entry.dagster_event for r in records if r.event_log_entry.step_key == first.step_key), None
        )
        if stored is None or stored.step_failure_data is None:
            return event
        replacements = [
            (_document(first), _document(stored)),
            (_document(first.step_failure_data.error), _document(stored.step_failure_data.error)),
        ]
        replaced = _replaced(json.loads(dg.serialize_value(event)), replacements)
        return dg.deserialize_value(json.dumps(replaced), dg.EventLogEntry)


def _document(value: Any) -> Any:
    return json.loads(dg.serialize_value(value))


def _replaced(node: Any, replacements: list[tuple[Any, Any]]) -> Any:
    """`node` with every subtree equal to a replacement's first item swapped for its second."""
    for raw, stored in replacements:
        if node == raw:
            return stored
    if isinstance(node, dict):
        return {key: _replaced(item, replacements) for key, item in node.items()}
    if isinstance(node, list):
        return [_replaced(item, replacements) for item in node]
    return node


def without_mask_patterns(config_value: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """(the storage's own config, the extra mask patterns)."""
    own = dict(config_value)
    return own, list(own.pop("mask_patterns", None) or [])
