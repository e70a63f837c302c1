"""Failure classification decides what is retried; the retry schedule follows Dagster's exponential backoff."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ops_pipeline.core.execution.rbac import AccessDenied, Decision
from ops_pipeline.core.execution.retries import (
    FAILURE_CLASSES,
    RetrySettings,
    classify_failure,
    is_retryable,
    retry_delays,
    retry_settings,
)
from ops_pipeline.core.execution.timeouts import StepTimeoutError


@pytest.mark.parametrize(
    ("type_name", "message"),
    [
        ("ConnectionRefusedError", "[Errno 111] Connection refused"),
        ("requests.exceptions.ConnectionError", "('Connection aborted.', ConnectionResetError(104, 'reset'))"),
        ("ReadTimeout", "HTTPConnectionPool(host='asset-service', port=80): Read timed out. (read timeout=5)"),
        ("httpx.ConnectTimeout", "timed out"),
        ("TimeoutError", "The read operation timed out"),
        ("HTTPError", "503 Server Error: Service Unavailable for url: http://automation/run"),
        ("HTTPError", "429 Client Error: Too Many Requests for url: http://automation/run"),
        ("HTTPStatusError", "Server error '502 Bad Gateway' for url 'http://automation/run'"),
        ("RuntimeError", "automation service answered HTTP 504"),
        ("OperationalError", "(psycopg2.errors.DeadlockDetected) deadlock detected\nDETAIL: Process 1 waits"),
        ("OperationalError", "could not serialize access due to concurrent update"),
        ("OperationalError", "(1205, 'Lock wait timeout exceeded; try restarting transaction')"),
        ("OperationalError", "canceling statement due to lock timeout"),
        ("OperationalError", "database is locked"),
        ("OperationalError", 'connection to server at "127.0.0.1", port 5432 failed: Connection refused'),
        ("SerializationFailure", "anything"),
    ],
)
def test_transient_failures_are_retried(type_name: str, message: str) -> None:
    assert classify_failure(type_name, message) == "transient"
    assert is_retryable(classify_failure(type_name, message))


@pytest.mark.parametrize(
    ("type_name", "message", "expected"),
    [
        ("PermissionError", "[Errno 13] Permission denied: '/etc/shadow'", "permission"),
        ("HTTPError", "401 Client Error: Unauthorized for url: http://asset-service/targets", "permission"),
        ("HTTPError", "403 Client Error: Forbidden for url: http://automation/run", "permission"),
        ("CalledProcessError", "ssh: root@db1: Permission denied (publickey)", "permission"),
        ("OperationalError", 'password authentication failed for user "ops"', "permission"),
        ("Failure", "denied by RBAC rule 'no-prod-deploys': execute plan:deploy by user:bob", "permission"),
        ("Failure", "approval for step 'restart' was refused by user:carol", "permission"),
        ("AssertionError", "", "validation"),
        ("Failure", "validation failed: service nginx is not active after restart", "validation"),
        ("pydantic_core.ValidationError", "1 validation error for StepSpec", "validation"),
        ("StepTimeoutError", "step 'restart' stopped after 5 s: it reached its step timeout", "timeout"),
        ("TimeoutExpired", "Command '['sleep', '60']' timed out after 5 seconds", "timeout"),
        ("QueryCanceled", "canceling statement due to statement timeout", "timeout"),
        ("Failure", "step 'x' stopped after 2 s: it reached the execution deadline", "timeout"),
        ("KeyError", "'hostname'", "permanent"),
        ("ValueError", "invalid literal for int() with base 10: 'abc'", "permanent"),
        ("HTTPError", "404 Client Error: Not Found for url: http://asset-service/targets/9", "permanent"),
        ("HTTPError", "500 Server Error: Internal Server Error", "permanent"),
        ("RuntimeError", "processed 503 rows", "permanent"),
    ],
)
def test_other_failures_are_not_retried(type_name: str, message: str, expected: str) -> None:
    assert classify_failure(type_name, message) == expected
    assert not is_retryable(classify_failure(type_name, message))


def test_only_transient_is_retryable() -> None:
    assert [name for name in FAILURE_CLASSES if is_retryable(name)] == ["transient"]


def test_our_own_exceptions_classify_by_type_and_by_message() -> None:
    timeout = StepTimeoutError("restart", 5)
    denied = AccessDenied(Decision(False, "default:prod", "no rule covers execute plan:x by user:bob"))
    assert classify_failure(type(timeout).__name__, str(timeout)) == "timeout"
    assert classify_failure("Failure", str(timeout)) == "timeout"  # re-raised as dg.Failure(str(error))
    assert classify_failure(type(denied).__name__, str(denied)) == "permission"
    assert classify_failure("Failure", str(denied)) == "permission"


def test_a_hint_overrides_type_and_message() -> None:
    assert classify_failure("ConnectionRefusedError", "Connection refused", hint="permanent") == "permanent"
    assert classify_failure("KeyError", "x", hint="Transient") == "transient"
    assert classify_failure("KeyError", "x", hint="retryable") == "transient"  # the control loop's alias
    with pytest.raises(ValueError, match="must be one of transient, permanent"):
        classify_failure("KeyError", "x", hint="flaky")


@given(type_name=st.text(max_size=40), message=st.text(max_size=400))
def test_any_failure_gets_exactly_one_known_class(type_name: str, message: str) -> None:
    assert classify_failure(type_name, message) in FAILURE_CLASSES


# ---- retry schedule


def test_retry_settings_count_retries_not_attempts() -> None:
    assert retry_settings(3, 2.0) == RetrySettings(
        max_retries=2, delay_s=2.0, backoff="exponential", jitter="plus_minus"
    )
    assert retry_settings(1, 1).max_retries == 0


@pytest.mark.parametrize(
    ("attempts", "delay_s", "waits"),
    [(1, 1.0, ()), (3, 1.0, (1.0, 3.0)), (5, 2.0, (2.0, 6.0, 14.0, 30.0)), (3, 0.0, (0.0, 0.0))],
)
def test_nominal_waits_follow_dagsters_exponential_backoff(
    attempts: int, delay_s: float, waits: tuple[float, ...]
) -> None:
    assert retry_delays(retry_settings(attempts, delay_s)) == waits


@pytest.mark.parametrize(("attempts", "delay_s"), [(0, 1.0), (-1, 1.0), (True, 1.0), (2.0, 1.0), (3, -1.0)])
def test_invalid_retry_settings_are_refused(attempts: int, delay_s: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        retry_settings(attempts, delay_s)
