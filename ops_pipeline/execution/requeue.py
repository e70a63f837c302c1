"""Requeuing a dead letter: its execution runs again from where it failed, once.

In one transaction: the dead letter is claimed (a second requeue finds it claimed and is refused), RBAC is
asked whether the actor may `requeue` the plan, the execution is reopened (steps that did not succeed back to
`pending`), and a run re-executing the failed run from its failure is launched, tagged with the execution. If
the launch fails, nothing of it stays. The reopened execution has no execution deadline: its run may wait in
Dagster's queue longer than a fast plan's whole timeout; each step keeps its step timeout and the run its
`dagster/max_runtime` backstop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ops_pipeline.core.execution.rbac import RbacPolicy
from ops_pipeline.execution.access import actor_id, check_on_execution
from ops_pipeline.store.dead_letters import (
    DeadLetter,
    claim_requeue,
    dead_letter,
    dead_letters_of,
    record_requeue_run,
)
from ops_pipeline.store.executions import execution, record_event
from ops_pipeline.store.requeues import reopen_for_requeue

EXECUTION_TAG = "ops/execution_id"
ACTOR_TAG = "ops/actor"
REQUEUE_TAG = "ops/requeue_of"

# (parent run id, tags) -> the new run's id
Launch = Callable[[str, dict[str, str]], str]


class RequeueRefused(ValueError):
    pass


@dataclass(frozen=True)
class Requeued:
    dead_letter: DeadLetter
    run_id: str


def find_dead_letter(conn: sa.Connection, reference: str) -> DeadLetter:
    """A dead letter by its id, or an execution's newest one by the execution id."""
    if reference.isdigit():
        return dead_letter(conn, int(reference))
    found = dead_letters_of(conn, reference)
    if not found:
        raise LookupError(f"no dead letter {reference!r} (neither a dead letter id nor an execution that has one)")
    waiting = [d for d in found if d.requeued_at is None]
    return (waiting or found)[-1]


def requeue(
    engine: sa.Engine,
    reference: str,
    *,
    actor: str,
    now: datetime,
    launch: Launch,
    rbac: RbacPolicy,
) -> Requeued:
    actor = actor_id(actor)
    with engine.connect() as conn:
        letter = find_dead_letter(conn, reference)
        current = execution(conn, letter.execution_id)
    _refuse_if_requeued(letter)
    check_on_execution(engine, rbac, current, actor=actor, action="requeue", now=now)
    with engine.begin() as conn:
        if not claim_requeue(conn, letter.id, actor, now):
            _refuse_if_requeued(dead_letter(conn, letter.id))
        reason = f"dead letter {letter.id} ({letter.reason}): re-executing run {letter.run_id} from its failure"
        if not reopen_for_requeue(
            conn,
            current.id,
            actor=actor,
            now=now,
            parent_run_id=letter.run_id,
            reason=reason,
        ):
            status = execution(conn, current.id).status
            raise RequeueRefused(
                f"dead letter {letter.id}: execution {current.id} is {status}; only a failed or timed-out "
                "execution can be requeued"
            )
        tags = {EXECUTION_TAG: current.id, ACTOR_TAG: actor, REQUEUE_TAG: str(letter.id)}
        run_id = launch(letter.run_id, tags)
        record_requeue_run(conn, letter.id, run_id)
        record_event(conn, current.id, "requeue_run", actor, now=now, run_id=run_id, reason=f"run {run_id} launched")
    return Requeued(dead_letter=letter, run_id=run_id)


def _refuse_if_requeued(letter: DeadLetter) -> None:
    if letter.requeued_at is not None:
        raise RequeueRefused(
            f"dead letter {letter.id} (execution {letter.execution_id}) was already requeued by {letter.requeued_by} "
            f"at {letter.requeued_at:%Y-%m-%d %H:%M:%S} UTC"
            + (f" as run {letter.requeue_run_id}" if letter.requeue_run_id else "")
            + "; a requeue runs once (a new failure gets a new dead letter)"
        )
