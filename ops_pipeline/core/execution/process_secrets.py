"""The secret values this process has resolved and the extra patterns it was told to mask, as one `Masker`, for
the sinks no step can hand its own masker: the Dagster event log storage (`ops_pipeline.instance`) masks every
event it stores with `process_masker()`.

`core.secrets.resolve_secret` registers every value it resolves. A step resolves its secrets just in time in
the process that runs it, and Dagster stores that step's events from the same process (in-process, multiprocess
and Celery executors alike), so every value an event of the step could hold is known when it is stored. Values
live only in this process's memory; they are never written anywhere.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from ops_pipeline.core.execution.masking import MIN_SECRET_LENGTH, Masker

__all__ = ["process_masker", "register_patterns", "register_secret"]

_lock = threading.Lock()
_values: set[str] = set()
_patterns: dict[str, None] = {}  # in order of registration, each once
_masker = Masker()


def register_secret(value: str) -> None:
    """Mask `value` in everything this process stores from now on (values under 4 characters are not masked)."""
    if len(value) < MIN_SECRET_LENGTH or value in _values:
        return
    with _lock:
        _values.add(value)
        _rebuild()


def register_patterns(patterns: Iterable[str]) -> None:
    """Mask these regular expressions too; ValueError naming a pattern that cannot be one (nothing changes then)."""
    new = [pattern for pattern in patterns if pattern not in _patterns]
    if not new:
        return
    Masker(extra_patterns=new)  # refuses a bad pattern before anything is registered
    with _lock:
        _patterns.update(dict.fromkeys(new))
        _rebuild()


def process_masker() -> Masker:
    """A masker of every registered value and pattern and the default patterns; do not add secrets to it."""
    return _masker


def _rebuild() -> None:
    global _masker
    _masker = Masker(extra_patterns=list(_patterns), secrets=sorted(_values))
