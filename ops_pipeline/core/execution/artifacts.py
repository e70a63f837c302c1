"""A step's output artifact as the step row stores it: masked, JSON, at most 10 KB.

`cap_artifact(obj, masker)` first turns the output into plain JSON values (anything else becomes its `str`),
then masks it with `Masker.mask_value` (whole strings, before any cut, so a secret is never half-kept), then
serialises it. When the JSON is larger than the limit, the artifact becomes a smaller JSON document that says
so and keeps as much of the start as fits:

    {"truncated": true, "original_bytes": 48213, "preview": "{\"rows\": [{\"id\": 1, ..."}

The result is always valid JSON and at most `limit_bytes` bytes of UTF-8, cut on a character boundary.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from ops_pipeline.core.execution.masking import Masker

__all__ = ["ARTIFACT_LIMIT_BYTES", "MIN_LIMIT_BYTES", "cap_artifact", "jsonable"]

ARTIFACT_LIMIT_BYTES = 10_240
MIN_LIMIT_BYTES = 128  # room for the truncation wrapper and a useful preview
MAX_DEPTH = 64  # deeper nesting (or a cycle) is cut with a marker instead of recursing forever
TOO_DEEP = "<nested too deep>"


def cap_artifact(obj: object, masker: Masker, limit_bytes: int = ARTIFACT_LIMIT_BYTES) -> tuple[str, bool]:
    """(JSON text of the masked `obj` within `limit_bytes`, whether it had to be truncated)."""
    if limit_bytes < MIN_LIMIT_BYTES:
        raise ValueError(f"limit_bytes must be at least {MIN_LIMIT_BYTES}, not {limit_bytes}")
    text = _dumps(masker.mask_value(jsonable(obj)))
    size = _size(text)
    if size <= limit_bytes:
        return text, False
    return _truncated(text, size, limit_bytes), True


def jsonable(obj: object, depth: int = 0) -> Any:
    """`obj` as JSON values: mappings with string keys, lists, strings, finite numbers, booleans and None."""
    if depth > MAX_DEPTH:
        return TOO_DEEP
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else str(obj)
    if isinstance(obj, Mapping):
        return {_key(key): jsonable(value, depth + 1) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(item, depth + 1) for item in obj]
    if isinstance(obj, set | frozenset):
        return sorted((jsonable(item, depth + 1) for item in obj), key=repr)
    if isinstance(obj, bytes):
        return obj.decode("utf-8", errors="replace")
    if isinstance(obj, datetime | date | time):
        return obj.isoformat()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return jsonable(dataclasses.asdict(obj), depth + 1)
    model_dump = getattr(obj, "model_dump", None)  # pydantic models
    if callable(model_dump):
        return jsonable(model_dump(mode="json"), depth + 1)
    return str(obj)


def _key(key: object) -> str:
    return key if isinstance(key, str) else str(key)


def _dumps(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    # A lone surrogate cannot be stored as UTF-8; it becomes "?" so every caller can encode the artifact.
    return text if text.isascii() else text.encode("utf-8", errors="replace").decode("utf-8")


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _truncated(text: str, original_bytes: int, limit_bytes: int) -> str:
    def wrapped(kept: int) -> str:
        return _dumps({"truncated": True, "original_bytes": original_bytes, "preview": text[:kept]})

    # The longest prefix whose wrapper fits: sizes only grow with the prefix, so a binary search finds it.
    low, high = 0, min(len(text), limit_bytes)
    while low < high:
        middle = (low + high + 1) // 2
        if _size(wrapped(middle)) <= limit_bytes:
            low = middle
        else:
            high = middle - 1
    return wrapped(low)
