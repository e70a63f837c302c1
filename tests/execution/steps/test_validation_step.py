"""Validation steps: an assert on an earlier step's output, and a sql_check that must return one true value;
a check that does not hold fails with failure class `validation`."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops_pipeline.execution.steps import StepFailed, run_step
from ops_pipeline.settings import SQLiteSource
from tests.execution.steps.conftest import Harness, step

COUNT_OUTPUT = {"rows": [{"order_count": 12}], "rowcount": 1, "columns": ["order_count"], "truncated": False}


def assertion(op: str, value: object = None, path: str = "rows[0].order_count") -> object:
    check: dict[str, object] = {"step": "count_orders", "path": path, "op": op}
    if op != "truthy":
        check["value"] = value
    return step(type="validation", **{"assert": check})


def test_an_assertion_that_holds_passes(harness: Harness) -> None:
    output = run_step(assertion("gt", 0), harness.context(outputs={"count_orders": COUNT_OUTPUT}))
    assert output == {"passed": True, "message": "count_orders.rows[0].order_count is 12; expected > 0: holds"}


@pytest.mark.parametrize(
    ("check", "message"),
    [
        (("lt", 5), r"count_orders.rows\[0\].order_count is 12; expected < 5: fails"),
        (
            ("eq", 12, "rows[1].order_count"),
            r"count_orders.rows\[1\].order_count: the output has nothing at 'rows\[1\]'",
        ),
    ],
)
def test_an_assertion_that_fails_is_a_validation_failure(harness: Harness, check: tuple, message: str) -> None:
    with pytest.raises(StepFailed, match=r"validation failed: " + message) as failed:
        run_step(assertion(*check), harness.context(outputs={"count_orders": COUNT_OUTPUT}))
    assert failed.value.failure_class == "validation"


def test_an_assertion_on_a_step_that_has_not_run_fails(harness: Harness) -> None:
    with pytest.raises(StepFailed, match=r"step 'count_orders' has no output to check") as failed:
        run_step(assertion("truthy"), harness.context())
    assert failed.value.failure_class == "validation"


@pytest.fixture
def shop(harness: Harness, tmp_path: Path) -> Harness:
    path = tmp_path / "shop.db"
    harness.sources["shop"] = SQLiteSource(type="sqlite", path=str(path))
    with harness.connect("shop") as session:
        session.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT)")
        session.execute("INSERT INTO orders (status) VALUES ('paid'), ('paid'), ('cancelled')")
        session.connection.commit()
    return harness


def sql_check(statement: str, **params: object) -> object:
    return step(type="validation", sql_check={"source": "shop", "statement": statement, "params": params})


def test_a_sql_check_returning_true_passes(shop: Harness) -> None:
    check = sql_check("SELECT count(*) = 2 FROM orders WHERE status = :status", status="{{ params.status }}")
    assert run_step(check, shop.context(parameters={"status": "paid"})) == {"passed": True, "value": 1}


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("SELECT count(*) = 5 FROM orders", r"returned 0, not a true value"),
        ("SELECT id FROM orders", r"must return one row of one column, it returned 3 row\(s\) of 1 column\(s\)"),
        ("SELECT 1, 2", r"must return one row of one column, it returned 1 row\(s\) of 2 column\(s\)"),
        ("SELECT id FROM orders WHERE id < 0", r"must return one row of one column, it returned 0 row\(s\)"),
    ],
)
def test_a_sql_check_that_does_not_hold_fails(shop: Harness, statement: str, message: str) -> None:
    with pytest.raises(StepFailed, match=r"validation failed: sql_check on 'shop' " + message) as failed:
        run_step(sql_check(statement), shop.context())
    assert failed.value.failure_class == "validation"


def test_a_sql_check_never_changes_the_data(shop: Harness) -> None:
    with pytest.raises(StepFailed):
        run_step(sql_check("DELETE FROM orders"), shop.context())
    with shop.connect("shop") as session:
        assert session.rows("SELECT count(*) FROM orders") == [(3,)]
