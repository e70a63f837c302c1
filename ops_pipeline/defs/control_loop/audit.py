"""Every recovery action is audited: a row opened when its op starts (actor, trigger, the run doing it) and
closed with its outcome; a refusal ends the run failed with the reason, and is recorded as refused."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import sqlalchemy as sa

from ops_pipeline.core.control_loop import TriggerError, parse_trigger
from ops_pipeline.defs.control_loop.action_config import ActionConfig
from ops_pipeline.defs.execution import tags
from ops_pipeline.execution.recovery.continuation import ActionRefused
from ops_pipeline.store.control_loop import finish_action, start_action
from ops_pipeline.store.executions import UnknownExecution


@dataclass
class ActionResult:
    """What the op fills in as it goes; recorded when the action ends."""

    outcome: str = ""
    result_execution_id: str | None = None
    result_plan_version: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


def actor_of(context: dg.OpExecutionContext, config: ActionConfig) -> str:
    return config.actor or tags.actor_of(dict(context.run.tags), "user:launchpad")


def _trigger_of(config: ActionConfig) -> tuple[str, str | None]:
    if not config.trigger_json:
        return "manual", None
    try:
        trigger = parse_trigger(json.loads(config.trigger_json))
    except (TriggerError, ValueError) as error:
        raise dg.Failure(description=f"trigger_json: {error}", allow_retries=False) from None
    return trigger.kind, trigger.fingerprint


@contextmanager
def audited(
    context: dg.OpExecutionContext, engine: sa.Engine, action: str, config: ActionConfig
) -> Iterator[ActionResult]:
    kind, fingerprint = _trigger_of(config)
    with engine.begin() as conn:
        action_id = start_action(
            conn,
            action,
            config.execution_id,
            actor=actor_of(context, config),
            trigger_kind=kind,
            fingerprint=fingerprint,
            replan_event_id=config.replan_event_id or None,
            run_id=context.run_id,
            now=datetime.now(UTC),
        )
    result = ActionResult()
    finish = _finisher(engine, action_id, result)
    try:
        yield result
    except (ActionRefused, UnknownExecution) as error:
        finish("refused", str(error))
        raise dg.Failure(description=f"{action} refused: {error}", allow_retries=False) from None
    except Exception as error:
        finish("failed", f"{type(error).__name__}: {error}")
        raise
    finish("succeeded", result.outcome)
    context.log.info(f"{action} of execution {config.execution_id}: {result.outcome}")


def _finisher(engine: sa.Engine, action_id: int, result: ActionResult) -> Callable[[str, str], None]:
    def finish(status: str, outcome: str) -> None:
        with engine.begin() as conn:
            finish_action(
                conn,
                action_id,
                status,
                outcome,
                datetime.now(UTC),
                result_execution_id=result.result_execution_id,
                result_plan_version=result.result_plan_version,
                details=result.details or None,
            )

    return finish
