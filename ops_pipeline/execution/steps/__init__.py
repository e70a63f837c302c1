"""Step runners: what each of a plan's five step types does to the world, free of Dagster.

    run_step(step, context) -> dict     the step's JSON-ready, masked output, or StepFailed

Each step type enforces its own deadline (Dagster has none): a command's process group is killed, HTTP reads
time out and the body is read against the deadline, SQL gets a server-side statement limit, a file moves in
chunks checked against the deadline, and the rest runs under the SIGALRM deadline (`alarm_deadline`). A step
past its deadline fails with failure class `timeout`. An interruption (Dagster raises
`DagsterExecutionInterruptedError`, a BaseException, when the run is terminated) passes through untouched
after the runner's cleanup: a command's children are killed, a transaction rolled back, a partial file removed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ops_pipeline.core.execution.artifacts import jsonable
from ops_pipeline.core.execution.deadline import Deadline, alarm_deadline
from ops_pipeline.core.execution.retries import classify_failure
from ops_pipeline.core.execution.timeouts import StepTimeoutError
from ops_pipeline.core.plans.steps import AnyStep
from ops_pipeline.core.plans.templates import TemplateError
from ops_pipeline.core.secrets import SecretError
from ops_pipeline.execution.steps.base import (
    StepContext,
    StepFailed,
    StepServices,
    registering_resolver,
)
from ops_pipeline.execution.steps.command import run_command
from ops_pipeline.execution.steps.file import run_file
from ops_pipeline.execution.steps.http import run_http
from ops_pipeline.execution.steps.sql import run_sql
from ops_pipeline.execution.steps.validation import run_validation
from ops_pipeline.services import ServiceError

__all__ = [
    "Deadline",
    "StepContext",
    "StepFailed",
    "StepServices",
    "alarm_deadline",
    "registering_resolver",
    "run_step",
]

Runner = Callable[[Any, StepContext, Deadline], dict[str, Any]]
RUNNERS: dict[str, Runner] = {
    "command": run_command,
    "http": run_http,
    "sql": run_sql,
    "file": run_file,
    "validation": run_validation,
}


def run_step(step: AnyStep, context: StepContext) -> dict[str, Any]:
    """Run one step within `context.budget_s`; its output, masked and JSON-ready, or StepFailed."""
    if context.budget_s <= 0:
        raise StepFailed(f"step {step.id!r} has no time left before its deadline; it was not started", "timeout")
    deadline = Deadline.after(context.budget_s, step.id)
    try:
        output = RUNNERS[step.type](step, context, deadline)
    except StepFailed:
        raise
    except StepTimeoutError as error:
        raise context.fail(str(error), "timeout") from None
    except (TemplateError, SecretError) as error:
        raise context.fail(f"step {step.id!r}: {error}") from None
    except ServiceError as error:
        raise context.fail(str(error), error.failure_class) from None
    except Exception as error:
        name = type(error).__name__
        failure_class = "timeout" if deadline.expired() else classify_failure(name, str(error))
        raise context.fail(f"step {step.id!r}: {name}: {error}", failure_class) from None
    masked = context.masker.mask_value(jsonable(output))
    assert isinstance(masked, dict)
    return masked
