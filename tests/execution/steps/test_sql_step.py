"""SQL steps on SQLite, PostgreSQL and MariaDB: values bound by the driver (quotes, `%` and SQL in a value stay
data), commits, server-side limits at the deadline, rollback on failure, JSON-ready rows capped at 1,000, and
secrets masked in rows, logs and errors."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from dagster import DagsterExecutionInterruptedError

from ops_pipeline.execution.steps import StepFailed, run_step
from tests.execution.steps.conftest import SECRET, Harness, leaks, step
from tests.services.test_process import interrupted_after

NOTES = {
    "sqlite": "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT UNIQUE)",
    "postgresql": "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT UNIQUE)",
    "mysql": "CREATE TABLE notes (id INTEGER PRIMARY KEY, body VARCHAR(200) UNIQUE)",
}
# A statement that would run for a long time, per database.
SLOW = {
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
    "postgresql": "SELECT pg_sleep(30)",
    "mysql": "SELECT SLEEP(30)",
}
# Inserts rows, then keeps running inside the same statement, until the deadline stops it.
SLOW_INSERT = {
    "sqlite": "INSERT INTO notes (id, body) WITH RECURSIVE c(x) AS (SELECT 100 UNION ALL SELECT x + 1 FROM c) "
    "SELECT x, 'n' || x FROM c",
    "postgresql": "INSERT INTO notes (id, body) SELECT g, CASE WHEN g = 500 THEN pg_sleep(30)::text ELSE 'n' || g END "
    "FROM generate_series(100, 500) AS g",
    "mysql": "INSERT INTO notes (id, body) SELECT seq, IF(seq = 500, SLEEP(30), CONCAT('n', seq)) FROM seq_100_to_500",
}
# Statements of SLOW_INSERT still running on the server (the checking query's own text is excluded).
STILL_RUNNING = {
    "postgresql": "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() "
    "AND query LIKE '%generate_series(100, 500)%'",
    "mysql": "SELECT count(*) FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() "
    "AND INFO LIKE '%seq_100_to_500%'",
}
MANY_ROWS = {
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1500) SELECT x AS n FROM c",
    "postgresql": "SELECT g AS n FROM generate_series(1, 1500) AS g",
    "mysql": "SELECT seq AS n FROM seq_1_to_1500",
}

Sql = Callable[..., list[tuple[Any, ...]]]


def sql_step(statement: str, **params: Any) -> Any:
    return step(type="sql", source="db", statement=statement, params=params)


def test_values_are_bound_never_formatted(harness: Harness, database: str, sql: Sql) -> None:
    sql(NOTES[database])
    tricky = "it's 100% 'quoted'; DROP TABLE notes; -- %s %(x)s ?"
    insert = sql_step("INSERT INTO notes (id, body) VALUES (:id, :body)", id="{{ params.n }}", body="{{ params.text }}")
    written = run_step(insert, harness.context(parameters={"n": 7, "text": tricky}))
    assert written == {"rows": [], "rowcount": 1, "columns": [], "truncated": False}
    query = sql_step("SELECT id, body, '50%' AS pct FROM notes WHERE body = :body AND id = :id", body=tricky, id=7)
    found = run_step(query, harness.context())
    assert found["rows"] == [{"id": 7, "body": tricky, "pct": "50%"}]
    assert (found["rowcount"], found["columns"]) == (1, ["id", "body", "pct"])


def test_a_successful_statement_is_committed(harness: Harness, database: str, sql: Sql) -> None:
    sql(NOTES[database])
    run_step(sql_step("INSERT INTO notes (id, body) VALUES (:id, 'kept')", id=1), harness.context())
    assert sql("SELECT body FROM notes") == [("kept",)]


def test_a_failing_statement_writes_nothing(harness: Harness, database: str, sql: Sql) -> None:
    sql(NOTES[database])
    duplicate = sql_step("INSERT INTO notes (id, body) VALUES (10, 'a'), (11, 'b'), (10, 'c')")
    with pytest.raises(StepFailed, match=r"source 'db': ") as failed:
        run_step(duplicate, harness.context())
    assert failed.value.failure_class == "permanent"
    assert sql("SELECT count(*) FROM notes") == [(0,)]


def test_a_slow_statement_is_stopped_by_the_server_at_the_deadline(harness: Harness, database: str) -> None:
    started = time.monotonic()
    with pytest.raises(StepFailed, match=r"source 'db': .*limit") as failed:
        run_step(sql_step(SLOW[database]), harness.context(budget_s=1.0))
    assert failed.value.failure_class == "timeout"
    assert time.monotonic() - started < 2.0


def test_rows_written_before_the_deadline_are_rolled_back(harness: Harness, database: str, sql: Sql) -> None:
    sql(NOTES[database])
    with pytest.raises(StepFailed) as failed:
        run_step(sql_step(SLOW_INSERT[database]), harness.context(budget_s=1.0))
    assert failed.value.failure_class == "timeout"
    assert sql("SELECT count(*) FROM notes") == [(0,)]


def test_a_terminated_run_stops_the_statement_at_once_and_writes_nothing(
    harness: Harness, database: str, sql: Sql
) -> None:
    sql(NOTES[database])
    started = time.monotonic()
    with pytest.raises(DagsterExecutionInterruptedError), interrupted_after(0.5, DagsterExecutionInterruptedError):
        run_step(sql_step(SLOW_INSERT[database]), harness.context(budget_s=60))
    assert time.monotonic() - started < 1.5
    assert sql("SELECT count(*) FROM notes") == [(0,)]
    if database in STILL_RUNNING:  # the server stopped it too (a killed query takes a moment to go)
        stop = time.monotonic() + 3
        while sql(STILL_RUNNING[database]) != [(0,)] and time.monotonic() < stop:
            time.sleep(0.1)
        assert sql(STILL_RUNNING[database]) == [(0,)]


def test_rows_are_capped_at_a_thousand_and_counted(harness: Harness, database: str) -> None:
    output = run_step(sql_step(MANY_ROWS[database]), harness.context())
    assert len(output["rows"]) == 1000 and output["rows"][-1] == {"n": 1000}
    assert (output["rowcount"], output["truncated"]) == (1500, True)


def test_a_secret_bound_as_a_value_is_masked_in_rows_logs_and_errors(harness: Harness, database: str, sql: Sql) -> None:
    sql(NOTES[database])
    insert = sql_step("INSERT INTO notes (id, body) VALUES (:id, :body)", id=1, body="{{ secret:env:OPS_TEST_SECRET }}")
    run_step(insert, harness.context())
    assert sql("SELECT body FROM notes") == [(SECRET,)]  # the database holds the real value
    with pytest.raises(StepFailed) as duplicate:  # the database's error message may quote the value
        run_step(
            sql_step("INSERT INTO notes (id, body) VALUES (2, :body)", body="{{ secret:env:OPS_TEST_SECRET }}"),
            harness.context(),
        )
    selected = run_step(sql_step("SELECT body FROM notes WHERE id = :id", id=1), harness.context())
    assert selected["rows"] == [{"body": "***"}]
    assert leaks(json.dumps(selected), duplicate.value, *harness.logs) == []


@pytest.mark.parametrize("database", ["postgresql", "mysql"], indirect=True)
def test_values_come_back_ready_for_json(harness: Harness, database: str) -> None:
    statement = (
        "SELECT CAST(12.50 AS DECIMAL(10, 2)) AS price, CAST(3 AS DECIMAL(10, 0)) AS whole, "
        "CAST('2024-03-01' AS DATE) AS day, NULL AS nothing"
    )
    output = run_step(sql_step(statement), harness.context())
    assert output["rows"] == [{"price": 12.5, "whole": 3, "day": "2024-03-01", "nothing": None}]
    json.dumps(output)


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_an_unreachable_server_is_transient(harness: Harness, database: str, closed_port: int) -> None:
    harness.sources["db"] = harness.sources["db"].model_copy(update={"port": closed_port})
    with pytest.raises(StepFailed, match=r"source 'db': unreachable") as failed:
        run_step(sql_step("SELECT 1"), harness.context())
    assert failed.value.failure_class == "transient"
