"""Replan triggers: one normalised `Trigger` for everything the control loop reacts to, and its safe parser.

Triggers come from Dagster run records (run and step failures, timeouts), insight signals (anomalies), catalog
scans (schema drift), the SLA monitor and people (manual). `parse_trigger` turns any of them, given as a
JSON-like mapping, into a `Trigger`, or raises `TriggerError` naming each bad field
(`trigger.occurred_at: not a timestamp`). It never raises anything else, whatever the input: the sensors feed
it data they do not control, and one malformed record must not stop a tick.

What each kind needs besides `kind`, `subject` and `occurred_at`:

    run_failure         optional failure_class
    step_failure        step_id and failure_class
    execution_timeout   -
    anomaly_signal      severity
    schema_drift        drift (breaking or compatible)
    sla_breach          optional severity
    manual              optional requested_action (rerun, replan, debug, skip or rollback)

`failure_class` belongs to run and step failures, `drift` to schema drift and `requested_action` to manual
triggers only. Words accept the spellings people use (`run-failure`, `RUN_FAILURE`, `TRANSIENT`, `retry`).

`occurred_at` is when the event happened: a timezone-aware datetime, an ISO 8601 string with an offset, or
epoch seconds; naive times are refused rather than guessed. The `fingerprint` names the underlying event, so a
sensor that sees the same event on two ticks acts once; when not given it is `kind|run_id[|step_id]` (or the
execution id instead of the run id) or, for events without a run, `kind|subject|occurred_at`. `detail` is
free text capped at 2,000 characters; `tags` are the run's tags, used for policy overrides.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from ops_pipeline.core.control_loop.vocabulary import (
    ACTION_ALIASES,
    DRIFT_ALIASES,
    DRIFTS,
    FAILURE_CLASS_ALIASES,
    FAILURE_CLASSES,
    KIND_ALIASES,
    RECOVERY_ACTIONS,
    SEVERITIES,
    SEVERITY_ALIASES,
    TRIGGER_KINDS,
    Drift,
    FailureClass,
    RecoveryAction,
    Severity,
    TriggerKind,
    normalize_word,
    shown,
)

__all__ = ["DETAIL_LIMIT", "Trigger", "TriggerError", "default_fingerprint", "parse_trigger", "serialize_trigger"]

DETAIL_LIMIT = 2000
SUBJECT_LIMIT = 500
ID_LIMIT = 200
FINGERPRINT_LIMIT = 500
TAG_KEY_LIMIT = 255
TAG_VALUE_LIMIT = 1000
MAX_TAGS = 200
_LAST_EPOCH_SECOND = 253402300799  # 9999-12-31T23:59:59Z


class _TagProblem(ValueError):
    """A bad tag; `tag` extends the field path (`trigger.tags.owner`)."""

    def __init__(self, tag: str, reason: str) -> None:
        self.tag = tag
        super().__init__(reason)


class TriggerError(ValueError):
    """A trigger that cannot be normalised; the message names each bad field and why."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(problems))


def default_fingerprint(
    kind: str, subject: str, occurred_at: datetime, run_id: str | None, execution_id: str | None, step_id: str | None
) -> str:
    """The event's identity when the source gave none: its run (or execution) and step, else subject and time."""
    anchor = run_id or execution_id
    if anchor is None:
        return f"{kind}|{subject}|{occurred_at.isoformat()}"
    return f"{kind}|{anchor}|{step_id}" if step_id else f"{kind}|{anchor}"


