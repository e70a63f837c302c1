"""Validation steps: an `assert` on an earlier step's output, or a `sql_check` whose query must return one row
of one column holding a true value (run in a transaction that is rolled back). A check that does not hold fails
the step with failure class `validation`, which is never retried."""

from __future__ import annotations

from typing import Any

from ops_pipeline.core.execution.deadline import Deadline, alarm_deadline
from ops_pipeline.core.plans.assertions import evaluate_assertion
from ops_pipeline.core.plans.steps import AssertCheck, SqlCheck, ValidationStep
from ops_pipeline.execution.steps.base import StepContext
from ops_pipeline.execution.steps.sql import run_statement


def run_validation(step: ValidationStep, context: StepContext, deadline: Deadline) -> dict[str, Any]:
    if step.assert_ is not None:
        return _check_assertion(step.assert_, context, deadline)
    assert step.sql_check is not None  # the model requires exactly one of the two
    return _check_sql(step.sql_check, context, deadline)


def _check_assertion(check: AssertCheck, context: StepContext, deadline: Deadline) -> dict[str, Any]:
    if check.step not in context.outputs:
        raise context.fail(
            f"validation failed: step {check.step!r} has no output to check (it has not run in this execution)",
            "validation",
        )
    with alarm_deadline(deadline):
        outcome = evaluate_assertion(check, context.outputs[check.step])
    if not outcome.passed:
        raise context.fail(f"validation failed: {outcome.message}", "validation", {"passed": False})
    context.say(f"validation passed: {outcome.message}")
    return {"passed": True, "message": context.masker.mask(outcome.message)}


def _check_sql(check: SqlCheck, context: StepContext, deadline: Deadline) -> dict[str, Any]:
    result = run_statement(check.source, check.statement, check.params, context, deadline, commit=False)
    shape = f"{len(result.rows)} row(s) of {len(result.columns)} column(s)"
    if result.rowcount != 1 or len(result.columns) != 1:
        raise context.fail(
            f"validation failed: sql_check on {check.source!r} must return one row of one column, it returned {shape}",
            "validation",
            result.as_output(),
        )
    value = result.rows[0][result.columns[0]]
    if not value:
        raise context.fail(
            f"validation failed: sql_check on {check.source!r} returned {value!r}, not a true value",
            "validation",
            result.as_output(),
        )
    context.say(f"validation passed: sql_check on {check.source!r} returned {value!r}")
    return {"passed": True, "value": value}
