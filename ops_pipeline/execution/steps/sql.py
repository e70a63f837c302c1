"""SQL steps: one statement on a registered source, its `:name` placeholders bound by the driver (values from
`params`, rendered with `render_value`, so `{{ params.limit }}` binds the integer), never formatted into the
text; committed on success, rolled back on any failure; stopped by the server at the deadline (each database's
`statement_deadline`; the SIGALRM deadline where a database has none). Rows come back as JSON-ready mappings,
at most ROW_CAP of them.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as time_of_day
from decimal import Decimal
from typing import Any

from ops_pipeline.core.execution.artifacts import jsonable
from ops_pipeline.core.execution.deadline import Deadline, alarm_deadline
from ops_pipeline.core.execution.retries import classify_failure
from ops_pipeline.core.plans.steps import SqlStep
from ops_pipeline.core.plans.templates import render_value
from ops_pipeline.execution.steps.base import StepContext, StepFailed
from ops_pipeline.sources.base import SourceError
from ops_pipeline.sources.sql import Session, execute

ROW_CAP = 1000
FETCH_ROWS = 1000
SOURCE_ERROR_CLASSES = {"unreachable": "transient", "auth_failed": "permission", "unknown_database": "permanent"}


@dataclass(frozen=True)
class StatementResult:
    columns: list[str]
    rows: list[dict[str, Any]]
    rowcount: int
    truncated: bool

    def as_output(self) -> dict[str, Any]:
        return {"rows": self.rows, "rowcount": self.rowcount, "columns": self.columns, "truncated": self.truncated}


def run_sql(step: SqlStep, context: StepContext, deadline: Deadline) -> dict[str, Any]:
    context.say(f"sql on source {step.source!r} (budget {deadline.budget_s:g} s)")
    started = time.monotonic()
    result = run_statement(step.source, step.statement, step.params, context, deadline, commit=True)
    context.say(
        f"sql on source {step.source!r}: {result.rowcount} row(s), committed after {time.monotonic() - started:.2f} s"
    )
    return result.as_output()


def run_statement(
    source: str,
    statement: str,
    params: Mapping[str, object],
    context: StepContext,
    deadline: Deadline,
    *,
    commit: bool,
) -> StatementResult:
    """Run one statement in its own transaction: committed when `commit` and it succeeded, else rolled back."""
    values = {
        name: render_value(value, context.parameters, context.resolve_secret) if isinstance(value, str) else value
        for name, value in params.items()
    }
    try:
        with context.connect_source(source) as session:
            sql, bound = session.database.bind_named(statement, values)
            try:
                result = _within_deadline(session, sql, bound, deadline)
                if commit:
                    session.connection.commit()
                else:
                    session.connection.rollback()
            except BaseException:
                with contextlib.suppress(Exception):
                    session.connection.rollback()
                raise
    except SourceError as error:
        raise context.fail(_message(error, deadline), _failure_class(error, deadline)) from None
    except StepFailed:
        raise
    except Exception as error:  # a driver error the source's connection did not translate
        reason = f"{type(error).__name__}: {error}"
        failure_class = "timeout" if deadline.expired() else classify_failure(type(error).__name__, str(error))
        raise context.fail(f"source {source!r}: {reason}", failure_class) from None
    return result


def _within_deadline(session: Session, sql: str, bound: list[Any] | None, deadline: Deadline) -> StatementResult:
    remaining = deadline.remaining()
    if remaining <= 0:
        raise deadline.timeout_error()
    server_limit = session.database.statement_deadline(session, remaining)
    with server_limit if server_limit is not None else alarm_deadline(deadline):
        cursor = session.connection.cursor()
        try:
            execute(cursor, sql, bound)
            return _result(cursor)
        finally:
            cursor.close()


def _result(cursor: Any) -> StatementResult:
    if cursor.description is None:  # no result set: an INSERT, UPDATE, DELETE or DDL
        return StatementResult([], [], max(cursor.rowcount, 0), False)
    columns = _distinct_names([str(column[0]) for column in cursor.description])
    fetched = cursor.fetchmany(ROW_CAP + 1)
    truncated = len(fetched) > ROW_CAP
    rows = [dict(zip(columns, (json_value(value) for value in row), strict=True)) for row in fetched[:ROW_CAP]]
    rowcount = len(fetched)
    if truncated:
        rowcount = cursor.rowcount if cursor.rowcount >= len(fetched) else rowcount + _count_rest(cursor)
    return StatementResult(columns, rows, rowcount, truncated)


def _count_rest(cursor: Any) -> int:
    counted = 0
    while chunk := cursor.fetchmany(FETCH_ROWS):
        counted += len(chunk)
    return counted


def _distinct_names(names: list[str]) -> list[str]:
    """Column names as mapping keys: a repeated name gets a suffix (`id`, `id_2`), so no value is lost."""
    seen: dict[str, int] = {}
    distinct = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        distinct.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return distinct


def json_value(value: object) -> Any:
    """A database value as JSON: exact decimals as numbers, dates as ISO text, bytes as text or hex."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            return str(value)
        if value == value.to_integral_value() and abs(value) < 2**53:
            return int(value)
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return "\\x" + raw.hex()
    if isinstance(value, datetime | date | time_of_day):
        return value.isoformat()
    return jsonable(value)


def _failure_class(error: SourceError, deadline: Deadline) -> Any:
    if error.kind == "timeout":
        return "timeout" if deadline.expired() else "transient"
    return SOURCE_ERROR_CLASSES.get(error.kind) or classify_failure("SourceError", error.detail)


def _message(error: SourceError, deadline: Deadline) -> str:
    if error.kind == "timeout" and deadline.expired():
        return f"source {error.source!r}: {error.detail} (the step's budget was {deadline.budget_s:g} s)"
    return str(error)