@dataclass(frozen=True)
class Trigger:
    """One event the control loop may react to; see the module docstring for what each kind carries."""

    kind: TriggerKind
    subject: str
    occurred_at: datetime
    fingerprint: str = ""
    run_id: str | None = None
    execution_id: str | None = None
    step_id: str | None = None
    failure_class: FailureClass | None = None
    severity: Severity | None = None
    drift: Drift | None = None
    requested_action: RecoveryAction | None = None
    detail: str = ""
    # Read-only; left out of the hash (a mapping is unhashable) but part of equality.
    tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None or self.occurred_at.utcoffset() is None:
            raise TriggerError(["trigger.occurred_at: has no timezone (write e.g. 2026-11-22T10:00:00+00:00)"])
        problems = _kind_problems(self)
        if problems:
            raise TriggerError(problems)
        object.__setattr__(self, "occurred_at", self.occurred_at.astimezone(UTC))
        object.__setattr__(self, "tags", MappingProxyType(dict(self.tags)))
        if not self.fingerprint:
            fingerprint = default_fingerprint(
                self.kind, self.subject, self.occurred_at, self.run_id, self.execution_id, self.step_id
            )
            object.__setattr__(self, "fingerprint", fingerprint)

    @property
    def qualifier(self) -> str | None:
        """The word that refines the kind in policy keys: failure class, drift or severity."""
        if self.kind in ("run_failure", "step_failure"):
            return self.failure_class
        if self.kind == "schema_drift":
            return self.drift
        if self.kind in ("anomaly_signal", "sla_breach"):
            return self.severity
        return None


_REQUIRED_BY_KIND: dict[str, tuple[str, ...]] = {
    "step_failure": ("step_id", "failure_class"),
    "anomaly_signal": ("severity",),
    "schema_drift": ("drift",),
}
_ONLY_FOR_KINDS: dict[str, tuple[str, ...]] = {
    "failure_class": ("run_failure", "step_failure"),
    "drift": ("schema_drift",),
    "requested_action": ("manual",),
}


def _kind_problems(trigger: Trigger) -> list[str]:
    problems = [
        f"trigger.{name}: is required for {trigger.kind} triggers"
        for name in _REQUIRED_BY_KIND.get(trigger.kind, ())
        if getattr(trigger, name) is None
    ]
    for name, kinds in _ONLY_FOR_KINDS.items():
        if getattr(trigger, name) is not None and trigger.kind not in kinds:
            problems.append(f"trigger.{name}: only {' and '.join(kinds)} triggers have one, not {trigger.kind}")
    return problems


# ---- parsing


def _identifier(limit: int) -> Callable[[object], str | None]:
    """Text that ends up in run keys and tags: stripped, bounded, no control characters; blank means absent."""

    def parse(value: object) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError(f"must be text, not {shown(value)}")
        text = value.strip()
        if len(text) > limit:
            raise ValueError(f"is {len(text)} characters; the limit is {limit}")
        if any(not char.isprintable() for char in text):
            raise ValueError("must not contain control or invisible characters")
        return text or None

    return parse


def _detail(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"must be text, not {shown(value)}")
    text = value.replace("\x00", "")  # PostgreSQL text columns cannot hold NUL
    return text if len(text) <= DETAIL_LIMIT else text[: DETAIL_LIMIT - 1] + "…"


def _epoch(seconds: float) -> datetime:
    if math.isnan(seconds) or not 0 <= seconds <= _LAST_EPOCH_SECOND:
        raise ValueError(f"not a timestamp (epoch seconds between 0 and {_LAST_EPOCH_SECOND}, got {shown(seconds)})")
    return datetime.fromtimestamp(seconds, UTC)


def _timestamp(value: object) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp (got {shown(value)})")
    if isinstance(value, int) and value.bit_length() > 64:
        raise ValueError(f"not a timestamp (got {shown(value)})")  # float() of it would overflow
    if isinstance(value, int | float):
        return _epoch(float(value))
    if isinstance(value, str):
        return _timestamp_text(value)
    if isinstance(value, datetime):
        return _aware_utc(value)
    raise ValueError(f"not a timestamp (got {shown(value)})")


def _timestamp_text(text: str) -> datetime:
    cleaned = text.strip()
    if len(cleaned) > 64:
        raise ValueError(f"not a timestamp (got {shown(text)})")
    try:
        seconds = float(cleaned)
    except ValueError:
        pass
    else:
        return _epoch(seconds)
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        hint = "write ISO 8601 with an offset, or epoch seconds"
        raise ValueError(f"not a timestamp ({hint}; got {shown(text)})") from None
    return _aware_utc(moment)


def _aware_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("has no timezone (write e.g. 2026-11-22T10:00:00+00:00)")
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError("is out of range in UTC") from None


