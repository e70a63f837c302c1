"""Which step failures are worth retrying, and the retry schedule the Dagster skin turns into a `RetryPolicy`.

Failure classes (the control loop's vocabulary): `transient` (the same call may well succeed in a moment),
`timeout` (our own step timeout or execution deadline), `permission` (RBAC denial, refused approval, HTTP
401/403), `validation` (a check or assertion failed) and `permanent` (everything else). Only transient failures
are retried: repeating a denial, a failed check or a deadline only repeats the failure.

`classify_failure` decides from an exception's type name and message, the two things that survive a trip
through Dagster's event log, in this order: an explicit `hint` from the code that raised; the type name (its
last dotted part) in `TYPE_CLASSES`; the first message pattern in `MESSAGE_CLASSES` that matches (own
timeouts, then permission, validation, transient); otherwise `permanent`.

Retry schedule: Dagster's `RetryPolicy(max_retries, delay, backoff=Backoff.EXPONENTIAL,
jitter=Jitter.PLUS_MINUS)` waits `(2^n - 1) * delay`, plus or minus up to `delay`, before the n-th retry
(n = 1, 2, ...), holding the run worker meanwhile; "max attempts 3" is `max_retries=2`, and the first wait
can be 0. The waits count toward the execution deadline, which `step_budget` enforces, so a late retry gets a
short or empty budget. A `RetryPolicy` retries every failure, so the skin raises the others as
`dg.Failure(..., allow_retries=False)`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from ops_pipeline.core.control_loop.vocabulary import (
    FAILURE_CLASS_ALIASES,
    FAILURE_CLASSES,
    FailureClass,
    normalize_word,
)

__all__ = [
    "FAILURE_CLASSES",
    "MESSAGE_CLASSES",
    "TYPE_CLASSES",
    "FailureClass",
    "RetrySettings",
    "classify_failure",
    "is_retryable",
    "retry_delays",
    "retry_settings",
]


def _names(failure_class: FailureClass, *names: str) -> dict[str, FailureClass]:
    return dict.fromkeys(names, failure_class)


# Exception class names (the last dotted part), from the standard library and the clients steps use.
TYPE_CLASSES: dict[str, FailureClass] = {
    **_names("timeout", "StepTimeoutError", "TimeoutExpired"),  # ours; subprocess.run(timeout=...)
    **_names(
        "transient",
        # builtins and socket
        "ConnectionError",
        "ConnectionRefusedError",
        "ConnectionResetError",
        "ConnectionAbortedError",
        "BrokenPipeError",
        "TimeoutError",
        # requests / urllib3
        "ConnectTimeout",
        "ReadTimeout",
        "Timeout",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "NewConnectionError",
        "ChunkedEncodingError",
        # httpx
        "ConnectError",
        "ReadError",
        "WriteError",
        "TimeoutException",
        "PoolTimeout",
        "WriteTimeout",
        "RemoteProtocolError",
        # psycopg / psycopg2 SQLSTATE classes
        "DeadlockDetected",
        "SerializationFailure",
        "LockNotAvailable",
        "TransactionRollbackError",
    ),
    **_names("permission", "PermissionError", "AccessDenied", "InsufficientPrivilege", "ApprovalRefused"),
    **_names("validation", "AssertionError", "ValidationError"),
}

_HTTP_CONTEXT = r"(?:HTTP(?:/\d(?:\.\d)?)?|status(?:[ _]?code)?|response code)\W{0,3}"


def _http_status(*codes: int) -> str:
    alternatives = "|".join(str(code) for code in codes)
    # "HTTP 503", "status_code=503", requests' "503 Server Error", httpx's "Server error '503 ...'"
    return (
        rf"\b{_HTTP_CONTEXT}(?:{alternatives})\b"
        rf"|\b(?:{alternatives}) (?:Client|Server) Error\b"
        rf"|\b(?:Client|Server) error '(?:{alternatives})\b"
    )


_TIMEOUT_WORDS = (
    r"\bstep timeout\b|\bexecution (?:timeout|deadline)\b|\bstatement timeout\b"
    r"|maximum statement execution time exceeded"
)
_PERMISSION_WORDS = (
    r"\bpermission denied\b|\baccess denied\b|\bnot authori[sz]ed\b|\bunauthori[sz]ed\b|\bforbidden\b"
    r"|\binsufficient privileges?\b|\bauthentication failed\b|\brbac\b.{0,40}\bden(?:ied|ial)\b"
    r"|\bdenied by rbac\b|\bapproval\b.{0,40}\b(?:refused|rejected|denied)\b|" + _http_status(401, 403)
)
_VALIDATION_WORDS = r"\bvalidation (?:failed|failure|error)\b|\bfailed validation\b|\bassertion ?error\b"
_TRANSIENT_WORDS = (
    r"\bconnection (?:refused|reset|aborted|timed out)\b|\bbroken pipe\b|\btimed out\b"
    r"|\btemporar(?:y failure|ily unavailable)\b|\bdeadlock (?:detected|found)\b"
    r"|\bcould not serialize access\b|\bserialization failure\b|\block (?:wait )?timeout\b"
    r"|\bdatabase is locked\b|\btoo many requests\b|\bbad gateway\b|\bservice unavailable\b"
    r"|\bgateway time-?out\b|" + _http_status(429, 502, 503, 504)
)

# Tried in this order; the first pattern found anywhere in the message decides.
MESSAGE_CLASSES: tuple[tuple[FailureClass, re.Pattern[str]], ...] = (
    ("timeout", re.compile(_TIMEOUT_WORDS, re.IGNORECASE)),
    ("permission", re.compile(_PERMISSION_WORDS, re.IGNORECASE)),
    ("validation", re.compile(_VALIDATION_WORDS, re.IGNORECASE)),
    ("transient", re.compile(_TRANSIENT_WORDS, re.IGNORECASE)),
)


def classify_failure(exception_type_name: str, message: str, *, hint: str | None = None) -> FailureClass:
    """The failure class of an exception known by its type name and message (see the module docstring).

    `hint` (a failure class or one of its aliases, e.g. "retryable") overrides everything; an unknown hint is
    a programming error and raises ValueError.
    """
    if hint is not None:
        return normalize_word(hint, FAILURE_CLASSES, FAILURE_CLASS_ALIASES)
    by_type = TYPE_CLASSES.get(exception_type_name.rsplit(".", 1)[-1].strip())
    if by_type is not None:
        return by_type
    for failure_class, pattern in MESSAGE_CLASSES:
        if pattern.search(message):
            return failure_class
    return "permanent"


def is_retryable(failure_class: FailureClass) -> bool:
    return failure_class == "transient"


@dataclass(frozen=True)
class RetrySettings:
    """What `dg.RetryPolicy(max_retries=..., delay=..., backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS)`
    needs; `max_retries` counts retries, so it is one less than the attempts."""

    max_retries: int
    delay_s: float
    backoff: Literal["exponential"] = "exponential"
    jitter: Literal["plus_minus"] = "plus_minus"


def retry_settings(max_attempts: int, base_delay_s: float) -> RetrySettings:
    if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
        raise ValueError(f"max_attempts must be a whole number >= 1, not {max_attempts!r}")
    if not math.isfinite(base_delay_s) or base_delay_s < 0:
        raise ValueError(f"base_delay_s must be a finite number of seconds >= 0, not {base_delay_s!r}")
    return RetrySettings(max_retries=max_attempts - 1, delay_s=float(base_delay_s))


def retry_delays(settings: RetrySettings) -> tuple[float, ...]:
    """The nominal wait before each retry, (2^n - 1) * delay for n = 1..max_retries; jitter adds +- delay."""
    return tuple((2**n - 1) * settings.delay_s for n in range(1, settings.max_retries + 1))
