"""Command steps: the argv (templates rendered, secrets resolved just now) runs on the step's target through
the automation service. Output is masked and capped; a non-zero exit fails the step, as a permanent failure
unless the service says otherwise; a command still running at the deadline is stopped with its children."""

from __future__ import annotations

import shlex
import time
from typing import Any

from ops_pipeline.core.execution.deadline import Deadline
from ops_pipeline.core.plans.steps import CommandStep
from ops_pipeline.core.plans.templates import render
from ops_pipeline.execution.steps.base import StepContext, capped_text, excerpt
from ops_pipeline.services import OUTPUT_CAP_BYTES, CommandTimedOut


def run_command(step: CommandStep, context: StepContext, deadline: Deadline) -> dict[str, Any]:
    automation = context.services.automation
    if automation is None:
        raise context.fail(f"command step {step.id!r}: no automation service is configured to reach {step.target!r}")
    argv = [render(item, context.parameters, context.resolve_secret) for item in step.argv]
    # Each item masked before quoting: quoting splits a secret holding a quote into pieces no masker would know.
    shown = shlex.join(context.masker.mask(item) for item in argv)
    context.say(f"running {shown} on target {step.target!r} (budget {deadline.budget_s:g} s)")
    started = time.monotonic()
    try:
        result = automation.run(step.target, argv, deadline)
    except CommandTimedOut as stopped:
        output = _output(-1, stopped.stdout, stopped.stderr, truncated=False, context=context)
        printed = excerpt(stopped.stderr or stopped.stdout)
        raise context.fail(str(stopped) + (f"; it printed: {printed}" if printed else ""), "timeout", output) from None
    output = _output(result.exit_code, result.stdout, result.stderr, truncated=result.truncated, context=context)
    elapsed = time.monotonic() - started
    if result.exit_code != 0:
        printed = excerpt(str(output["stderr"]) or str(output["stdout"]))
        raise context.fail(
            f"{argv[0]} on target {step.target!r} exited {result.exit_code} after {elapsed:.2f} s"
            + (f": {printed}" if printed else ""),
            result.failure_class or "permanent",
            output,
        )
    context.say(f"{argv[0]} on target {step.target!r} exited 0 after {elapsed:.2f} s")
    return output


def _output(exit_code: int, stdout: str, stderr: str, *, truncated: bool, context: StepContext) -> dict[str, Any]:
    # Masked whole before the cut, so a cut never leaves half a secret.
    out, out_cut = capped_text(context.masker.mask(stdout), OUTPUT_CAP_BYTES)
    err, err_cut = capped_text(context.masker.mask(stderr), OUTPUT_CAP_BYTES)
    return {"exit_code": exit_code, "stdout": out, "stderr": err, "truncated": truncated or out_cut or err_cut}
