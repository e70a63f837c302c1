"""A validation step's assert, evaluated on the output of the step it checks."""

from __future__ import annotations

from typing import Any

import pytest

from ops_pipeline.core.plans.assertions import evaluate_assertion, value_at
from ops_pipeline.core.plans.steps import AssertCheck

OUTPUT = {"rows": [{"order_count": 12, "status": "delivered"}], "row_count": 1, "tags": ["a", "b"], "ok": True}


def check(op: str, value: Any = None, path: str = "rows[0].order_count") -> AssertCheck:
    return AssertCheck.model_validate({"step": "count_orders", "path": path, "op": op, "value": value})


@pytest.mark.parametrize(
    ("assertion", "passed"),
    [
        (check("gt", 0), True),
        (check("gt", 12), False),
        (check("ge", 12), True),
        (check("lt", 12.5), True),
        (check("le", 11), False),
        (check("eq", 12.0), True),
        (check("ne", 12), False),
        (check("eq", True, "ok"), True),
        (check("eq", 1, "ok"), False),  # a boolean never equals a number
        (check("gt", "10"), False),  # a number is not compared with text
        (check("gt", "a", "rows[0].status"), True),
        (check("in", ["delivered", "shipped"], "rows[0].status"), True),
        (check("not_in", ["delivered"], "rows[0].status"), False),
        (check("contains", "liver", "rows[0].status"), True),
        (check("contains", "b", "tags"), True),
        (check("contains", "row_count", ""), True),
        (check("truthy", path="rows"), True),
        (check("truthy", path="tags[-1]"), True),
    ],
)
def test_operators(assertion: AssertCheck, passed: bool) -> None:
    assert evaluate_assertion(assertion, OUTPUT).passed is passed


def test_the_message_shows_the_value_and_the_expectation() -> None:
    outcome = evaluate_assertion(check("gt", 100), OUTPUT)
    assert outcome.message == "count_orders.rows[0].order_count is 12; expected > 100: fails"


def test_a_missing_path_fails_naming_where_it_stopped() -> None:
    outcome = evaluate_assertion(check("gt", 0, "rows[3].order_count"), OUTPUT)
    assert (outcome.passed, outcome.message) == (
        False,
        "count_orders.rows[3].order_count: the output has nothing at 'rows[3]'",
    )
    assert value_at(OUTPUT, "") is OUTPUT