def _tags(value: object) -> Mapping[str, str]:
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, Mapping):
        raise ValueError(f"must be a mapping of tag name to value, not {shown(value)}")
    if len(value) > MAX_TAGS:
        raise ValueError(f"has {len(value)} tags; the limit is {MAX_TAGS}")
    tags: dict[str, str] = {}
    key_of = _identifier(TAG_KEY_LIMIT)
    for key, tag_value in value.items():
        try:
            name = key_of(key)
        except ValueError as error:
            raise _TagProblem(_key_label(key), f"bad tag name: {error}") from None
        if name is None:
            raise _TagProblem(_key_label(key), "tag names must not be empty")
        if not isinstance(tag_value, str) or len(tag_value) > TAG_VALUE_LIMIT or "\x00" in tag_value:
            raise _TagProblem(name, f"must be text of at most {TAG_VALUE_LIMIT} characters without NUL")
        tags[name] = tag_value
    return MappingProxyType(tags)


def _key_label(key: object) -> str:
    if isinstance(key, str) and key.isprintable() and 0 < len(key) <= 60:
        return key
    return shown(key)


def _word(allowed: tuple[str, ...], aliases: Mapping[str, str]) -> Callable[[object], str | None]:
    def parse(value: object) -> str | None:
        return None if value is None else normalize_word(value, allowed, aliases)

    return parse


_FIELD_PARSERS: dict[str, Callable[[object], Any]] = {
    "kind": _word(TRIGGER_KINDS, KIND_ALIASES),
    "subject": _identifier(SUBJECT_LIMIT),
    "occurred_at": _timestamp,
    "fingerprint": _identifier(FINGERPRINT_LIMIT),
    "run_id": _identifier(ID_LIMIT),
    "execution_id": _identifier(ID_LIMIT),
    "step_id": _identifier(ID_LIMIT),
    "failure_class": _word(FAILURE_CLASSES, FAILURE_CLASS_ALIASES),
    "severity": _word(SEVERITIES, SEVERITY_ALIASES),
    "drift": _word(DRIFTS, DRIFT_ALIASES),
    "requested_action": _word(RECOVERY_ACTIONS, ACTION_ALIASES),
    "detail": _detail,
    "tags": _tags,
}
_REQUIRED = ("kind", "subject", "occurred_at")


def _parse_fields(raw: Mapping[Any, Any]) -> tuple[dict[str, Any], list[str]]:
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key in raw:
        if key not in _FIELD_PARSERS:
            problems.append(f"trigger.{_key_label(key)}: unknown field (known: {', '.join(_FIELD_PARSERS)})")
    for name, parse in _FIELD_PARSERS.items():
        try:
            values[name] = parse(raw.get(name))
        except _TagProblem as problem:
            problems.append(f"trigger.{name}.{problem.tag}: {problem}")
            continue
        except ValueError as error:
            problems.append(f"trigger.{name}: {error}")
            continue
        if name in _REQUIRED and values[name] is None:
            problems.append(f"trigger.{name}: is required")
    return values, problems


def parse_trigger(raw: object) -> Trigger:
    """A `Trigger` from a JSON-like mapping; `TriggerError` (a ValueError) naming each bad field otherwise."""
    if not isinstance(raw, Mapping):
        raise TriggerError([f"trigger: must be a mapping of fields, not {shown(raw)}"])
    values, problems = _parse_fields(raw)
    if problems:
        raise TriggerError(problems)
    values = {name: value for name, value in values.items() if value is not None}
    return Trigger(**values)


def serialize_trigger(trigger: Trigger) -> dict[str, Any]:
    """The trigger as JSON-compatible data; `parse_trigger` of it gives an equal trigger."""
    data: dict[str, Any] = {
        "kind": trigger.kind,
        "subject": trigger.subject,
        "occurred_at": trigger.occurred_at.isoformat(),
        "fingerprint": trigger.fingerprint,
    }
    optional = ("run_id", "execution_id", "step_id", "failure_class", "severity", "drift", "requested_action")
    data.update({name: getattr(trigger, name) for name in optional if getattr(trigger, name) is not None})
    if trigger.detail:
        data["detail"] = trigger.detail
    if trigger.tags:
        data["tags"] = dict(trigger.tags)
    return data
