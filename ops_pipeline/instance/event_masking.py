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
        super().store_event(masked_event(event, process_masker()))  # type: ignore[misc]

    def store_event_batch(self, events: Sequence[dg.EventLogEntry]) -> None:
        masker = process_masker()
        super().store_event_batch([masked_event(event, masker) for event in events])  # type: ignore[misc]


def without_mask_patterns(config_value: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """(the storage's own config, the extra mask patterns)."""
    own = dict(config_value)
    return own, list(own.pop("mask_patterns", None) or [])
