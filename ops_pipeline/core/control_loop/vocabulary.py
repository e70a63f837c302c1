"""The words of the control loop: trigger kinds, failure classes, severities, drift, actions, and their aliases.

Triggers arrive from several places (Dagster run records, insight signals, catalog drift, the CLI) and policies
are written by people, so the same word comes in several spellings: `run-failure`, `RUN_FAILURE`, `Transient`.
Every spelling is normalised here, once, by `normalize_word`, so the rest of the loop compares exact words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, TypeVar, cast, get_args

TriggerKind = Literal[
    "run_failure", "step_failure", "execution_timeout", "anomaly_signal", "schema_drift", "sla_breach", "manual"
]
FailureClass = Literal["transient", "permanent", "timeout", "permission", "validation"]
Severity = Literal["info", "warning", "critical"]
Drift = Literal["breaking", "compatible"]
RecoveryAction = Literal["rerun", "replan", "debug", "skip", "rollback"]
# What the loop may decide: a recovery action, or escalate (dead letter + alert), or ignore.
Action = Literal["rerun", "replan", "debug", "skip", "rollback", "escalate", "ignore"]

TRIGGER_KINDS: tuple[TriggerKind, ...] = get_args(TriggerKind)
FAILURE_CLASSES: tuple[FailureClass, ...] = get_args(FailureClass)
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
DRIFTS: tuple[Drift, ...] = get_args(Drift)
RECOVERY_ACTIONS: tuple[RecoveryAction, ...] = get_args(RecoveryAction)
ACTIONS: tuple[Action, ...] = get_args(Action)

KIND_ALIASES: dict[str, TriggerKind] = {
    "run_failed": "run_failure",
    "failed_run": "run_failure",
    "step_failed": "step_failure",
    "failed_step": "step_failure",
    "timeout": "execution_timeout",
    "execution_timed_out": "execution_timeout",
    "anomaly": "anomaly_signal",
    "signal": "anomaly_signal",
    "insight_signal": "anomaly_signal",
    "drift": "schema_drift",
    "schema_change": "schema_drift",
    "sla": "sla_breach",
    "sla_miss": "sla_breach",
    "sla_missed": "sla_breach",
}
FAILURE_CLASS_ALIASES: dict[str, FailureClass] = {
    "retryable": "transient",
    "temporary": "transient",
    "fatal": "permanent",
    "timed_out": "timeout",
    "permission_denied": "permission",
    "forbidden": "permission",
    "unauthorized": "permission",
    "invalid": "validation",
    "validation_error": "validation",
}
SEVERITY_ALIASES: dict[str, Severity] = {"information": "info", "warn": "warning", "crit": "critical"}
DRIFT_ALIASES: dict[str, Drift] = {"non_breaking": "compatible", "nonbreaking": "compatible"}
ACTION_ALIASES: dict[str, Action] = {"retry": "rerun", "re_run": "rerun", "re_plan": "replan"}

# The field of a trigger that refines its kind in policy keys such as `step_failure.transient`.
QUALIFIERS: dict[TriggerKind, tuple[str, ...]] = {
    "run_failure": FAILURE_CLASSES,
    "step_failure": FAILURE_CLASSES,
    "anomaly_signal": SEVERITIES,
    "sla_breach": SEVERITIES,
    "schema_drift": DRIFTS,
}

W = TypeVar("W", bound=str)


def normalize_word(value: object, allowed: tuple[W, ...], aliases: Mapping[str, W] | None = None) -> W:
    """`value` as one of `allowed`, ignoring case, `-` versus `_` and spaces; ValueError listing the choices."""
    if isinstance(value, str):
        word = value.strip().lower().replace("-", "_").replace(" ", "_")
        if word in allowed:
            return cast(W, word)
        if aliases and word in aliases:
            return aliases[word]
    raise ValueError(f"must be one of {', '.join(allowed)} (got {shown(value)})")


def shown(value: object, limit: int = 60) -> str:
    """A short repr for error messages: a huge or deeply nested input never makes a huge (or failing) message."""
    if isinstance(value, str):
        return repr(value) if len(value) <= limit else repr(value[:limit]) + "..."
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return "a very large integer"  # repr() of a huge int raises ValueError (int max str digits)
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    return f"a {type(value).__name__}"
