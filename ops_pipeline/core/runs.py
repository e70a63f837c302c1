"""A workflow run as the run history keeps it, whoever ran it: Dagster or an external workflow.

`ExternalRun` validates what external workflow code reports (through `log_run` or the CLI) and turns it into
a `RunRecord`; bad input raises a ValueError that names the field and the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

RunStatus = Literal["queued", "running", "success", "failure", "canceled"]
RUN_STATUSES: tuple[RunStatus, ...] = ("queued", "running", "success", "failure", "canceled")
FINISHED_STATUSES = frozenset({"success", "failure", "canceled"})
UNFINISHED_STATUSES = ("queued", "running")

# Words workflows use for the same states; the history keeps one spelling.
STATUS_ALIASES: dict[str, RunStatus] = {
    "queued": "queued",
    "pending": "queued",
    "not_started": "queued",
    "starting": "queued",
    "managed": "queued",
    "running": "running",
    "started": "running",
    "in_progress": "running",
    "canceling": "running",
    "success": "success",
    "succeeded": "success",
    "completed": "success",
    "complete": "success",
    "ok": "success",
    "failure": "failure",
    "failed": "failure",
    "error": "failure",
    "errored": "failure",
    "canceled": "canceled",
    "cancelled": "canceled",
    "aborted": "canceled",
}

MAX_JSON_BYTES = 1_000_000
MAX_JSON_DEPTH = 100


@dataclass(frozen=True)
class RunRecord:
    workflow: str
    run_id: str
    origin: Literal["dagster", "external"]
    status: RunStatus
    created_at: datetime
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_ms: float | None = None
    inputs: dict[str, Any] | None = None
    outputs: dict[str, Any] | None = None
    tags: dict[str, str] | None = None
    step_summary: dict[str, Any] | None = None
    failure_message: str | None = None


def normalize_status(value: str) -> RunStatus:
    try:
        return STATUS_ALIASES[value.strip().lower()]
    except KeyError:
        known = ", ".join(RUN_STATUSES)
        raise ValueError(f"unknown status {value!r} (use one of {known}, or a common alias)") from None


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        raise ValueError("timestamps must carry a timezone (e.g. 2026-11-22T10:00:00+00:00)")
    return moment


class ExternalRun(BaseModel):
    """What an external workflow reports about one of its runs."""

    model_config = ConfigDict(extra="forbid")

    workflow: str = Field(min_length=1, max_length=300)
    run_id: str = Field(min_length=1, max_length=200)
    status: RunStatus
    inputs: dict[str, Any] | None = None
    outputs: dict[str, Any] | None = None
    duration_ms: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    started_at: datetime | None = None
    ended_at: datetime | None = None
    created_at: datetime | None = None
    node_logs: list[dict[str, Any]] | None = Field(default=None, description="one entry per node or step")
    failure_message: str | None = None
    tags: dict[str, str] | None = None

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, value: object) -> RunStatus:
        if not isinstance(value, str):
            raise ValueError("must be a string")
        return normalize_status(value)

    @field_validator("workflow", "run_id")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if value != value.strip():
            raise ValueError("must not start or end with whitespace")
        if any(not character.isprintable() for character in value):
            raise ValueError("must not contain tabs, line breaks or other control characters")
        return value

    @field_validator("started_at", "ended_at", "created_at")
    @classmethod
    def _timezone(cls, value: datetime | None) -> datetime | None:
        return _aware(value)

    @field_validator("inputs", "outputs", "node_logs")
    @classmethod
    def _json_sized(cls, value: Any) -> Any:
        if value is not None:
            if json_depth(value) > MAX_JSON_DEPTH:
                raise ValueError(f"is nested more than {MAX_JSON_DEPTH} levels deep")
            try:
                size = len(json.dumps(value, allow_nan=False))
            except (TypeError, ValueError) as error:
                raise ValueError(f"must be JSON-serialisable, without NaN or Infinity ({error})") from None
            if size > MAX_JSON_BYTES:
                raise ValueError(f"is {size} bytes of JSON; the limit is {MAX_JSON_BYTES}")
        return value

    @model_validator(mode="after")
    def _times_agree(self) -> ExternalRun:
        if self.started_at and self.ended_at and self.ended_at < self.started_at:
            raise ValueError("ended_at is before started_at")
        return self

    def to_record(self, now: datetime | None = None) -> RunRecord:
        duration = self.duration_ms
        if duration is None and self.started_at and self.ended_at:
            duration = (self.ended_at - self.started_at).total_seconds() * 1000.0
        created = self.created_at or self.started_at or now or datetime.now(UTC)
        return RunRecord(
            workflow=self.workflow,
            run_id=self.run_id,
            origin="external",
            status=self.status,
            created_at=created,
            started_at=self.started_at,
            ended_at=self.ended_at,
            duration_ms=duration,
            inputs=self.inputs,
            outputs=self.outputs,
            tags=self.tags,
            step_summary=summarize_nodes(self.node_logs) if self.node_logs is not None else None,
            failure_message=self.failure_message,
        )


def json_depth(value: Any) -> int:
    """How deeply lists and mappings nest in `value` (a scalar is 0), without recursion: input may be hostile."""
    deepest, pending = 0, [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list | tuple):
            deepest = max(deepest, depth + 1)
            pending.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def parse_external_run(data: dict[str, Any]) -> ExternalRun:
    """Validate a reported run; the ValueError lists each bad field and why."""
    try:
        return ExternalRun.model_validate(data)
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(p) for p in e['loc']) or 'run'}: {e['msg'].removeprefix('Value error, ')}"
            for e in error.errors()
        ]
        raise ValueError("invalid run: " + "; ".join(problems)) from None


def summarize_nodes(nodes: list[dict[str, Any]], keep: int = 50) -> dict[str, Any]:
    """Counts per status and the first `keep` nodes, so one run's summary stays small."""
    statuses: dict[str, int] = {}
    for node in nodes:
        status = str(node.get("status", "unknown"))
        statuses[status] = statuses.get(status, 0) + 1
    return {"nodes": len(nodes), "by_status": statuses, "first": nodes[:keep]}
