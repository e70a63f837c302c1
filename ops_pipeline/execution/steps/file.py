"""File steps: `copy` on this machine, or `transfer` of a local file to the step's target through the
automation service (a local target is a copy; an ssh target receives it over ssh). Either way the file moves in
chunks with the deadline checked between them, lands in a temporary file next to the destination, is compared
by SHA-256 with the source, and only then is renamed into place: a failure leaves nothing half-written."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ops_pipeline.core.execution.deadline import Deadline
from ops_pipeline.core.plans.steps import FileStep
from ops_pipeline.core.plans.templates import render
from ops_pipeline.execution.steps.base import StepContext
from ops_pipeline.services import ChecksumMismatch, FileCopy, copy_file


def run_file(step: FileStep, context: StepContext, deadline: Deadline) -> dict[str, Any]:
    source = Path(render(step.source_path, context.parameters, context.resolve_secret)).expanduser()
    destination = render(step.destination_path, context.parameters, context.resolve_secret)
    where = f"target {step.target!r}" if step.mode == "transfer" else "this machine"
    context.say(f"{step.mode} {source} to {destination} on {where} (budget {deadline.budget_s:g} s)")
    started = time.monotonic()
    try:
        copied = _move(step, context, source, destination, deadline)
    except ChecksumMismatch as mismatch:
        raise context.fail(str(mismatch)) from None
    except OSError as error:
        raise context.fail(f"{step.mode} {source} to {destination}: {error.strerror or error}") from None
    context.say(
        f"{step.mode} of {copied.bytes} bytes to {copied.destination} verified (sha256 {copied.sha256}) "
        f"in {time.monotonic() - started:.2f} s"
    )
    return {"bytes": copied.bytes, "sha256": copied.sha256, "destination": copied.destination}


def _move(step: FileStep, context: StepContext, source: Path, destination: str, deadline: Deadline) -> FileCopy:
    if step.mode == "copy":
        return copy_file(source, Path(destination).expanduser(), deadline)
    automation = context.services.automation
    if automation is None or step.target is None:
        raise context.fail(f"file step {step.id!r}: no automation service is configured to reach {step.target!r}")
    return automation.push_file(step.target, source, destination, deadline)
