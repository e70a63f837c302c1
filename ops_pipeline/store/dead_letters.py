"""Dead letters in the ops store: one row per failed run of an execution that failed for good, inserted
idempotently on the run id (a sensor may see a run again when its tags change), listed and counted by reason,
and claimed once for a requeue (`UPDATE ... WHERE requeued_at IS NULL`, so two requeues cannot both win)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ops_pipeline.store.execution_tables import dead_letters, execution_events
from ops_pipeline.store.upsert import insert_for


@dataclass(frozen=True)
class DeadLetter:
    id: int
    run_id: str
    execution_id: str
    tenant: str
    plan_name: str
    plan_version: int
    reason: str
    final_status: str
    attempts: int
    last_error: str
    run_ids: list[str]
    created_at: datetime
    requeued_at: datetime | None
    requeued_by: str | None
    requeue_run_id: str | None


def insert_dead_letter(conn: sa.Connection, row: dict[str, Any]) -> bool:
    """Insert unless the run already has its dead letter; True when this call inserted it."""
    statement = insert_for(conn, dead_letters).values(**row).on_conflict_do_nothing(index_elements=["run_id"])
    return conn.execute(statement).rowcount == 1


def dead_letter(conn: sa.Connection, dead_letter_id: int) -> DeadLetter:
    row = conn.execute(sa.select(dead_letters).where(dead_letters.c.id == dead_letter_id)).first()
    if row is None:
        raise LookupError(f"no dead letter {dead_letter_id} (ops-pipeline dlq list shows them)")
    return _dead_letter(row)


def dead_letters_of(conn: sa.Connection, execution_id: str) -> list[DeadLetter]:
    query = sa.select(dead_letters).where(dead_letters.c.execution_id == execution_id).order_by(dead_letters.c.id)
    return [_dead_letter(row) for row in conn.execute(query)]


def list_dead_letters(
    conn: sa.Connection, *, tenant: str | None = None, reason: str | None = None, limit: int = 100
) -> list[DeadLetter]:
    """Newest first; `tenant` None lists every tenant's (an operator's view)."""
    query = sa.select(dead_letters).order_by(dead_letters.c.id.desc()).limit(limit)
    if tenant is not None:
        query = query.where(dead_letters.c.tenant == tenant)
    if reason is not None:
        query = query.where(dead_letters.c.reason == reason)
    return [_dead_letter(row) for row in conn.execute(query)]


def counts_by_reason(conn: sa.Connection, tenant: str | None = None) -> dict[str, tuple[int, int]]:
    """reason -> (dead letters, of which still waiting for a requeue)."""
    waiting = sa.func.sum(sa.case((dead_letters.c.requeued_at.is_(None), 1), else_=0))
    query = sa.select(dead_letters.c.reason, sa.func.count(), waiting).group_by(dead_letters.c.reason)
    if tenant is not None:
        query = query.where(dead_letters.c.tenant == tenant)
    return {reason: (int(total), int(open_ or 0)) for reason, total, open_ in conn.execute(query)}


def claim_requeue(conn: sa.Connection, dead_letter_id: int, actor: str, now: datetime) -> bool:
    """Mark the dead letter requeued by `actor`; False when it already was."""
    claimed = conn.execute(
        dead_letters.update()
        .where(dead_letters.c.id == dead_letter_id, dead_letters.c.requeued_at.is_(None))
        .values(requeued_at=now, requeued_by=actor)
    )
    return claimed.rowcount == 1


def record_requeue_run(conn: sa.Connection, dead_letter_id: int, run_id: str) -> None:
    conn.execute(dead_letters.update().where(dead_letters.c.id == dead_letter_id).values(requeue_run_id=run_id))


def runs_of_execution(conn: sa.Connection, execution_id: str) -> list[str]:
    """The Dagster runs named in the execution's audit trail, in the order they first appear."""
    query = (
        sa.select(execution_events.c.run_id, sa.func.min(execution_events.c.id).label("first"))
        .where(execution_events.c.execution_id == execution_id, execution_events.c.run_id.is_not(None))
        .group_by(execution_events.c.run_id)
        .order_by("first")
    )
    return [str(row.run_id) for row in conn.execute(query)]


def _dead_letter(row: sa.Row) -> DeadLetter:
    return DeadLetter(**{column: getattr(row, column) for column in DeadLetter.__dataclass_fields__})
